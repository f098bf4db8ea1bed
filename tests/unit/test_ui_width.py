"""Output without a terminal (cron, a pipe): tables are not cut to 80 columns."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from crmclean import ui


def _blocking_table() -> Table:
    table = Table("key", "records", "blocks", "largest", "pairs", "oversized", "split", "windowed", "dropped", "finds")
    table.add_row("surname_initial", "99,746", "21,200", "12", "3,582", "1083", "1755", "1", "0", "2.5%")
    return table


def test_without_a_terminal_a_table_keeps_every_cell_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    console = ui._console()
    assert not console.is_terminal and console.width == ui.LOG_WIDTH
    console.file = io.StringIO()
    console.print(_blocking_table())
    text = console.file.getvalue()
    assert "surname_initial" in text and "99,746" in text and "…" not in text


def test_columns_set_by_the_user_still_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert ui._console().width == 100
