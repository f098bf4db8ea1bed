"""File connectors: CSV (encoding and delimiter detected), XLSX, Parquet and JSON Lines as sources and targets.

A file target never overwrites its input unless asked: writes go to ``output`` (or, with
``in_place``, to the input after a backup copy), atomically via a temp file + rename.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
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
from crmclean.connectors.exports import (
    SHEET_FORMATS,
    decode_entities,
    detect_delimiter_past_titles,
    drop_phantom_columns,
    frame_from_rows,
    read_sheet_rows,
    resolve_format,
    trim_csv_text,
)
from crmclean.errors import SourceError, UsageError
from crmclean.table import ROW_ID, ReadIssue, detect_id_column

FORMATS = ("csv", "xlsx", "parquet", "jsonl", "xls", "ods", "html")
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".xls": "xls", ".ods": "ods", ".html": "html", ".htm": "html",
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
    by_ext = _EXTENSIONS.get(path.suffix.lower())
    if by_ext is None:
        raise UsageError(
            f"cannot tell the format of {path.name!r} from its extension",
            hint=f"pass --format ({', '.join(FORMATS)})",
        )
    return by_ext


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
    path: Path, encoding: str | None = None, delimiter: str | None = None, *,
    header_row: int | None = None, skip_footer: int | None = None, trimmed: list[int] | None = None,
    titles: list[str] | None = None,
) -> tuple[pl.DataFrame, list[ReadIssue], str, str]:
    """Read a CSV as all-text columns; returns (frame, issues, encoding, delimiter).

    Title rows above the header and a report footer are cut first (``header_row``/``skip_footer``
    override the detection); ``trimmed`` (when given) receives the number of lines cut on top.
    """
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
    delim = delimiter or detect_delimiter_past_titles(text[:_SNIFF_BYTES], detect_delimiter)
    if delim in ("\\t", "tab", "TAB"):
        delim = "\t"
    issues: list[ReadIssue] = []
    untrimmed = text
    text, top = trim_csv_text(text, delim, header_row=header_row, skip_footer=skip_footer, issues=issues,
                              titles=titles)
    if trimmed is not None:
        trimmed.append(top)
    data = raw if enc == "utf-8" and text is untrimmed else text.encode("utf-8")
    trim_notes = len(issues)

    try:
        header = next(csv.reader(io.StringIO(text[:_SNIFF_BYTES], newline=""), delimiter=delim))
    except StopIteration:
        raise SourceError("file is empty (no header row)", path=str(path)) from None
    except csv.Error as exc:
        raise SourceError(f"malformed CSV header: {exc}", path=str(path), line=1) from None
    width = len(header)
    check_width(width, path)
    names = _dedupe_headers(header, path, issues)

    # polars ends records at \n only: old Mac / some 1C exports end lines with a bare \r (or mix them), which
    # polars would glue into fewer rows; the csv module reads every ending, so such files are parsed by it
    bare_cr = _BARE_CR.search(text) is not None

    def parse() -> pl.DataFrame:
        if bare_cr:
            return _parse_with_csv_module(text, delim, names, width)
        # truncate_ragged_lines is a no-op on well-formed files; ragged rows are reported by the scan below
        return pl.read_csv(io.BytesIO(data), separator=delim, infer_schema=False, has_header=True,
                           new_columns=names, truncate_ragged_lines=True, raise_if_empty=False, quote_char='"')

    # polars parses (releasing the GIL) while the C csv reader counts fields per record, which gives
    # exact line numbers for ragged rows even with multi-line quoted cells
    counted: list[int] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(parse)
        blank_lines = _scan_ragged(text, delim, width, path, issues, counted)
        try:
            frame = future.result()
        except pl.exceptions.PolarsError as exc:
            raise SourceError(f"cannot parse CSV: {str(exc).splitlines()[0]}", path=str(path)) from None
    if counted and frame.height != counted[0]:
        # physical records and parsed rows must agree one to one: never lose or invent a record silently
        line = _first_disagreement(text, delim, width, frame) + top
        raise SourceError(f"{counted[0]} records in the file but {frame.height} rows parsed; the first record "
                          "read differently starts here (line endings or quoting)", path=str(path), line=line,
                          hint="check the line endings and quotes around this line")
    if frame.width < width:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in names[frame.width:])
    # empty strings are missing values; strip nothing else: standardization decides
    frame = frame.with_columns(pl.all().cast(pl.String)).with_columns(
        pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep()
    )
    if blank_lines:
        issues.append(ReadIssue(None, f"{blank_lines} blank line(s) skipped", kept=False))
    if top:  # lines counted in the trimmed text: back to the file's line numbers
        for issue in issues[trim_notes:]:
            if issue.line is not None:
                issue.line += top
    return frame, issues, enc, delim


_BARE_CR = re.compile(r"\r(?!\n)")


def _parse_with_csv_module(text: str, delim: str, names: list[str], width: int) -> pl.DataFrame:
    """All-text frame from the csv module (every line ending: \n, \r\n and bare \r); blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    next(reader, None)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for row in reader:
        if not row:
            continue
        for i in range(width):
            columns[i].append(row[i] if i < len(row) else None)
    return pl.DataFrame({n: pl.Series(n, col, dtype=pl.String) for n, col in zip(names, columns, strict=True)})


