"""Errors a steward can read, each carrying its exit code and where it happened."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes every command uses (documented in the README)."""

    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # usage or configuration error
    SOURCE = 3  # source, file or connector error


class CrmcleanError(Exception):
    """Base error: ``str(err)`` is the one line shown to the user."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.path:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if isinstance(self.column, int):
                    where += f":{self.column}"
            where += ": "
        text = where + self.message
        if self.column is not None and not isinstance(self.column, int):
            text += f" (column {self.column!r})"
        if self.hint:
            text += f"; {self.hint}"
        return text


class UsageError(CrmcleanError):
    """Wrong options or arguments."""

    exit_code = ExitCode.USAGE


class ConfigError(CrmcleanError):
    """A rules or job file that does not validate."""

    exit_code = ExitCode.USAGE


class NotBuiltError(UsageError):
    """A verb that exists in the CLI skeleton but is not implemented yet."""


class SourceError(CrmcleanError):
    """A source file or CRM that cannot be read or written."""

    exit_code = ExitCode.SOURCE


class ConnectorError(SourceError):
    """A CRM API failed in a way retries could not fix (auth, permissions, limits)."""
