"""The write-back contract on every connector in ``TARGETS`` at 1,000 records (the 10,000-record runs are in tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.writeback_contract import (
    TARGETS,
    Target,
    audit_plan_apply_rollback,
    faults_and_a_human_edit_then_resume,
)

N = 1_000


@pytest.mark.parametrize("target_type", TARGETS, ids=[t.name for t in TARGETS])
def test_audit_plan_apply_rollback(target_type: type[Target], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with target_type().started(N, tmp_path, monkeypatch) as target:
        audit_plan_apply_rollback(target, N, tmp_path)


@pytest.mark.parametrize("target_type", TARGETS, ids=[t.name for t in TARGETS])
def test_faults_and_a_human_edit_then_resume(target_type: type[Target], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with target_type().started(N, tmp_path, monkeypatch) as target:
        faults_and_a_human_edit_then_resume(target, tmp_path, monkeypatch)