def _first_disagreement(text: str, delim: str, width: int, frame: pl.DataFrame) -> int:
    """Line number where the csv module's records and the parsed rows first differ."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    next(reader, None)
    rows = frame.iter_rows()
    start = reader.line_num + 1
    try:
        for record in reader:
            if record:
                got = next(rows, None)
                want = [(record[i] if i < len(record) else "") or None for i in range(width)]
                if got is None or [v or None for v in got[:width]] != want:
                    return start
            start = reader.line_num + 1
    except csv.Error:
        pass
    return start


def _scan_ragged(text: str, delim: str, width: int, path: Path, issues: list[ReadIssue],
                 counted: list[int] | None = None) -> int:
    """Report records whose field count differs from the header's; returns the number of blank lines
    (``counted``, when given, receives the number of records)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    blank_lines = 0
    records = 0
    try:
        next(reader, None)
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            n = len(row)
            records += n > 0
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
    if counted is not None:
        counted.append(records)
    return blank_lines


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


def _bounded_rows(ws: object, path: Path) -> list[tuple[object, ...]]:
    """A sheet's rows as values, stopping with an error past the cell cap or at broken sheet XML."""
    limit = _cap("CRMCLEAN_MAX_CELLS", MAX_CELLS)
    rows: list[tuple[object, ...]] = []
    cells = 0
    try:
        for row in ws.iter_rows(values_only=True):  # type: ignore[attr-defined]
            cells += len(row)
            if cells > limit:
                raise SourceError(f"sheet has more than {limit:,} cells (at row {len(rows) + 1:,}); "
                                  "too large to read", path=str(path),
                                  hint="export it as CSV, or raise CRMCLEAN_MAX_CELLS")
            if len(row) > _cap("CRMCLEAN_MAX_COLUMNS", MAX_COLUMNS):
                check_width(len(row), path)
            rows.append(row)
    except SourceError:
        raise
    except Exception as exc:  # broken XML, bad cell types: the workbook is damaged, not crmclean
        raise SourceError(f"damaged XLSX sheet at row {len(rows) + 1:,} ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:120] if str(exc) else ''})", path=str(path)) from None
    return rows


def read_xlsx_file(path: Path, sheet: str | None, *, header_row: int | None = None,
                   skip_footer: int | None = None, titles: list[str] | None = None
                   ) -> tuple[pl.DataFrame, list[ReadIssue]]:
    """First non-empty sheet (or ``sheet``), all values as text; merged cells give their value to the first cell."""
    check_archive(path)
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
            rows = _bounded_rows(ws, path)
        else:
            rows = []
            for ws in wb.worksheets:
                rows = _bounded_rows(ws, path)
                if any(any(v is not None and str(v).strip() for v in r) for r in rows):
                    if ws is not wb.worksheets[0]:
                        issues.append(ReadIssue(None, f"first sheet empty; read sheet {ws.title!r}", kept=True))
                    break
    finally:
        wb.close()
    if not any(any(v is not None and str(v).strip() for v in r) for r in rows):
        raise SourceError("workbook has no data (all sheets empty)", path=str(path))
    # the header may sit below title rows (found, or --header-row); a report footer is dropped
    cells = [[_cell_text(v) for v in row] for row in rows]
    frame = frame_from_rows(cells, header_row=header_row, skip_footer=skip_footer, issues=issues,
                            dedupe_headers=lambda h, found: _dedupe_headers(h, path, found), titles=titles)
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


