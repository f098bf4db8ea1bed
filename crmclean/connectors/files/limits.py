"""Size caps for files (zip bombs, absurd widths), raised by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from crmclean.errors import SourceError

# ---------------------------------------------------------------- size caps (zip bombs, absurd widths)
# A spreadsheet is a zip of XML: a few MB can expand to gigabytes. Caps are checked before parsing, so a
# hostile file ends in seconds with exit 3 instead of eating the machine. Environment variables raise them.
MAX_UNCOMPRESSED_BYTES = 512 << 20  # 512 MiB of XML in one workbook
MAX_COMPRESSION_RATIO = 100  # real sheets compress 5-30x; deflate bombs reach 1000x
MAX_CELLS = 20_000_000
MAX_COLUMNS = 16_384  # Excel's own limit


def _cap(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "")) or default
    except ValueError:
        return default


def check_archive(path: Path) -> None:
    """Refuse a zip container (xlsx, ods) that would expand beyond the caps: a zip bomb."""
    import zipfile

    try:
        if not zipfile.is_zipfile(path):
            return
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return  # not a readable zip: the format's reader says so
    limit = _cap("CRMCLEAN_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES)
    ratio = _cap("CRMCLEAN_MAX_COMPRESSION_RATIO", MAX_COMPRESSION_RATIO)
    total = sum(m.file_size for m in members)
    if total > limit:
        raise SourceError(f"workbook expands to {total / 2**20:,.0f} MiB of XML (limit {limit / 2**20:,.0f} MiB); "
                          "refusing a possible zip bomb", path=str(path),
                          hint="export it as CSV, or raise CRMCLEAN_MAX_UNCOMPRESSED_BYTES")
    for m in members:
        if m.file_size > 16 * 2**20 and m.file_size > ratio * max(m.compress_size, 1):
            raise SourceError(f"{m.filename} is compressed {m.file_size // max(m.compress_size, 1):,}:1 "
                              f"({m.file_size / 2**20:,.0f} MiB); refusing a possible zip bomb", path=str(path),
                              hint="export it as CSV, or raise CRMCLEAN_MAX_COMPRESSION_RATIO")


def check_width(width: int, path: Path) -> None:
    limit = _cap("CRMCLEAN_MAX_COLUMNS", MAX_COLUMNS)
    if width > limit:
        raise SourceError(f"{width:,} columns (limit {limit:,}); not a CRM table", path=str(path),
                          hint="check the delimiter (--delimiter), or raise CRMCLEAN_MAX_COLUMNS")
