"""Terminal output: rich for people (stderr for progress and messages), JSON for machines, quiet for cron."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@dataclass
class OutputMode:
    json: bool = False
    quiet: bool = False
    debug: bool = False


MODE = OutputMode()
# Without a terminal (cron, a pipe, a log file) there is no width to fit: rich would assume 80 columns and cut every
# table cell to "86,…", which leaves a cron mail unreadable. Such output is as wide as its tables need, up to this
# (COLUMNS, when set, still decides).
LOG_WIDTH = 240


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = LOG_WIDTH
    return console


out = _console()  # results
err = _console(stderr=True)  # messages, progress


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def info(message: str) -> None:
    if not MODE.quiet and not MODE.json:
        err.print(message, highlight=False)


def warn(message: str) -> None:
    if not MODE.quiet:
        err.print(f"[yellow]warning:[/] {message}", highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on a terminal; nothing when output is not a TTY (cron) or in --quiet/--json."""
    if MODE.quiet or MODE.json or not err.is_terminal:
        yield _NullTask()
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield _Task(bar, task)


class _NullTask:
    def update(self, completed: int, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


class _Task:
    def __init__(self, bar: Progress, task: Any) -> None:
        self.bar, self.task = bar, task

    def update(self, completed: int, total: int | None = None) -> None:
        self.bar.update(self.task, completed=completed, total=total)

    def advance(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)
