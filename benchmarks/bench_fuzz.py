"""Longer fuzz campaign (issue 17): N mutated CSV/XLSX/JSONL/Parquet/YAML inputs through the real CLI.

    python benchmarks/bench_fuzz.py [N] [START]     # default 3000 cases from seed 1000

Prints exit-code counts per format and every case that exits 4 or prints a traceback (re-run one with
``tests.fuzz.mutate.make_case(number, folder)``). Exit status 1 when any case failed."""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz.mutate import Case, campaign  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    start = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    counts: collections.Counter[tuple[str, int]] = collections.Counter()

    def on_case(case: Case, code: int, _stderr: str) -> None:
        counts[(case.fmt, code)] += 1
        case.path.unlink(missing_ok=True)

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        failures = campaign(range(start, start + n), Path(tmp), on_case)
    took = time.monotonic() - started
    print(f"{n} cases in {took:.0f} s ({n / took:.1f}/s)")
    for fmt in sorted({f for f, _ in counts}):
        row = ", ".join(f"exit {code}: {counts[(fmt, code)]}" for code in sorted(c for f, c in counts if f == fmt))
        print(f"  {fmt:11} {row}")
    for problem in failures:
        print("FAIL", problem)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
