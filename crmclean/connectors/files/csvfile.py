"""CSV as a source: encoding and delimiter detected, ragged rows and stray quotes read without losing a cell."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

from crmclean.connectors.exports import detect_delimiter_past_titles, trim_csv_text
from crmclean.connectors.files.limits import check_width
from crmclean.errors import SourceError
from crmclean.table import ReadIssue

_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024

# CRM notes and descriptions can be megabytes; the csv module refuses fields over 128 KiB by default
csv.field_size_limit(2**31 - 1)

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
        regular = None if bare_cr else _regular_records(data, delim, width)
        if regular is not None:  # every record has the header's width: nothing to report, the count is exact
            counted.append(regular)
            blank_lines = 0
        else:
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


def _regular_records(data: bytes, delim: str, width: int) -> int | None:
    """The number of data records when the CSV bytes are regular — every record has ``width`` fields, none is
    blank, every quote opens a field or closes one (or doubles one inside it), no NUL — else None (then
    :func:`_scan_ragged` reads the file as the csv module does and reports what is irregular).

    Column-wise over the bytes (UTF-8: the quote, the delimiter and the line feed are never part of another
    character): a delimiter or a line feed is outside quotes when an even number of quotes precede it, so on a
    regular file the record boundaries and field counts are the csv module's. Files with a bare carriage return
    are not read here (the caller parses them with the csv module)."""
    if len(delim) != 1 or ord(delim) > 127 or delim in "\"\r\n":
        return None
    if not data or b"\x00" in data:
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    sep = ord(delim)
    # the quotes, line feeds and delimiters, found together (one scan for positions) and then told apart
    at = np.flatnonzero((arr == 34) | (arr == 10) | (arr == sep))
    kind = arr[at]
    is_quote = kind == 34
    quotes = at[is_quote]
    if len(quotes) % 2:
        return None  # a quoted field open at the end of the file
    if len(quotes):
        opening, closing = quotes[0::2], quotes[1::2]
        before = arr[np.maximum(opening - 1, 0)]
        doubled = np.zeros(len(opening), dtype=bool)
        doubled[1:] = opening[1:] - 1 == closing[:-1]
        if not ((opening == 0) | (before == sep) | (before == 10) | doubled).all():
            return None  # a quote inside an unquoted field: literal to the csv module
        after = arr[np.minimum(closing + 1, len(arr) - 1)]
        ends = (closing + 1 == len(arr)) | (after == sep) | (after == 13) | (after == 10) | (after == 34)
        if not ends.all():
            return None  # text after a closing quote
    # outside quotes: an even number of quotes before it (the running parity of the quotes among those bytes)
    outside = (np.bitwise_xor.accumulate(is_quote.view(np.uint8)) == 0 if len(quotes)
               else np.ones(len(at), dtype=bool))
    lines = at[(kind == 10) & outside]
    stops = lines if arr[-1] == 10 else np.append(lines, len(arr))
    starts = np.concatenate(([0], stops[:-1] + 1))
    size = stops - starts
    ending_cr = arr[np.maximum(stops - 1, 0)] == 13
    if ((size == 0) | ((size == 1) & ending_cr)).any():
        return None  # a blank line
    # the delimiters outside quotes, in order: width - 1 of them inside each record (every one lies in some record,
    # so when there are that many in all and each record's share begins and ends inside it, each has exactly that)
    seps = at[(kind == sep) & outside]
    if len(seps) != len(stops) * (width - 1):
        return None
    if width > 1:
        share = seps.reshape(len(stops), width - 1)
        if not ((share[:, 0] >= starts) & (share[:, -1] < stops)).all():
            return None
    return len(stops) - 1  # the header is the first record


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
