"""Precision of the standardizers: applied fixes that are wrong / applied fixes, per category, with the wrong ones.

A ``fix`` is written into the CRM by apply and by unattended jobs, so a wrong fix is worse than none. For every
row of the corpus (tests/data/precision/<category>.tsv, hand-built, and <category>_public.tsv, taken from public
lists — see tests/data/precision/README.md; columns split, input, expected; ``=`` = must stay unchanged, ``~`` =
judged by the category's invariant, below) the
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
from crmclean.fields.title import canonical_title
from crmclean.rules.standardizers.text import fix_case_sure

# ``~`` rows (public lists with no hand-written answer) are judged by an invariant instead of an exact value:
#   companies: the fix changes only case, spaces and punctuation, or it keeps every word of the name (case, dots and punctuation aside) except legal-form words,
#              keeps a legal form when the input had one, and the legal form read before and after is the same;
#   titles:    the fix keeps the title's language (no Cyrillic written into a Latin title) and its words, up to
#              case, punctuation and the usual abbreviations (Sr. = Senior, Mgr = Manager, CEO = Chief Executive
#              Officer …): a jump to another role (Technical Director -> CTO) is a wrong fix.
_ABBREV = {"sr": "senior", "jr": "junior", "mgr": "manager", "asst": "assistant", "dir": "director",
           "eng": "engineer", "exec": "executive", "admin": "administrator", "coord": "coordinator",
           "rep": "representative", "spec": "specialist", "tech": "technician", "vp": "vice president",
           "svp": "senior vice president", "evp": "executive vice president", "&": "and",
           # canonical C-level titles are their own words spelled short
           "ceo": "chief executive officer", "cfo": "chief financial officer", "coo": "chief operating officer",
           "cto": "chief technology officer", "cio": "chief information officer", "cmo": "chief marketing officer"}

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


def _form_words() -> frozenset[str]:
    from crmclean.fields.company import legal_form_phrases, legal_form_variants

    return frozenset({w.casefold().replace(".", "") for v in legal_form_variants() for w in v.split()}
                     | {w.casefold() for ph in legal_form_phrases() for w in ph.split()})


_FORMS: frozenset[str] = frozenset()


def _company_ok(before: str, after: str) -> bool:
    global _FORMS
    _FORMS = _FORMS or _form_words()
    if re.sub(r"\W|_", "", before.casefold()) == re.sub(r"\W|_", "", after.casefold()):
        return True  # only case, spaces and punctuation changed (Sp Z o o. -> Sp. z o.o.)

    def split(text: str) -> tuple[list[str], list[str]]:
        words = re.findall(r"\w+", text.casefold().replace(".", "").replace("ё", "е"))
        return sorted(w for w in words if w not in _FORMS), sorted(w for w in words if w in _FORMS)

    (b_name, b_form), (a_name, a_form) = split(before), split(after)
    if b_name != a_name or (b_form and not a_form):
        return False
    return b_form == a_form or parse_company(before).legal_form == parse_company(after).legal_form


def _title_words(text: str) -> list[str]:
    words = re.findall(r"[\w&]+", text.casefold())
    return " ".join(_ABBREV.get(w, w) for w in words).split()


def _title_ok(before: str, after: str) -> bool:
    if re.search(r"[А-Яа-яЁё]", after) and not re.search(r"[А-Яа-яЁё]", before):
        return False
    return _title_words(before) == _title_words(after)


INVARIANTS: dict[str, Callable[[str, str], bool]] = {"companies": _company_ok, "titles": _title_ok}


def _through_rule(code: str, header: str) -> Callable[[list[str]], list[tuple[str, bool]]]:
    """Run one rule the way `standardize` does on a one-column file with no country (defaults.region RU)."""

    def run_rule(values: list[str]) -> list[tuple[str, bool]]:
        import polars as pl

        from crmclean.config import parse_rules
        from crmclean.standardize import standardize_table
        from crmclean.table import finalize_table

        ids = [str(i) for i in range(len(values))]
        frame = pl.DataFrame({"id": ids, header: values}, schema={"id": pl.String, header: pl.String})
        table = finalize_table(frame, source="bench.csv", kind="csv", id_column="id")
        result = standardize_table(table, parse_rules(f"standardize:\n  select: [{code}]\n"))
        fixed = result.table.frame.get_column(header).to_list()
        return [(after if after is not None else "", after != before) for before, after in
                zip(values, fixed, strict=True)]

    return run_rule


def _email_ok(before: str, after: str) -> bool:
    """An applied e-mail clean-up is right when it keeps an accepted address accepted and changes only its case."""
    from crmclean.fields.email import email_syntax_error, rfc_valid

    if email_syntax_error(before) is None:
        return email_syntax_error(after) is None and after.casefold() == before.casefold()
    if rfc_valid(before):
        return rfc_valid(after) and after.casefold() == before.casefold()
    return True  # an invalid address: cleaning it is judged by EMAIL002's own suite, not here


INVARIANTS["emails"] = _email_ok

def _flagged_by(code: str, header: str) -> Callable[[list[str]], list[str | None]]:
    """Run one check the way `validate` does on a one-column file: each value's finding message, or None."""

    def run_check(values: list[str]) -> list[str | None]:
        import polars as pl

        from crmclean.table import finalize_table
        from crmclean.validate import validate_table

        ids = [str(i) for i in range(len(values))]
        frame = pl.DataFrame({"id": ids, header: values}, schema={"id": pl.String, header: pl.String})
        table = finalize_table(frame, source="bench.csv", kind="csv", id_column="id")
        found = validate_table(table, None, select=[code]).findings
        messages = dict(zip(found.get_column("record_id").to_list(), found.get_column("message").to_list(), strict=True))
        return [messages.get(i) for i in ids]

    return run_check


