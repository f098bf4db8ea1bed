"""Fuzz campaign in CI (issue 17): a few hundred mutated CSV/XLSX/JSONL/Parquet/YAML files through the real
CLI; every one ends with exit 0/1/2/3 and no traceback. A longer run: python benchmarks/bench_fuzz.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz.mutate import FORMATS, campaign, make_case, run_case, verdict

CASES = int(os.environ.get("CRMCLEAN_FUZZ_CASES", "200"))


@pytest.mark.timeout(600)
def test_fuzzed_inputs_never_exit_4(tmp_path: Path) -> None:
    failures = campaign(range(CASES), tmp_path)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("fmt", FORMATS)
def test_unmutated_seeds_are_read(tmp_path: Path, fmt: str) -> None:
    # the seeds themselves must be valid inputs, or the campaign would only test error paths
    number = next(n for n in range(1, 200) if FORMATS[n % len(FORMATS)] == fmt and n % 97)
    case = make_case(number, tmp_path)
    from tests.fuzz.mutate import seed_bytes
    case.path.write_bytes(seed_bytes(fmt, tmp_path))
    code, stderr = run_case(case)
    assert code in (0, 1), stderr
    assert verdict(case, code, stderr) is None
