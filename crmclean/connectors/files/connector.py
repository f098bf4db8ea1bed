"""The file connector: a spreadsheet file as a source and (through ``output``) a target."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl

from crmclean.connectors.base import FieldInfo, FieldUpdate, MergeRequest, Record, Value, WriteOutcome, values_hash
from crmclean.connectors.exports import (
    SHEET_FORMATS,
    decode_entities,
    drop_phantom_columns,
    frame_from_rows,
    read_sheet_rows,
    resolve_format,
)
from crmclean.connectors.files.atomic import atomic_copy
from crmclean.connectors.files.columnar import _read_jsonl, _read_parquet
from crmclean.connectors.files.csvfile import _dedupe_headers, read_csv_file
from crmclean.connectors.files.formats import _EXTENSIONS, format_for
from crmclean.connectors.files.limits import check_archive, check_width
from crmclean.connectors.files.roundtrip import CsvLayout, scan_csv_layout, write_csv_like, write_xlsx_exact
from crmclean.connectors.files.writing import backup_path, write_frame
from crmclean.connectors.files.xlsx import read_xlsx_file
from crmclean.errors import SourceError, UsageError
from crmclean.table import ROW_ID, ReadIssue, detect_id_column

# ---------------------------------------------------------------- the connector


class FileConnector:
    """A spreadsheet file as a source and (through ``output``) a target."""

    max_batch = 10_000
    capabilities = frozenset({"update", "merge", "create", "delete"})

    def __init__(
        self,
        path: Path,
        fmt: str,
        *,
        sheet: str | None = None,
        id_column: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.spec = str(path)
        self.kind = fmt
        self.sheet = sheet
        self._id_column = id_column
        self._encoding = encoding
        self._delimiter = delimiter
        self.issues: list[ReadIssue] = []
        self.encoding = "utf-8"
        self.delimiter = ","
        self._frame: pl.DataFrame | None = None
        self.output: Path | None = None  # where writes go; None = not writable yet
        # False: a fresh write starts from the input even when ``output`` already exists
        self.resume_output = True
        self._dirty = False
        self.id_field = ROW_ID
        # the frame as read from disk and where from: write-back reuses raw CSV bytes of unchanged rows
        self._base: pl.DataFrame | None = None
        self._base_file: Path | None = None
        self._base_stat: tuple[int, int] | None = None
        self._layout: CsvLayout | None = None
        self.header_row: int | None = None  # 1-based header row (None: found in the first rows)
        self.skip_footer: int | None = None  # footer lines to drop (None: a report footer is detected)
        self.format_note: str | None = None  # "read as an HTML table (by content), not xls …"
        self._trimmed = False
        self.titles: list[str] = []  # title rows above the header («Контрагенты»): a clue to the object type

    # -- reading
    def load(self) -> pl.DataFrame:
        if self._frame is not None:
            return self._frame
        path = self.path
        if not path.exists():
            raise SourceError("file not found", path=str(path))
        if path.is_dir():
            raise SourceError("is a directory, expected a file", path=str(path))
        if path.stat().st_size == 0:
            raise SourceError("file is empty (no header row)", path=str(path))
        frame, issues = self._read_export(path)
        self.issues = issues
        headers = list(frame.columns)
        if self._id_column:
            if self._id_column not in headers:
                raise SourceError(f"id column {self._id_column!r} not found", path=str(path),
                                  hint=f"columns: {', '.join(headers)[:200]}")
            self.id_field = self._id_column
        else:
            self.id_field = detect_id_column(headers, frame) or ROW_ID
        if self.id_field == ROW_ID:
            frame = frame.with_columns(
                pl.int_range(1, frame.height + 1, dtype=pl.Int64).cast(pl.String).alias(ROW_ID)
            )
        self._frame = frame
        self._base, self._base_file = frame, path
        st = path.stat()
        self._base_stat = (st.st_size, st.st_mtime_ns)
        return frame

    def _read_export(self, path: Path) -> tuple[pl.DataFrame, list[ReadIssue]]:
        """Read the file in its format; title rows, footers, phantom columns and HTML entities handled."""
        trimmed: list[int] = []
        check_archive(path)
        if self.kind == "csv":
            frame, issues, self.encoding, self.delimiter = read_csv_file(
                path, self._encoding, self._delimiter, header_row=self.header_row, skip_footer=self.skip_footer,
                trimmed=trimmed, titles=self.titles)
        elif self.kind == "xlsx" and path.suffix.lower() in (".xlsx", ".xlsm"):
            frame, issues = read_xlsx_file(path, self.sheet, header_row=self.header_row,
                                           skip_footer=self.skip_footer, titles=self.titles)
        elif self.kind in (*SHEET_FORMATS, "xlsx"):  # openpyxl refuses an xlsx not named .xlsx: calamine reads it
            issues = []
            rows = read_sheet_rows(path, self.kind, self.sheet, issues)
            try:
                frame = frame_from_rows(rows, header_row=self.header_row, skip_footer=self.skip_footer,
                                        issues=issues,
                                        dedupe_headers=lambda h, found: _dedupe_headers(h, path, found),
                                        titles=self.titles)
            except SourceError as exc:
                raise SourceError(exc.message if hasattr(exc, "message") else str(exc), path=str(path)) from None
        elif self.kind == "parquet":
            frame, issues = _read_parquet(path), []
        else:
            frame, issues = _read_jsonl(path), []
        if self.format_note:
            issues.insert(0, ReadIssue(None, self.format_note, kept=True))
        # write-back copies raw CSV lines; a file read below title rows or above a footer is written whole
        self._trimmed = bool(trimmed and trimmed[0]) or any("footer" in i.message for i in issues)
        check_width(frame.width, path)
        frame = drop_phantom_columns(frame, issues)
        frame = decode_entities(frame, issues)
        return frame, issues

    def describe(self) -> list[FieldInfo]:
        return [FieldInfo(name=c, updateable=c != self.id_field) for c in self.load().columns
                if not c.startswith("__")]

    def read_pages(self, fields: Sequence[str] | None = None, where: str | None = None) -> Iterator[pl.DataFrame]:
        frame = self.load()
        if fields:
            keep = [self.id_field] + [f for f in fields if f != self.id_field]
            frame = frame.select(keep)
        yield frame

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]:
        frame = self.current()
        # __position (row index now) lets a re-created record go back where it was (rollback of a merge)
        sub = frame.with_row_index("__position").with_columns(pl.col("__position").cast(pl.String))
        sub = sub.filter(pl.col(self.id_field).is_in(list(ids)))
        if fields:
            sub = sub.select([self.id_field, *[f for f in fields if f in sub.columns and f != self.id_field]])
        return {row[self.id_field]: row for row in sub.iter_rows(named=True)}

    def version_of(self, record: Mapping[str, Value]) -> str:
        return values_hash(record)

    # -- writing: changes accumulate in memory and land atomically on close()/flush()
    def current(self) -> pl.DataFrame:
        """The target's present state: the output file if it exists, else the input."""
        if (self.output is not None and self.output.exists() and self.output != self.path and not self._dirty
                and self.resume_output):
            self.load()  # learn id column, encoding and delimiter from the input first
            reader = FileConnector(self.output, self.kind, sheet=self.sheet,
                                   id_column=None if self.id_field == ROW_ID else self.id_field,
                                   encoding=self.encoding, delimiter=self.delimiter)
            self._frame = reader.load()
            self._base, self._base_file, self._base_stat = reader._base, reader._base_file, reader._base_stat
            self._dirty = True  # from now on our in-memory frame is the truth
        return self.load()

    def _capture_layout(self) -> None:
        """Before the first write to a CSV target, remember the raw bytes of the file the frame came from."""
        if (self.kind != "csv" or self._layout is not None or self._base_file is None or self._base is None
                or self._trimmed):
            return
        st = self._base_file.stat()
        layout = scan_csv_layout(self._base_file, self.encoding, self.delimiter, self._base.height)
        if (st.st_size, st.st_mtime_ns) != self._base_stat:
            layout.records_raw = None  # the file changed on disk since we read it: its bytes are not our rows
        self._layout = layout

    def _encodable(self, value: Value) -> bool:
        if value is None or self.kind != "csv" or self.encoding.lower().startswith("utf"):
            return True
        try:
            value.encode(self.encoding)
        except UnicodeEncodeError:
            return False
        return True

    def _require_output(self) -> Path:
        if self.output is None:
            raise UsageError(f"{self.path}: refusing to write; give an output file or --in-place")
        return self.output

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        self._require_output()
        frame = self.current()
        self._capture_layout()
        by_field: dict[str, dict[str, Value]] = {}
        outcomes: list[WriteOutcome] = []
        ids = set(frame.get_column(self.id_field).to_list())
        for up in updates:
            if up.record_id not in ids:
                outcomes.append(WriteOutcome(up.record_id, "failed", "record not found"))
                continue
            bad = [f for f in up.values if f not in frame.columns]
            if bad:
                outcomes.append(WriteOutcome(up.record_id, "failed", f"unknown field(s) {bad}"))
                continue
            unencodable = [f for f, v in up.values.items() if not self._encodable(v)]
            if unencodable:
                outcomes.append(WriteOutcome(up.record_id, "failed",
                                             f"value of {unencodable} cannot be written in {self.encoding}"))
                continue
            for f, v in up.values.items():
                # a file cannot tell an empty cell from a missing one: both read back as None
                by_field.setdefault(f, {})[up.record_id] = v if v != "" else None
            outcomes.append(WriteOutcome(up.record_id, "ok"))
        exprs = []
        for f, mapping in by_field.items():
            keys = pl.Series(list(mapping.keys()), dtype=pl.String)
            vals = pl.Series(list(mapping.values()), dtype=pl.String)
            idcol = pl.col(self.id_field)
            exprs.append(
                pl.when(idcol.is_in(keys.implode())).then(idcol.replace_strict(keys, vals, default=None))
                .otherwise(pl.col(f)).alias(f)
            )
        if exprs:
            self._frame = frame.with_columns(exprs)
            self._dirty = True
        return outcomes

    def merge(self, request: MergeRequest) -> list[WriteOutcome]:
        outcomes = self.update([FieldUpdate(request.master_id, dict(request.values))]) if request.values else [
            WriteOutcome(request.master_id, "ok")]
        if outcomes[0].status != "ok":
            return outcomes
        outcomes += self.delete(request.loser_ids)
        return outcomes

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]:
        """Append records; one carrying ``__position`` (from ``fetch``) is inserted back at that row index."""
        self._require_output()
        frame = self.current()
        self._capture_layout()
        outcomes = []
        for rec in records:
            row = {c: (rec.get(c) if rec.get(c) != "" else None) for c in frame.columns}
            if self.id_field == ROW_ID and not row.get(ROW_ID):
                row[ROW_ID] = str(frame.height + 1)
            new = pl.DataFrame([row], schema=frame.schema)
            position = rec.get("__position")
            if position is not None and str(position).isdigit() and int(position) < frame.height:
                at = int(position)
                frame = pl.concat([frame.slice(0, at), new, frame.slice(at)])
            else:
                frame = pl.concat([frame, new])
            outcomes.append(WriteOutcome(str(row[self.id_field]), "ok", new_id=str(row[self.id_field])))
        if records:
            self._frame = frame
            self._dirty = True
        return outcomes

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        self._require_output()
        frame = self.current()
        self._capture_layout()
        present = set(frame.get_column(self.id_field).to_list())
        self._frame = frame.filter(~pl.col(self.id_field).is_in(list(ids)))
        self._dirty = True
        return [WriteOutcome(i, "ok" if i in present else "failed", None if i in present else "record not found")
                for i in ids]

    def flush(self) -> None:
        if not self._dirty or self._frame is None:
            return
        out = self._require_output()
        if out.resolve() == self.path.resolve() and not getattr(self, "_backed_up", False):
            atomic_copy(self.path, backup_path(self.path))
            self._backed_up = True
        # write-back keeps values exactly (no formula quoting: that would change the data we journaled)
        if self.kind == "csv" and not self._trimmed:
            self._capture_layout()
            assert self._layout is not None
            write_csv_like(self._frame, out, self._layout, self._base, self.id_field,
                           bom=self.encoding.lower() == "utf-8-sig")
        elif self.kind == "xlsx":
            write_xlsx_exact(self._frame, out)
        else:
            write_frame(self._frame, out, self.kind, delimiter=self.delimiter, encoding=self.encoding)

    def close(self) -> None:
        self.flush()


def open_file_connector(path: Path, options: object) -> FileConnector:
    declared = getattr(options, "format", None)
    by_name = _EXTENSIONS.get(path.suffix.lower())
    fmt, note = resolve_format(path, format_for(path, declared) if declared else None, by_name)
    if fmt is None:
        fmt = format_for(path, declared)
    connector = FileConnector(
        path,
        fmt,
        sheet=getattr(options, "sheet", None),
        id_column=getattr(options, "id_column", None),
        encoding=getattr(options, "encoding", None),
        delimiter=getattr(options, "delimiter", None),
    )
    extra = getattr(options, "extra", None) or {}
    connector.header_row = _positive(extra.get("header_row"), "--header-row")
    connector.skip_footer = _positive(extra.get("skip_footer"), "--skip-footer", zero=True)
    connector.format_note = note
    return connector


def _positive(value: object, option: str, *, zero: bool = False) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise UsageError(f"{option} takes a number, got {value!r}") from None
    if number < (0 if zero else 1):
        raise UsageError(f"{option} must be {'0 or more' if zero else '1 or more'}, got {number}")
    return number
