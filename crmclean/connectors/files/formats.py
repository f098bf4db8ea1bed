"""File formats: which format a path is, by extension or ``--format``."""

from __future__ import annotations

from pathlib import Path

from crmclean.errors import UsageError

FORMATS = ("csv", "xlsx", "parquet", "jsonl", "xls", "ods", "html")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".xls": "xls", ".ods": "ods", ".html": "html", ".htm": "html",
}

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def format_for(path: Path, override: str | None) -> str:
    if override:
        fmt = override.lower().lstrip(".")
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {override!r}; use one of {', '.join(FORMATS)}")
        return fmt
    by_ext = _EXTENSIONS.get(path.suffix.lower())
    if by_ext is None:
        raise UsageError(
            f"cannot tell the format of {path.name!r} from its extension",
            hint=f"pass --format ({', '.join(FORMATS)})",
        )
    return by_ext
