"""Writing frames (CSV, XLSX, Parquet, JSON Lines): formula neutralizing, output encodings that lose nothing."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

import polars as pl

from crmclean.connectors.files.atomic import replaced_atomically
from crmclean.connectors.files.formats import _EXTENSIONS
from crmclean.errors import UsageError

# ---------------------------------------------------------------- writing


# A cell "would execute" in a spreadsheet when it starts with '=' (anything after it), or with + - @ and then
# holds formula-like content (a function call, a DDE '|', a sheet '!', an operator: '-1+2' computes), or with
# tab/CR before such a prefix. '-5', '@handle' and phone numbers ('+7 (999) 123-45-67') are data, written as is.
_LIVE_FORMULA_RS = r"(?s)^(?:[\t\r]*=|[\t\r]*[+\-@].*(?:\p{L}[\p{L}\p{N}_.]*\s*\(|[|!+\-*/^&<>=])|[\t\r]+[+\-@])"
_LIVE_FORMULA = re.compile(r"^(?:[\t\r]*=|[\t\r]*[+\-@].*(?:[^\W\d_][\w.]*\s*\(|[|!+\-*/^&<>=])|[\t\r]+[+\-@])",
                           re.DOTALL)
_FORMULA_START_RS = r"^[\t\r=+\-@]"  # every alternative of _LIVE_FORMULA_RS begins so
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
    cells = 0
    # a formula begins with = + - @ (after tabs or carriage returns): only such cells meet the full patterns
    texts = frame.select(pl.col(name).cast(pl.String) for name in frame.columns)
    starts = texts.select(pl.col(name).str.contains(_FORMULA_START_RS).fill_null(False) for name in frame.columns)
    for name in frame.columns:
        col = pl.col(name).cast(pl.String)
        maybe = starts.get_column(name)
        if maybe.any():
            sub = texts.get_column(name).filter(maybe)
            hit = (sub.str.contains(_LIVE_FORMULA_RS) & ~sub.str.contains(_PHONE_RS)).fill_null(False)
            if hit.any():
                cells += int(hit.sum())
                live = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).scatter(maybe.arg_true(), hit)
                exprs.append(pl.when(pl.lit(live)).then(pl.lit("'") + col).otherwise(col).alias(neutralize_formula(name)))
                continue
        exprs.append(col.alias(neutralize_formula(name)))
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
    with replaced_atomically(path) as tmp:
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
