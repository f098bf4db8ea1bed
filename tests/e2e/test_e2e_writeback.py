"""The write-back contract at 10,000 records on each CRM emulator (the same checks as tests/contract at 1,000)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.writeback_contract import (
    HubSpotTarget,
    SalesforceTarget,
    Target,
    audit_plan_apply_rollback,
    faults_and_a_human_edit_then_resume,
)

N = 10_000
CRMS: list[type[Target]] = [SalesforceTarget, HubSpotTarget]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("target_type", CRMS, ids=[t.name for t in CRMS])
def test_audit_plan_apply_rollback_on_10000_contacts(target_type: type[Target], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with target_type().started(N, tmp_path, monkeypatch) as target:
        audit_plan_apply_rollback(target, N, tmp_path)


@pytest.mark.parametrize("target_type", CRMS, ids=[t.name for t in CRMS])
def test_faults_and_a_human_edit_then_resume(target_type: type[Target], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with target_type().started(N, tmp_path, monkeypatch) as target:
        faults_and_a_human_edit_then_resume(target, tmp_path, monkeypatch)
