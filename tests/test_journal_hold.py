"""The journal keeps the run store open between the quick writes of a run, and lets it go on a slow target."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import crmclean.writeback.store as store_module
from crmclean.store import RunStore
from crmclean.writeback.store import HOLD_SECONDS, Journal


def _outcome(n: int) -> dict[str, list[Any]]:
    return {"run_id": ["r1"], "batch": [n], "unit": [f"update:{n}"], "record_id": [str(n)], "status": ["ok"],
            "error": [None], "new_id": [None], "after_version": [None], "logged_at": [datetime(2026, 1, 1)]}


def test_quick_writes_share_one_open_store_slow_ones_and_the_end_release_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(store_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    opened: list[RunStore] = []
    real_init = RunStore.__init__

    def counting(self: RunStore, *args: Any, **kwargs: Any) -> None:
        opened.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(RunStore, "__init__", counting)
    journal = Journal(tmp_path / "runs.duckdb")
    with journal.held():
        for n in range(4):  # batches a few milliseconds apart: one open store
            now[0] += 0.01
            journal.write_outcomes(_outcome(n))
        assert len(opened) == 1
        now[0] += HOLD_SECONDS + 0.5  # a slow send (the store stays open over one): the write after it closes it
        journal.write_outcomes(_outcome(4))
        assert journal._held is None and len(opened) == 1
        for n in range(5, 5 + 3):  # held again, then let go once held for HOLD_SECONDS
            now[0] += HOLD_SECONDS / 2 + 0.01
            journal.write_outcomes(_outcome(n))
        assert journal._held is None and len(opened) == 2
        now[0] += 0.01
        journal.write_outcomes(_outcome(8))
        assert journal._held is not None and len(opened) == 3
    assert journal._held is None  # closed with the run
    assert journal.outcomes("r1").get_column("batch").to_list() == list(range(9))  # every write committed


def test_an_error_inside_the_run_closes_the_held_store(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "runs.duckdb")
    with pytest.raises(RuntimeError), journal.held():
        journal.write_outcomes(_outcome(0))
        journal.write_outcomes(_outcome(1))
        raise RuntimeError("the target went away")
    assert journal._held is None
    assert journal.outcomes("r1").height == 2
