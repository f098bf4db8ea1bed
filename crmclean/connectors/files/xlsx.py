"""XLSX as a source: rows read within the cell cap."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.connectors.exports import frame_from_rows
from crmclean.connectors.files.csvfile import _dedupe_headers
from crmclean.connectors.files.limits import MAX_CELLS, MAX_COLUMNS, _cap, check_archive, check_width
from crmclean.errors import SourceError, UsageError
from crmclean.table import ReadIssue


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
