"""Two runs started in the same second never share an id (a drawn id that is taken is drawn again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmclean import store as store_mod
from crmclean.store import RunStore


def test_a_taken_run_id_is_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["20261202-000000-aaaa", "20261202-000000-aaaa", "20261202-000000-bbbb"])
    monkeypatch.setattr(store_mod, "new_run_id", lambda: next(draws))
    st = RunStore(tmp_path / "runs.duckdb")
    try:
        first = st.start_run("apply", "a.csv")
        second = st.start_run("rollback", "a.csv")
    finally:
        st.close()
    assert (first, second) == ("20261202-000000-aaaa", "20261202-000000-bbbb")
