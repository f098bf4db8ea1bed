"""Calibration (issue 13): in each score band, how often a pair is a true match, and the review queue's true rate.

Zero-config dedupe of generated data at held-out seeds (never used for tuning). For every scored pair kept in
``result.pairs`` (score >= dedupe.pairs_min_score) the pair's own score is put in a band; the table shows the
band's mean score beside its true-match rate (calibrated: within ±0.05). The review queue's true-match rate is
the share of review pairs that are true duplicates. Beside the map in use (``calibrated_score``, isotonic) each
table shows the logistic (Platt) fitted on the same tuning pairs, and both maps' log-loss on the held-out pairs.

    /work/venv/bin/python benchmarks/bench_dedupe_calibration.py [--size 5000] [--seeds 101,202,303] [--no-write]

``--fit`` fits the maps instead (``crmclean/matching/calibration.py``: isotonic knots per object type, over all
pairs and over the pairs the clustering left apart) on the tuning seeds pooled, at the sizes in ``FIT_SIZES``,
and writes them into that module between its FITTED markers (``--no-write``: print only). Held-out seeds are
refused there.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmclean.matching import dedupe  # noqa: E402
from crmclean.matching.calibration import (  # noqa: E402
    MIN_BLOCK,
    calibration_map,
    fit_isotonic,
    fit_platt,
    platt_probability,
)
from crmclean.table import finalize_table  # noqa: E402
from crmclean.testing.generate import generate_companies, generate_contacts, true_pairs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "calibration.md"
MODULE = ROOT / "crmclean" / "matching" / "calibration.py"
HELD_OUT = {7, 101, 202, 303, 404}  # the seeds every accuracy benchmark checks: never fitted on
TUNING_SEEDS = "3,4,5,6,8,9,10,11,12,13"
# sizes the maps are fitted at, pooled: the sizes the benchmarks check (contacts 5k here and 20k in
# bench_dedupe_accuracy; companies 5k in bench_dedupe_branches)
FIT_SIZES = {"contacts": (5000, 20000), "companies": (5000,)}
OBJECT = {"contacts": "people", "companies": "companies"}  # the calibration's object type per generated kind
BANDS = ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.99), (0.99, 0.999), (0.999, 1.01))


COLUMNS = ("score", "calibrated_score", "match_weight")


def collect(kind: str, n: int, seeds: list[int]) -> tuple[dict[str, list[tuple[float, bool]]], list[bool], list[bool]]:
    """(column -> [(value, is a true pair)] over every kept pair, review queue hits per pair, per question) from
    one dedupe per seed. A question (review.csv ``question_id``: where does this record belong, among these
    candidates, or nowhere?) is true when one of its pairs is a true duplicate."""
    scored: dict[str, list[tuple[float, bool]]] = {c: [] for c in COLUMNS}
    review: list[bool] = []
    questions: list[bool] = []
    for seed in seeds:
        if kind == "companies":
            frame, truth = generate_companies(n, seed=seed, branch_rate=0.08, inn_clash_rate=0.02)
        else:
            frame, truth = generate_contacts(n, seed=seed)
        obj = "companies" if kind == "companies" else "contacts"
        table = finalize_table(frame, source=obj, kind="csv", id_column=None, object_type=obj)
        result = dedupe(table, object_type=obj)
        wanted = true_pairs(truth)
        for a, b, apart, *values in result.pairs.select("left_id", "right_id", ~pl.col("same_cluster"),
                                                        *COLUMNS).iter_rows():
            hit = tuple(sorted((a, b))) in wanted
            for column, value in zip(COLUMNS, values, strict=True):
                scored[column].append((float(value), hit))
                if apart:  # pairs the clustering left apart: what the review queue chooses from
                    scored.setdefault(f"{column}_apart", []).append((float(value), hit))
        asked: dict[object, bool] = {}
        for q, a, b in result.review.select("question_id", "left_id", "right_id").iter_rows():
            review.append(tuple(sorted((a, b))) in wanted)
            asked[q] = asked.get(q, False) or review[-1]
        questions += asked.values()
    return scored, review, questions


def table(scored: list[tuple[float, bool]]) -> list[dict[str, object]]:
    rows = []
    for lo, hi in BANDS:
        inside = [(s, h) for s, h in scored if lo <= s < hi]
        if not inside:
            continue
        mean = sum(s for s, _ in inside) / len(inside)
        rate = sum(h for _, h in inside) / len(inside)
        rows.append({"band": f"{lo:g}–{min(hi, 1.0):g}", "pairs": len(inside), "mean_score": round(mean, 3),
                     "true_rate": round(rate, 3), "gap": round(rate - mean, 3),
                     # two standard errors of the band's rate if the scores were right: a gap inside it is noise
                     "noise": round(2 * math.sqrt(max(mean * (1 - mean), 1e-12) / len(inside)), 3)})
    return rows


def log_loss(scored: list[tuple[float, bool]]) -> float:
    eps = 1e-12
    return sum(-math.log(max(s if h else 1 - s, eps)) for s, h in scored) / len(scored)


def fit(kinds: list[str], seeds: list[int], write: bool) -> None:
    """Fit the isotonic maps on the tuning seeds pooled over ``FIT_SIZES`` and write them into the module."""
    if HELD_OUT & set(seeds):
        raise SystemExit(f"--fit: seeds {sorted(HELD_OUT & set(seeds))} are held out; fit on tuning seeds only")
    lines = []
    for kind in kinds:
        pooled: dict[str, list[tuple[float, bool]]] = {"match_weight": [], "match_weight_apart": []}
        for size in FIT_SIZES[kind]:
            columns = collect(kind, size, seeds)[0]
            for name in pooled:
                pooled[name] += columns.get(name, [])
        for table_name, name in (("MAPS", "match_weight"), ("APART", "match_weight_apart")):
            data = pooled[name]
            weights, truth = [w for w, _ in data], [h for _, h in data]
            knots = fit_isotonic(weights, truth)
            platt = fit_platt(weights, truth)
            print(kind, table_name, len(data), "pairs", len(knots), "knots, platt", platt)
            rows = "\n".join(f"        ({x!r}, {p!r})," for x, p in knots)
            lines.append(f'{table_name}["{OBJECT[kind]}"] = CalibrationMap((  # {len(data)} pairs\n{rows}\n'
                         f"    ), platt={platt!r})")
    sizes = "; ".join(f"{k} at {', '.join(map(str, FIT_SIZES[k]))} records" for k in kinds)
    block = ("# FITTED-BEGIN\n"
             f"# python benchmarks/bench_dedupe_calibration.py --fit --kinds {','.join(kinds)} --seeds "
             f"{','.join(map(str, seeds))}\n# tuning seeds pooled; {sizes}\n# isotonic blocks of at least "
             f"{MIN_BLOCK} pairs\nMAPS: dict[str, CalibrationMap] = {{}}\nAPART: dict[str, CalibrationMap] = {{}}\n"
             + "\n".join(lines) + "\n# FITTED-END")
    print(block)
    if write:
        text = MODULE.read_text(encoding="utf-8")
        new, n = re.subn(r"# FITTED-BEGIN\n.*?# FITTED-END", lambda _: block, text, flags=re.S)
        if n != 1:
            raise SystemExit(f"--fit: no FITTED-BEGIN/FITTED-END block in {MODULE}")
        MODULE.write_text(new, encoding="utf-8")
        print("written to", MODULE.relative_to(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--seeds", default=None, help="held-out seeds to check (default 101,202,303); with --fit, "
                    f"tuning seeds to fit on (default {TUNING_SEEDS})")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--fit", action="store_true", help="fit the calibration maps on the tuning seeds pooled")
    ap.add_argument("--kinds", default="contacts,companies", help="which object types (default both)")
    args = ap.parse_args()
    if args.fit:
        fit(args.kinds.split(","), [int(x) for x in (args.seeds or TUNING_SEEDS).split(",")], not args.no_write)
        return
    args.seeds = args.seeds or "101,202,303"
    seeds = [int(s) for s in args.seeds.split(",")]
    out = ["# Calibration per score band (held-out generator seeds, zero config)", "",
           f"Generated by `benchmarks/bench_dedupe_calibration.py --size {args.size} --seeds {args.seeds}"
           f"{'' if args.kinds == 'contacts,companies' else ' --kinds ' + args.kinds}`: each scored pair's score "
           "against the truth. `score`: the model's probability; `calibrated_score`: the isotonic map in use "
           "(`crmclean/matching/calibration.py`); `platt`: the logistic fitted on the same tuning pairs, for "
           "comparison. ±2σ: two standard errors of the band's rate if its mean score were right (a gap inside it "
           "is sampling noise).", ""]
    for kind in args.kinds.split(","):
        columns, review, questions = collect(kind, args.size, seeds)
        platt = calibration_map(OBJECT[kind]).platt
        weights = [w for w, _ in columns["match_weight"]]
        columns["platt"] = list(zip(platt_probability(weights, platt).tolist(),
                                    [h for _, h in columns["match_weight"]], strict=True))
        rate = sum(review) / len(review) if review else None
        q_rate = sum(questions) / len(questions) if questions else None
        print(kind, "review queue:", len(review), "pairs, true rate", None if rate is None else round(rate, 3),
              "|", len(questions), "questions, true rate", None if q_rate is None else round(q_rate, 3))
        for column in ("score", "calibrated_score", "platt"):
            data = columns[column]
            rows = table(data)
            within = sum(abs(float(str(r["gap"]))) <= 0.05 for r in rows)
            title = f"## {kind}: `{column}`" + (f" (logistic {platt})" if column == "platt" else "")
            out += [title, "", f"Bands within ±0.05: {within}/{len(rows)}; log-loss {log_loss(data):.4f} over "
                    f"{len(data)} pairs.", "", "| band | pairs | mean | true-match rate | rate − mean | ±2σ |",
                    "|---|---|---|---|---|---|"]
            print(kind, column, f"within ±0.05: {within}/{len(rows)}", f"log-loss {log_loss(data):.4f}")
            for r in rows:
                print(kind, column, r)
                out.append(f"| {r['band']} | {r['pairs']} | {r['mean_score']} | {r['true_rate']} | {r['gap']:+} "
                           f"| {r['noise']} |")
            out.append("")
        out += ["", f"Review queue: {len(review)} pairs, true-match rate "
                    f"{'n/a' if rate is None else f'{rate:.3f}'}; {len(questions)} questions (review.csv "
                    f"`question_id`), true when one of its pairs is: {'n/a' if q_rate is None else f'{q_rate:.3f}'}.",
                ""]
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
