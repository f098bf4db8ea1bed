"""File connectors: CSV (encoding and delimiter detected), XLSX, Parquet and JSON Lines as sources and targets.

A file target never overwrites its input unless asked: writes go to ``output`` (or, with
``in_place``, to the input after a backup copy), atomically via a temp file + rename.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from crmclean.connectors.base import (
    FieldInfo,
    FieldUpdate,
    MergeRequest,
    Record,
    Value,
    WriteOutcome,
    values_hash,
)
from crmclean.errors import SourceError, UsageError
from crmclean.table import ROW_ID, ReadIssue, detect_id_column

FORMATS = ("csv", "xlsx", "parquet", "jsonl")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
}
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# CRM notes and descriptions can be megabytes; the csv module refuses fields over 128 KiB by default
csv.field_size_limit(2**31 - 1)


def format_for(path: Path, override: str | None) -> str:
    if override:
        fmt = override.lower().lstrip(".")
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {override!r}; use one of {', '.join(FORMATS)}")
        return fmt
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"cannot tell the format of {path.name!r} from its extension",
            hint=f"pass --format ({', '.join(FORMATS)})",
        )
    return fmt


# ---------------------------------------------------------------- CSV detection


def detect_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-8, cp1251 or latin-1, from the first bytes of a file."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sample's end is still UTF-8
        if exc.start >= len(sample) - 4 and exc.reason.startswith("unexpected end"):
            return "utf-8"
    # cp1251 puts Cyrillic letters at 0xC0-0xFF (Ёё at 0xA8/0xB8), so Russian words are runs of
    # high bytes; latin-1 text has isolated accented letters between ASCII ones ("Müller").
    def is_cyr(b: int) -> bool:
        return b >= 0xC0 or b in (0xA8, 0xB8)

    high = paired = 0
    for i, b in enumerate(sample):
        if b < 0x80:
            continue
        high += 1
        if is_cyr(b) and ((i > 0 and is_cyr(sample[i - 1])) or (i + 1 < len(sample) and is_cyr(sample[i + 1]))):
            paired += 1
    if high and paired / high > 0.5:
        return "cp1251"
    return "latin-1"


def detect_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first records most consistently."""
    best, best_score = ",", -1.0
    for delim in _DELIMITERS:
        try:
            rows = list(_take(csv.reader(io.StringIO(text), delimiter=delim), 50))
        except csv.Error:
            continue
        if len(rows) > 1:
            rows = rows[:-1]  # the sample may cut the last record
        counts = [len(r) for r in rows if r]
        if not counts or counts[0] < 2:
            continue
        header = counts[0]
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = consistent * 100 + min(header, 50)
        if score > best_score:
            best, best_score = delim, score
    return best


def _take(it: Iterator[list[str]], n: int) -> Iterator[list[str]]:
    for i, row in enumerate(it):
        if i >= n:
            return
        yield row


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample[:8192] and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return sample.startswith((b"PK\x03\x04", b"%PDF", b"\x89PNG", b"PAR1", b"\xd0\xcf\x11\xe0"))


def _dedupe_headers(headers: list[str], path: Path, issues: list[ReadIssue]) -> list[str]:
    """Duplicate or empty headers get a suffix so no column is lost; each rename is reported."""
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(headers):
        name = raw.strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            new = f"{name}_{seen[name]}"
            issues.append(ReadIssue(1, f"duplicate header {name!r} renamed to {new!r}", kept=True))
            name = new
        else:
            seen[name] = 1
        out.append(name)
    return out


def read_csv_file(
    path: Path, encoding: str | None = None, delimiter: str | None = None
) -> tuple[pl.DataFrame, list[ReadIssue], str, str]:
    """Read a CSV as all-text columns; returns (frame, issues, encoding, delimiter)."""
    with open(path, "rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
    if not sample.strip():
        raise SourceError("file is empty (no header row)", path=str(path))
    if _looks_binary(sample):
        raise SourceError("not a text CSV file (binary content)", path=str(path),
                          hint="for Excel files use the .xlsx extension or --format xlsx")
    enc = encoding or detect_encoding(sample)
    raw = path.read_bytes()
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {enc}: {exc}", path=str(path),
                          hint="pass --encoding (utf-8, cp1251, latin-1)") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    delim = delimiter or detect_delimiter(text[:_SNIFF_BYTES])
    if delim in ("\\t", "tab", "TAB"):
        delim = "\t"
    data = raw if enc == "utf-8" else text.encode("utf-8")

    issues: list[ReadIssue] = []
    try:
        header = next(csv.reader(io.StringIO(text[:_SNIFF_BYTES], newline=""), delimiter=delim))
    except StopIteration:
        raise SourceError("file is empty (no header row)", path=str(path)) from None
    except csv.Error as exc:
        raise SourceError(f"malformed CSV header: {exc}", path=str(path), line=1) from None
    width = len(header)
    names = _dedupe_headers(header, path, issues)

    def parse() -> pl.DataFrame:
        # truncate_ragged_lines is a no-op on well-formed files; ragged rows are reported by the scan below
        return pl.read_csv(io.BytesIO(data), separator=delim, infer_schema=False, has_header=True,
                           new_columns=names, truncate_ragged_lines=True, raise_if_empty=False, quote_char='"')

    # polars parses (releasing the GIL) while the C csv reader counts fields per record, which gives
    # exact line numbers for ragged rows even with multi-line quoted cells
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(parse)
        blank_lines = _scan_ragged(text, delim, width, path, issues)
        try:
            frame = future.result()
        except pl.exceptions.PolarsError as exc:
            raise SourceError(f"cannot parse CSV: {str(exc).splitlines()[0]}", path=str(path)) from None
    if frame.width < width:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in names[frame.width:])
    # empty strings are missing values; strip nothing else: standardization decides
    frame = frame.with_columns(pl.all().cast(pl.String)).with_columns(
        pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep()
    )
    if blank_lines:
        issues.append(ReadIssue(None, f"{blank_lines} blank line(s) skipped", kept=False))
    return frame, issues, enc, delim