# A cell "would execute" in a spreadsheet when it starts with '=' (anything after it), or with + - @ and then
# holds formula-like content (a function call, a DDE '|', a sheet '!', an operator: '-1+2' computes), or with
# tab/CR before such a prefix. '-5', '@handle' and phone numbers ('+7 (999) 123-45-67') are data, written as is.
_LIVE_FORMULA_RS = r"(?s)^(?:[\t\r]*=|[\t\r]*[+\-@].*(?:\p{L}[\p{L}\p{N}_.]*\s*\(|[|!+\-*/^&<>=])|[\t\r]+[+\-@])"
_LIVE_FORMULA = re.compile(r"^(?:[\t\r]*=|[\t\r]*[+\-@].*(?:[^\W\d_][\w.]*\s*\(|[|!+\-*/^&<>=])|[\t\r]+[+\-@])",
                           re.DOTALL)
# phones (a list too), masked ones (+* *** ***-45-67), extensions (доб. 123, ext 45, x12)
_PHONE_RS = r"^\+[\d*\s()\-.,;+]+(?:(?:доб|ext|вн|x)\.?\s*[\d*]+[\d*\s()\-.,;+]*)*$"
_PHONE = re.compile(_PHONE_RS)


def is_live_formula(value: str) -> bool:
    """Would a spreadsheet run this cell as a formula (``=..``, ``+cmd|..``, ``@SUM(..)``, ``-1+2``)?"""
    return bool(_LIVE_FORMULA.match(value)) and not _PHONE.match(value)


def neutralize_formula(value: str) -> str:
    """Prefix a quote so a spreadsheet shows '=SUM(..)' as text instead of running it; other values untouched."""
    return "'" + value if is_live_formula(value) else value


def _neutralized(frame: pl.DataFrame, path: Path | None = None) -> pl.DataFrame:
    """Cells (and headers) that would run as formulas written as text, and said so; nothing else altered."""
    exprs = []
    live_counts = []
    for name in frame.columns:
        col = pl.col(name).cast(pl.String)
        live = (col.str.contains(_LIVE_FORMULA_RS) & ~col.str.contains(_PHONE_RS)).fill_null(False)
        live_counts.append(live.sum().alias(name))
        exprs.append(pl.when(live).then(pl.lit("'") + col).otherwise(col).alias(neutralize_formula(name)))
    cells = int(sum(frame.select(live_counts).row(0))) if frame.width and frame.height else 0
    headers = sum(1 for name in frame.columns if is_live_formula(name))
    if cells or headers:
        from rich.markup import escape

        from crmclean import ui

        what = ", ".join(p for p in (f"{cells} cell(s)" if cells else "", f"{headers} header(s)" if headers else "")
                         if p)
        ui.warn(f"{escape(path.name) + ': ' if path else ''}{what} that a spreadsheet would run as formulas written as "
                "text (prefixed with ')")
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
            safe = _neutralized(frame, path)
            if encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
                safe.write_csv(tmp, separator=delimiter, include_bom=encoding.lower() == "utf-8-sig")
            else:
                buf = io.StringIO()
                safe.write_csv(buf, separator=delimiter)
                Path(tmp).write_bytes(buf.getvalue().encode(encoding, errors=CSV_UNENCODABLE))
        elif fmt == "xlsx":
            _write_xlsx(_neutralized(frame, path), Path(tmp))
        elif fmt == "parquet":
            frame.write_parquet(tmp)
        elif fmt == "jsonl":
            frame.write_ndjson(tmp)
        else:
            raise UsageError(f"cannot write format {fmt!r}")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        full = _disk_full(exc, path)
        if full:
            raise full from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(frame: pl.DataFrame, path: Path | str, *, encoding: str = "utf-8-sig", delimiter: str = ",") -> str:
    """Write an output file crmclean produces (format from the extension); a CSV in ``encoding``/``delimiter``.

    Callers pass the source table's ``output_encoding``/``output_delimiter`` (cp1251 ``;`` for a spreadsheet
    export, else UTF-8 with BOM) so Russian Excel opens every CSV with Cyrillic intact. Returns the path.
    """
    path = Path(path)
    fmt = _EXTENSIONS.get(path.suffix.lower(), "csv")  # an unknown extension (changes.txt) is written as CSV
    if fmt == "csv":
        write_frame(frame, path, fmt, delimiter="\t" if path.suffix.lower() == ".tsv" else delimiter,
                    encoding=lossless_encoding(frame, encoding, path))
    else:
        write_frame(frame, path, fmt)
    return str(path)


