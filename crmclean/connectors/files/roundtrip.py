"""Round-trip writing for write-back targets: a CSV keeps its quoting, delimiter and line ends; XLSX exact."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from crmclean.connectors.files.atomic import atomic_write_bytes

# ---------------------------------------------------------------- round-trip CSV writing (write-back targets)


class CsvLayout:
    """How a CSV file is written (encoding, delimiter, line ends, per-column quoting) and its raw records.

    Write-back copies every unchanged record byte for byte and writes changed ones in the same
    style, so applying then rolling back a plan restores the file exactly.
    """

    def __init__(self, encoding: str, delimiter: str, header_raw: str, records_raw: list[str] | None,
                 lineterminator: str, final_newline: bool, quote_always: list[bool], quote_empty: list[bool]) -> None:
        self.encoding = encoding
        self.delimiter = delimiter
        self.header_raw = header_raw
        self.records_raw = records_raw
        self.lineterminator = lineterminator
        self.final_newline = final_newline
        self.quote_always = quote_always
        self.quote_empty = quote_empty
        self.raw_series: pl.Series | None = None  # records_raw, each ending in a line terminator


def _quote_flags(raw: str, delim: str) -> list[tuple[bool, bool]]:
    """(was quoted, is empty) for each field of one raw record."""
    flags: list[tuple[bool, bool]] = []
    i, n = 0, len(raw.rstrip("\r\n"))
    while True:
        if i < n and raw[i] == '"':
            j = i + 1
            while j < n:
                if raw[j] == '"':
                    if j + 1 < n and raw[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            flags.append((True, j == i + 1))
            k = raw.find(delim, j)
        else:
            k = raw.find(delim, i)
            end = n if k == -1 or k > n else k
            flags.append((False, end == i))
        if k == -1 or k >= n:
            return flags
        i = k + len(delim)


def scan_csv_layout(path: Path, encoding: str, delimiter: str, expected_records: int) -> CsvLayout:
    """Split a CSV file into raw records (one csv pass) and learn its quoting, column by column."""
    text = path.read_bytes().decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    pending: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            pending.append(line)
            yield line

    raws: list[str] = []
    for _ in csv.reader(lines(), delimiter=delimiter):
        raws.append("".join(pending))
        pending.clear()
    if pending and raws:  # trailing text the reader did not turn into a record
        raws[-1] += "".join(pending)
    header_raw = raws[0] if raws else ""
    records = raws[1:]
    stripped = header_raw.rstrip("\r\n")
    terminator = header_raw[len(stripped):] or "\n"
    final_newline = (records[-1] if records else header_raw).endswith(("\n", "\r"))
    width = len(_quote_flags(header_raw, delimiter))
    quoted = [0] * width
    plain = [0] * width
    empty_quoted = [0] * width
    empty_plain = [0] * width
    for raw in [header_raw, *records[:500]]:
        for col, (was_quoted, is_empty) in enumerate(_quote_flags(raw, delimiter)[:width]):
            if is_empty:
                if was_quoted:
                    empty_quoted[col] += 1
                else:
                    empty_plain[col] += 1
            elif was_quoted:
                quoted[col] += 1
            else:
                plain[col] += 1
    quote_always = [quoted[c] > 0 and plain[c] == 0 for c in range(width)]
    quote_empty = [empty_quoted[c] > empty_plain[c] or (empty_quoted[c] == empty_plain[c] == 0 and quote_always[c])
                   for c in range(width)]
    return CsvLayout(
        encoding=encoding,
        delimiter=delimiter,
        header_raw=header_raw,
        # records that do not line up one to one with the parsed rows cannot be reused safely
        records_raw=records if len(records) == expected_records else None,
        lineterminator=terminator,
        final_newline=final_newline,
        quote_always=quote_always,
        quote_empty=quote_empty,
    )


def _csv_line(values: Sequence[str | None], layout: CsvLayout) -> str:
    delim = layout.delimiter
    fields = []
    for col, value in enumerate(values):
        always = layout.quote_always[col] if col < len(layout.quote_always) else False
        if value is None or value == "":
            empty_quoted = layout.quote_empty[col] if col < len(layout.quote_empty) else False
            fields.append('""' if empty_quoted else "")
        elif always or delim in value or '"' in value or "\n" in value or "\r" in value:
            fields.append('"' + value.replace('"', '""') + '"')
        else:
            fields.append(value)
    return delim.join(fields) + layout.lineterminator


def _csv_field(col_index: int, name: str, layout: CsvLayout) -> pl.Expr:
    col = pl.col(name)
    always = layout.quote_always[col_index] if col_index < len(layout.quote_always) else False
    empty_quoted = layout.quote_empty[col_index] if col_index < len(layout.quote_empty) else False
    quoted = pl.lit('"') + col.str.replace_all('"', '""', literal=True) + pl.lit('"')
    needs = (col.str.contains(layout.delimiter, literal=True) | col.str.contains('"', literal=True)
             | col.str.contains("\n", literal=True) | col.str.contains("\r", literal=True))
    filled = quoted if always else pl.when(needs).then(quoted).otherwise(col)
    return pl.when(col.is_null() | (col == "")).then(pl.lit('""' if empty_quoted else "")).otherwise(filled)


def write_csv_like(frame: pl.DataFrame, path: Path, layout: CsvLayout, base: pl.DataFrame | None,
                   id_field: str, *, bom: bool = False) -> None:
    """Write ``frame`` in ``layout``'s style, atomically; rows equal to their ``base`` row reuse its raw bytes."""
    columns = [c for c in frame.columns if not c.startswith("__")]
    reuse: pl.Series | None = None
    if base is not None and layout.records_raw is not None and id_field in base.columns:
        base_cols = [c for c in base.columns if not c.startswith("__")]
        if base_cols == columns:
            indexed = base.select([id_field, *[pl.col(c).alias(f"{c}\x00base") for c in columns if c != id_field]])
            indexed = indexed.with_row_index("\x00idx")
            joined = frame.select(columns if id_field in columns else [id_field, *columns]).join(
                indexed, on=id_field, how="left", maintain_order="left")
            same = pl.lit(True)
            for c in columns:
                if c != id_field:
                    same = same & pl.col(c).eq_missing(pl.col(f"{c}\x00base"))
            picked = joined.select(pl.when(same).then(pl.col("\x00idx")).otherwise(None).alias("i"))
            reuse = picked.get_column("i")
    # column-wise: every row serialized in the file's style, then unchanged rows swapped for their raw bytes
    lines = frame.select(
        pl.concat_str([_csv_field(i, c, layout) for i, c in enumerate(columns)], separator=layout.delimiter)
        + pl.lit(layout.lineterminator)
    ).to_series() if frame.height else pl.Series([], dtype=pl.String)
    if reuse is not None and layout.records_raw is not None and reuse.null_count() < len(reuse):
        if layout.raw_series is None:
            layout.raw_series = pl.Series([r if r.endswith(("\n", "\r")) else r + layout.lineterminator
                                           for r in layout.records_raw], dtype=pl.String)
        raw = layout.raw_series.gather(reuse)
        lines = pl.select(pl.when(raw.is_not_null()).then(raw).otherwise(lines)).to_series()
    header = layout.header_raw or _csv_line(columns, layout)
    if not header.endswith(("\n", "\r")):
        header += layout.lineterminator
    body = lines.str.join("").item() if len(lines) else ""
    text = header + body
    if not layout.final_newline:
        text = text.rstrip("\r\n")
    payload = text.encode(layout.encoding.replace("utf-8-sig", "utf-8"))
    _atomic_write_bytes(path, (b"\xef\xbb\xbf" if bom else b"") + payload)


def write_xlsx_exact(frame: pl.DataFrame, path: Path) -> None:
    """XLSX with every value a text cell (no formula is ever evaluated, no value altered), atomically."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    frame = frame.select([c for c in frame.columns if not c.startswith("__")])
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()

        def text_cell(value: str | None) -> object:
            if value is None:
                return None
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            return cell

        ws.append([text_cell(c) for c in frame.columns])
        for row in frame.iter_rows():
            ws.append([text_cell(v) for v in row])
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    atomic_write_bytes(path, payload)
