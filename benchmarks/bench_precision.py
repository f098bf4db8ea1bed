"""Precision of the standardizers: applied fixes that are wrong / applied fixes, per category, with the wrong ones.

A ``fix`` is written into the CRM by apply and by unattended jobs, so a wrong fix is worse than none. For every
row of the corpus (tests/data/precision/*.tsv: split, input, expected; ``=`` = must stay unchanged) the
standardizer's own decision is taken as the rule takes it: a change it is sure of is an applied fix, anything
else is a suggestion (never applied). Target: wrong / applied <= 0.2 % per category.

    python benchmarks/bench_precision.py            # tune + holdout
    python benchmarks/bench_precision.py holdout    # only the part kept out of tuning

Writes benchmarks/results/precision.json and prints the wrong fixes.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from crmclean.fields.company import normalize_company, parse_company
from crmclean.fields.names import parse_full_name
from crmclean.fields.taxid import clean_tax_id
from crmclean.fields.title import canonical_title
from crmclean.rules.standardizers.text import fix_case_sure

HERE = Path(__file__).parent
DATA = HERE.parent / "tests" / "data" / "precision"
TARGET = 0.002


def company(value: str) -> tuple[str, bool]:
    after, _ = normalize_company(value)
    return after, parse_company(value).sure


def company_case(value: str) -> tuple[str, bool]:
    style = "sentence" if re.search(r"[А-Яа-яЁё]", value) else "title"
    return fix_case_sure(value, style)  # type: ignore[arg-type]


def names(value: str) -> tuple[str, bool]:
    p = parse_full_name(value)
    return f"{p.first or ''}|{p.middle or ''}|{p.last or ''}", p.confident


def titles(value: str) -> tuple[str, bool]:
    m = canonical_title(value)
    if m.how not in ("exact", "compound"):
        return value, False  # unknown titles stay; fuzzy ones are suggestions
    cyr = bool(re.search(r"[А-Яа-яЁё]", value))
    return (m.ru if cyr else m.en) or value, True  # language: same (the default)


def taxids(value: str) -> tuple[str, bool]:
    return clean_tax_id(value), True


CATEGORIES: dict[str, Callable[[str], tuple[str, bool]]] = {
    "companies": company, "company_case": company_case, "names": names, "titles": titles, "taxids": taxids,
}


def run(split: str | None = None) -> dict[str, dict[str, object]]:
    report: dict[str, dict[str, object]] = {}
    for category, fn in CATEGORIES.items():
        rows = list(csv.DictReader((DATA / f"{category}.tsv").open(encoding="utf-8"), delimiter="\t",
                                   quoting=csv.QUOTE_NONE))
        rows = [r for r in rows if split is None or r["split"] == split]
        applied = wrong = 0
        wrong_rows = []
        for r in rows:
            value, expected = r["input"], r["expected"]
            after, sure = fn(value)
            if category == "names":
                changed = True  # a split always writes its parts
            else:
                changed = after != value
            if expected == "=":
                expected = value if category != "names" else after
            if not (sure and changed):
                continue
            applied += 1
            if after != expected:
                wrong += 1
                wrong_rows.append({"input": value, "wrote": after, "expected": expected})
        rate = wrong / applied if applied else 0.0
        report[category] = {"rows": len(rows), "applied": applied, "wrong": wrong, "wrong_rate": round(rate, 4),
                            "target_met": rate <= TARGET, "wrong_fixes": wrong_rows}
    return report


def main() -> int:
    split = sys.argv[1] if len(sys.argv) > 1 else None
    report = run(split)
    for category, r in report.items():
        print(f"{category:14} rows {r['rows']:4}  applied {r['applied']:4}  wrong {r['wrong']:3}  "
              f"wrong/applied {100 * float(r['wrong_rate']):.2f} %  {'ok' if r['target_met'] else 'OVER TARGET'}")
        for w in r["wrong_fixes"]:  # type: ignore[attr-defined]
            print(f"    WRONG  {w['input']!r} -> {w['wrote']!r} (expected {w['expected']!r})")
    out = HERE / "results" / (f"precision_{split}.json" if split else "precision.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["target_met"] for r in report.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
