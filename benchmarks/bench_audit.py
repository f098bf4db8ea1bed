"""Benchmark: `crmclean audit` of N generated messy contacts end to end (read → standardize → validate →
dedupe → score → reports), with the time of each part, the report sizes and peak memory.

    python benchmarks/bench_audit.py                 # 1,000,000 contacts
    python benchmarks/bench_audit.py --rows 100000   # quicker
    python benchmarks/bench_audit.py --markdown benchmarks/results/audit.md

The data comes from crmclean.testing.generate (Russian/English contacts with duplicates, typos,
placeholders, invalid phones/emails, legal-form variants). Generation and writing the CSV are
not timed; reading it is.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from crmclean.audit import AuditOptions, run_audit
from crmclean.reports import write_reports
from crmclean.testing.generate import generate_contacts, write_csv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", type=float, default=180.0, help="seconds the audit must finish in")
    parser.add_argument("--markdown", type=Path, help="also write the figures as Markdown here")
    parser.add_argument("--keep", type=Path, help="keep the generated CSV and the report in this folder")
    parser.add_argument("--skip-dedupe", action="store_true", help="diagnosis only: leave duplicate detection out")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="crmclean-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"contacts_{args.rows}.csv"
    if not source.exists():
        t0 = time.perf_counter()
        frame, _ = generate_contacts(args.rows, seed=args.seed)
        write_csv(frame, str(source))
        print(f"generated {args.rows:,} contacts in {time.perf_counter() - t0:.1f}s -> {source} "
              f"({source.stat().st_size / 1e6:.0f} MB)", flush=True)

    started = time.perf_counter()
    result = run_audit(str(source), None, options=AuditOptions(
        store=work / "runs.duckdb", dedupe=not args.skip_dedupe,
        progress=lambda s: print(f"  {time.perf_counter() - started:6.1f}s {s}", flush=True)))
    t_audit = time.perf_counter() - started
    t0 = time.perf_counter()
    files = write_reports(result, work / "report")
    t_reports = time.perf_counter() - t0
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    k = result.kpis
    sizes = {name: path.stat().st_size for name, path in files.files.items()}
    lines = [
        f"# Audit benchmark: {args.rows:,} contacts end to end",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()}. Data: crmclean.testing.generate (seed {args.seed}), CSV "
        f"{source.stat().st_size / 1e6:.0f} MB. Parts run: "
        + ", ".join(f"{p} {s}" for p, s in result.parts.items()) + ".",
        "",
        "| Part | Seconds |",
        "|---|---:|",
        *[f"| {part} | {sec:.1f} |" for part, sec in result.timings.items()],
        f"| reports (html, json, md, 3 csv) | {t_reports:.1f} |",
        f"| **total (read → reports)** | **{total:.1f}** |",
        "",
        f"Budget {args.budget:.0f} s: {'PASS' if total <= args.budget else 'FAIL'}. Peak RSS {peak_mb:,.0f} MB.",
        "",
        "| Report file | Size |",
        "|---|---:|",
        *[f"| {name} | {size / 1e6:.2f} MB |" for name, size in sizes.items()],
        "",
        f"report.html under 5 MB: {'PASS' if sizes['html'] < 5_000_000 else 'FAIL'}.",
        "",
        "| KPI | Value |",
        "|---|---:|",
        *[f"| {key} | {value} |" for key, value in k.items()],
        "",
        "Slowest checks: " + ", ".join(
            f"{c['code']} {c['seconds']:.1f}s" for c in sorted(result.checks, key=lambda c: -(c['seconds'] or 0))[:6]
        ) + ".",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text, encoding="utf-8")
    print(f"(audit {t_audit:.1f}s)", file=sys.stderr)
    return 0 if total <= args.budget and sizes["html"] < 5_000_000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
