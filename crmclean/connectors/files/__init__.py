"""File connectors: CSV (encoding and delimiter detected), XLSX, Parquet and JSON Lines as sources and targets.

A file target never overwrites its input unless asked: writes go to ``output`` (or, with
``in_place``, to the input after a backup copy), atomically via a temp file + rename.

One module a concern: ``formats`` (which format a path is), the readers ``csvfile``, ``xlsx`` and ``columnar``
(Parquet, JSON Lines) with their size caps in ``limits``, ``writing`` (frames out, output encodings),
``roundtrip`` (write-back keeps a file's layout), ``atomic`` (temp file + rename, free space) and ``connector``.
Everything is importable from here, as before (``crmclean.connectors.files:open_file_connector`` is the entry point).
"""

from __future__ import annotations

import polars as pl

from crmclean.connectors.files.atomic import atomic_copy, atomic_write_bytes, atomic_write_text, ensure_free_space
from crmclean.connectors.files.columnar import _read_jsonl, _read_parquet
from crmclean.connectors.files.connector import FileConnector, open_file_connector
from crmclean.connectors.files.csvfile import detect_delimiter, detect_encoding, read_csv_file
from crmclean.connectors.files.formats import FORMATS, format_for
from crmclean.connectors.files.limits import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    _cap,
    check_archive,
    check_width,
)
from crmclean.connectors.files.roundtrip import CsvLayout, scan_csv_layout, write_csv_like, write_xlsx_exact
from crmclean.connectors.files.writing import (
    CSV_UNENCODABLE,
    backup_path,
    is_live_formula,
    lossless_encoding,
    neutralize_formula,
    write_frame,
    write_output,
)
from crmclean.connectors.files.xlsx import read_xlsx_file

__all__ = [
    "CSV_UNENCODABLE",
    "FORMATS",
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_COMPRESSION_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "CsvLayout",
    "FileConnector",
    "_cap",
    "_read_jsonl",
    "_read_parquet",
    "atomic_copy",
    "atomic_write_bytes",
    "atomic_write_text",
    "backup_path",
    "check_archive",
    "check_width",
    "detect_delimiter",
    "detect_encoding",
    "ensure_free_space",
    "format_for",
    "is_live_formula",
    "lossless_encoding",
    "neutralize_formula",
    "open_file_connector",
    "pl",
    "read_csv_file",
    "read_xlsx_file",
    "scan_csv_layout",
    "write_csv_like",
    "write_frame",
    "write_output",
    "write_xlsx_exact",
]