def _scan_ragged(text: str, delim: str, width: int, path: Path, issues: list[ReadIssue]) -> int:
    """Report records whose field count differs from the header's; returns the number of blank lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    blank_lines = 0
    try:
        next(reader, None)
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            n = len(row)
            if n == width:
                continue
            if n == 0:
                blank_lines += 1
            elif n > width:
                extra = [v for v in row[width:] if v != ""]
                message = f"extra values {extra[:5]!r} dropped" if extra else "empty trailing fields ignored"
                issues.append(ReadIssue(start, f"{n} fields, header has {width}: {message}", kept=True))
            else:
                issues.append(ReadIssue(start, f"{n} fields, header has {width}: missing values left empty",
                                        kept=True))
    except csv.Error as exc:
        raise SourceError(f"malformed CSV: {exc}", path=str(path), line=reader.line_num) from None
    return blank_lines


def read_xlsx_file(path: Path, sheet: str | None) -> tuple[pl.DataFrame, list[ReadIssue]]:
    """First non-empty sheet (or ``sheet``), all values as text; merged cells give their value to the first cell."""
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise SourceError(f"XLSX support needs openpyxl: {exc}", path=str(path)) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a non-workbook
        raise SourceError(f"not a readable XLSX workbook ({type(exc).__name__})", path=str(path)) from None
    issues: list[ReadIssue] = []
    try:
        if sheet is not None:
            names = wb.sheetnames
            if sheet.isdigit() and 1 <= int(sheet) <= len(names):
                ws = wb[names[int(sheet) - 1]]
            elif sheet in names:
                ws = wb[sheet]
            else:
                raise UsageError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(names)}")
            rows = list(ws.iter_rows(values_only=True))
        else:
            rows = []
            for ws in wb.worksheets:
                rows = list(ws.iter_rows(values_only=True))
                if any(any(v is not None and str(v).strip() for v in r) for r in rows):
                    if ws is not wb.worksheets[0]:
                        issues.append(ReadIssue(None, f"first sheet empty; read sheet {ws.title!r}", kept=True))
                    break
    finally:
        wb.close()
    # drop fully empty leading rows (titles above the header are common in exports)
    while rows and not any(v is not None and str(v).strip() for v in rows[0]):
        rows.pop(0)
    if not rows:
        raise SourceError("workbook has no data (all sheets empty)", path=str(path))
    header_raw = ["" if v is None else str(v) for v in rows[0]]
    while header_raw and header_raw[-1] == "":
        header_raw.pop()
    width = len(header_raw)
    names = _dedupe_headers(header_raw, path, issues)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for line, row in enumerate(rows[1:], start=2):
        if not any(v is not None and str(v).strip() for v in row):
            continue
        extra = [v for v in row[width:] if v is not None and str(v).strip()]
        if extra:
            issues.append(ReadIssue(line, f"values beyond the header {extra[:5]!r} dropped", kept=True))
        for i in range(width):
            v = row[i] if i < len(row) else None
            columns[i].append(_cell_text(v))
    frame = pl.DataFrame({n: pl.Series(n, c, dtype=pl.String) for n, c in zip(names, columns, strict=True)})
    return frame, issues


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        text = v.isoformat()  # type: ignore[attr-defined]
        return text[:-9] if text.endswith("T00:00:00") else text
    s = str(v)
    return s if s != "" else None


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise SourceError(f"not a readable Parquet file ({str(exc).splitlines()[0][:120]})", path=str(path)) from None
    return frame.with_columns(pl.all().cast(pl.String))


def _read_jsonl(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_ndjson(path, infer_schema_length=None)
    except Exception as exc:
        raise SourceError(f"not valid JSON Lines ({str(exc).splitlines()[0][:160]})", path=str(path)) from None
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            continue
        if isinstance(dtype, (pl.List, pl.Struct, pl.Array)):
            casts.append(pl.col(name).map_elements(lambda v: str(v), return_dtype=pl.String))
        else:
            casts.append(pl.col(name).cast(pl.String))
    return frame.with_columns(casts) if casts else frame


# ---------------------------------------------------------------- writing


def neutralize_formula(value: str) -> str:
    """Prefix a quote so a spreadsheet shows '=SUM(..)' as text instead of running it."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _neutralized(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for name in frame.columns:
        col = pl.col(name).cast(pl.String)
        risky = col.str.contains(r"^[=+\-@\t\r]")
        # phone numbers like +7 999 ... are data, not formulas: only a leading + followed by digits/spaces is safe
        safe_phone = col.str.contains(r"^\+[\d\s()\-]+$")
        exprs.append(pl.when(risky & ~safe_phone).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.select(exprs)


def write_frame(frame: pl.DataFrame, path: Path, fmt: str, *, delimiter: str = ",", encoding: str = "utf-8") -> None:
    """Write atomically: a temp file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.select([c for c in frame.columns if not c.startswith("__")])
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if fmt == "csv":
            safe = _neutralized(frame)
            if encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
                safe.write_csv(tmp, separator=delimiter, include_bom=encoding.lower() == "utf-8-sig")
            else:
                buf = io.StringIO()
                safe.write_csv(buf, separator=delimiter)
                Path(tmp).write_bytes(buf.getvalue().encode(encoding, errors="replace"))
        elif fmt == "xlsx":
            _write_xlsx(_neutralized(frame), Path(tmp))
        elif fmt == "parquet":
            frame.write_parquet(tmp)
        elif fmt == "jsonl":
            frame.write_ndjson(tmp)
        else:
            raise UsageError(f"cannot write format {fmt!r}")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(frame.columns)
    for row in frame.iter_rows():
        ws.append(list(row))
    wb.save(path)


def backup_path(path: Path) -> Path:
    n = 0
    while True:
        cand = path.with_name(f"{path.name}.bak" if n == 0 else f"{path.name}.bak{n}")
        if not cand.exists():
            return cand
        n += 1


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
        self._dirty = False
        self.id_field = ROW_ID

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
        if self.kind == "csv":
            frame, issues, self.encoding, self.delimiter = read_csv_file(path, self._encoding, self._delimiter)
        elif self.kind == "xlsx":
            frame, issues = read_xlsx_file(path, self.sheet)
        elif self.kind == "parquet":
            frame, issues = _read_parquet(path), []
        else:
            frame, issues = _read_jsonl(path), []
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
        return frame

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
        sub = frame.filter(pl.col(self.id_field).is_in(list(ids)))
        if fields:
            sub = sub.select([self.id_field, *[f for f in fields if f in sub.columns and f != self.id_field]])
        return {row[self.id_field]: row for row in sub.iter_rows(named=True)}

    def version_of(self, record: Mapping[str, Value]) -> str:
        return values_hash(record)

    # -- writing: changes accumulate in memory and land atomically on close()/flush()
    def current(self) -> pl.DataFrame:
        """The target's present state: the output file if it exists, else the input."""
        if self.output is not None and self.output.exists() and self.output != self.path and not self._dirty:
            reader = FileConnector(self.output, self.kind, sheet=self.sheet,
                                   id_column=None if self.id_field == ROW_ID else self.id_field,
                                   encoding=self.encoding, delimiter=self.delimiter)
            self._frame = reader.load()
            self._dirty = True  # from now on our in-memory frame is the truth
        return self.load()

    def _require_output(self) -> Path:
        if self.output is None:
            raise UsageError(f"{self.path}: refusing to write; give an output file or --in-place")
        return self.output

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        self._require_output()
        frame = self.current()
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
            for f, v in up.values.items():
                by_field.setdefault(f, {})[up.record_id] = v
            outcomes.append(WriteOutcome(up.record_id, "ok"))
        exprs = []
        for f, mapping in by_field.items():
            keys = pl.Series(list(mapping.keys()), dtype=pl.String)
            vals = pl.Series(list(mapping.values()), dtype=pl.String)
            idcol = pl.col(self.id_field)
            exprs.append(
                pl.when(idcol.is_in(keys)).then(idcol.replace_strict(keys, vals, default=None))
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
        self._require_output()
        frame = self.current()
        rows = []
        outcomes = []
        for rec in records:
            row = {c: rec.get(c) for c in frame.columns}
            if self.id_field == ROW_ID and not row.get(ROW_ID):
                row[ROW_ID] = str(frame.height + len(rows) + 1)
            rows.append(row)
            outcomes.append(WriteOutcome(str(row[self.id_field]), "ok", new_id=str(row[self.id_field])))
        if rows:
            self._frame = pl.concat([frame, pl.DataFrame(rows, schema=frame.schema)])
            self._dirty = True
        return outcomes

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        self._require_output()
        frame = self.current()
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
            shutil.copy2(self.path, backup_path(self.path))
            self._backed_up = True
        write_frame(self._frame, out, self.kind, delimiter=self.delimiter, encoding=self.encoding)

    def close(self) -> None:
        self.flush()


def open_file_connector(path: Path, options: object) -> FileConnector:
    fmt = format_for(path, getattr(options, "format", None))
    return FileConnector(
        path,
        fmt,
        sheet=getattr(options, "sheet", None),
        id_column=getattr(options, "id_column", None),
        encoding=getattr(options, "encoding", None),
        delimiter=getattr(options, "delimiter", None),
    )