# ---------------------------------------------------------------- output encodings (issue 14)
# A cp1251 CSV cannot hold every character: crmclean's own text (reasons "phone → E164") is written with ASCII
# stand-ins, and a data value cp1251 cannot hold makes the file UTF-8 with BOM instead (never a silent "?").

_SYMBOLS = {"→": "->", "←": "<-", "≥": ">=", "≤": "<=", "≠": "!=", "×": "x", "✓": "v", "✗": "x", "…": "...",
            "−": "-", "‑": "-", "⚠": "!", "•": "*", "·": "*"}
CSV_UNENCODABLE = "crmclean-symbols"  # codec error handler: the stand-ins above, else "?"


def _unencodable(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(_SYMBOLS.get(ch, "?") for ch in bad), err.end


codecs.register_error(CSV_UNENCODABLE, _unencodable)


def _charset_class(encoding: str) -> str | None:
    """A regex class of the characters a single-byte ``encoding`` cannot write (None: multi-byte, or unknown)."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return None
    if info.name.replace("_", "-").startswith(("utf", "gb18030")):
        return None
    decoded = bytes(range(256)).decode(info.name, errors="ignore")
    if len(decoded) > 256:
        return None
    allowed = set(decoded) | set(_SYMBOLS) | {"\n", "\r", "\t"}
    return "[^" + "".join(re.escape(ch) for ch in sorted(allowed)) + "]"


def lossless_encoding(frame: pl.DataFrame, encoding: str, path: Path | None = None) -> str:
    """``encoding`` when it can write every header and value of ``frame``, else ``utf-8-sig`` (with a warning)."""
    import logging

    pattern = _charset_class(encoding)
    if pattern is None:
        return encoding
    bad = next((c for c in frame.columns if re.search(pattern, c)), None)
    if bad is None:
        for name in frame.columns:
            column = frame.get_column(name)
            if column.dtype != pl.String:
                column = column.cast(pl.String, strict=False)
            if column.str.contains(pattern).fill_null(False).any():
                bad = name
                break
    if bad is None:
        return encoding
    logging.getLogger("crmclean").warning("%s: column %r holds characters %s cannot write; writing UTF-8 with BOM",
                                          path.name if path else "output", bad, encoding)
    return "utf-8-sig"


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


# ---------------------------------------------------------------- atomic outputs, free space (issue 17, item 6)
# Every file crmclean writes appears whole or not at all: a temp file in the same folder (created 0600 by
# mkstemp: outputs hold personal data), fsynced, then renamed over the target. A full disk is found before
# writing when the size is known, and is a source error (exit 3) saying "disk full", never a truncated file.

_FREE_MARGIN = 1 << 20  # keep 1 MiB spare


def ensure_free_space(folder: Path, needed: int, what: str) -> None:
    """SourceError (exit 3) when ``folder``'s file system has less than ``needed`` bytes (+1 MiB) free."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: the write itself will say
    if free < needed + _FREE_MARGIN:
        raise SourceError(f"disk full: {what} needs {needed / 2**20:,.1f} MiB, {free / 2**20:,.1f} MiB free",
                          path=str(folder), hint="free some space and run again")


def _disk_full(exc: OSError, path: Path) -> SourceError | None:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return SourceError("disk full while writing; nothing was left half-written", path=str(path),
                           hint="free some space and run again")
    return None


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (temp + fsync + rename), mode 0600, free space checked."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ensure_free_space(path.parent, len(payload), f"writing {path.name}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        full = _disk_full(exc, path)
        if full:
            raise full from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` (a backup) atomically, keeping its mode and times: never a truncated copy."""
    src, dst = Path(src), Path(dst)
    ensure_free_space(dst.parent, src.stat().st_size, f"the backup {dst.name}")
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copy2(src, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        full = _disk_full(exc, dst)
        if full:
            raise full from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