# categories judged through the rule engine, whole column at once (value -> (after, applied))
BATCH: dict[str, Callable[[list[str]], list[tuple[str, bool]]]] = {
    "phones": _through_rule("PHONE001", "Phone"), "emails": _through_rule("EMAIL001", "Email"),
    "taxids": _through_rule("INN001", "ИНН"),
    # foreign VAT numbers / EINs in an English tax-id column: INN001 writes nothing, INN002 flags nothing
    "taxids_foreign": _through_rule("INN001", "Tax ID"),
}
# categories whose `=` rows must also raise no finding of a check (a wrong error: a valid value reported invalid)
FLAGS: dict[str, Callable[[list[str]], list[str | None]]] = {"taxids_foreign": _flagged_by("INN002", "Tax ID")}


CATEGORIES: dict[str, Callable[[str], tuple[str, bool]]] = {
    "companies": company, "company_case": company_case, "names": names, "titles": titles,
}


def run(split: str | None = None) -> dict[str, dict[str, object]]:
    report: dict[str, dict[str, object]] = {}
    for category in [*CATEGORIES, *BATCH]:
        rows = []
        sources: dict[str, int] = {}
        for path in sorted(DATA.glob(f"{category}*.tsv")):
            if path.stem != category and not path.stem.startswith(f"{category}_"):
                continue
            if any(other != category and other.startswith(f"{category}_") and path.stem.startswith(other)
                   for other in [*CATEGORIES, *BATCH]):
                continue  # taxids_foreign_public.tsv is its own category, not a part of taxids
            part = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
            part = [r for r in part if split is None or r["split"] == split]
            sources[path.name] = len(part)
            rows.extend(part)
        applied = wrong = 0
        wrong_rows = []
        if category in BATCH:
            batch = BATCH[category]([r["input"] for r in rows]) if rows else []
        for k, r in enumerate(rows):
            value, expected = r["input"], r["expected"]
            after, sure = batch[k] if category in BATCH else CATEGORIES[category](value)
            if category == "names":
                changed = True  # a split always writes its parts
            else:
                changed = after != value
            if expected == "=":
                expected = value if category != "names" else after
            if not (sure and changed):
                continue
            applied += 1
            if expected == "~":
                right = INVARIANTS[category](value, after)
                expected = {"companies": "(same words, same legal form)", "titles": "(same title, same language)",
                            "emails": "(accepted address stays accepted, case aside)"}[category]
            else:
                right = after == expected
            if not right:
                wrong += 1
                wrong_rows.append({"input": value, "wrote": after, "expected": expected})
        rate = wrong / applied if applied else 0.0
        report[category] = {"rows": len(rows), "sources": sources, "applied": applied, "wrong": wrong, "wrong_rate": round(rate, 4),
                            "target_met": rate <= TARGET, "wrong_fixes": wrong_rows}
        if category in FLAGS:
            flags = FLAGS[category]([r["input"] for r in rows]) if rows else []
            wrong_errors = [{"input": r["input"], "message": m} for r, m in zip(rows, flags, strict=True)
                            if m is not None and r["expected"] == "="]
            error_rate = len(wrong_errors) / len(rows) if rows else 0.0
            report[category].update({"flagged": sum(m is not None for m in flags), "wrong_errors": len(wrong_errors),
                                     "target_met": rate <= TARGET and error_rate <= TARGET,
                                     "wrong_error_rows": wrong_errors})
    return report


def main() -> int:
    split = sys.argv[1] if len(sys.argv) > 1 else None
    report = run(split)
    for category, r in report.items():
        print(f"{category:14} rows {r['rows']:4}  applied {r['applied']:4}  wrong {r['wrong']:3}  "
              f"wrong/applied {100 * float(r['wrong_rate']):.2f} %  {'ok' if r['target_met'] else 'OVER TARGET'}")
        for w in r["wrong_fixes"]:  # type: ignore[attr-defined]
            print(f"    WRONG  {w['input']!r} -> {w['wrote']!r} (expected {w['expected']!r})")
        if "wrong_errors" in r:
            print(f"{'':14} flagged {r['flagged']:4}  wrong errors {r['wrong_errors']:3}")
            for w in r["wrong_error_rows"][:10]:  # type: ignore[index]
                print(f"    WRONG ERROR  {w['input']!r}: {w['message']}")
    out = HERE / "results" / (f"precision_{split}.json" if split else "precision.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["target_met"] for r in report.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
