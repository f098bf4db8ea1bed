"""The record table: every source becomes one polars DataFrame of text columns plus what we know about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from crmclean.errors import SourceError
from crmclean.roles import columns_by_role, crm_field_roles, crm_object_type, detect_object, detect_roles

if TYPE_CHECKING:  # connectors read into tables (connectors -> table); the table never imports them at load time
    from crmclean.connectors import Connector
    from crmclean.connectors.base import FieldInfo

ROW_ID = "__row_id"  # synthesized record id (data row number) when the source has no id column
LINE = "__line"  # physical line in the source file where the record starts (files only)


@dataclass
class ReadIssue:
    """A problem with one input row: reported, never silently dropped."""

    line: int | None
    message: str
    kept: bool  # True when the row is still in the table (padded / truncated), False when skipped


@dataclass
class RecordTable:
    """Records from one source: all values text, columns in source order, one id column."""

    frame: pl.DataFrame
    id_column: str
    source: str
    kind: str = "csv"
    fields: list[FieldInfo] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # column -> role
    object_type: str = "contacts"
    issues: list[ReadIssue] = field(default_factory=list)
    object_evidence: list[str] = field(default_factory=list)  # why object_type (or "given" with --object)
    # how CSVs written from this table are encoded: the input's for a spreadsheet export, else UTF-8 with BOM
    output_encoding: str = "utf-8-sig"
    output_delimiter: str = ","

    @property
    def data_columns(self) -> list[str]:
        """The source's own columns (synthetic ``__`` columns excluded), in source order."""
        return [c for c in self.frame.columns if not c.startswith("__")]

    @property
    def by_role(self) -> dict[str, list[str]]:
        return columns_by_role(self.roles)

    @property
    def ids(self) -> pl.Series:
        return self.frame.get_column(self.id_column)

    def __len__(self) -> int:
        return self.frame.height

    def with_frame(self, frame: pl.DataFrame) -> RecordTable:
        return RecordTable(
            frame=frame,
            id_column=self.id_column,
            source=self.source,
            kind=self.kind,
            fields=self.fields,
            roles=self.roles,
            object_type=self.object_type,
            issues=self.issues,
            object_evidence=self.object_evidence,
            output_encoding=self.output_encoding,
            output_delimiter=self.output_delimiter,
        )


ID_CANDIDATES = ("id", "Id", "ID", "record_id", "RecordId", "hs_object_id", "Record ID", "recordId",
                 "uuid", "guid", "Ид", "ИД", "Идентификатор", "Код")


def detect_id_column(headers: list[str], frame: pl.DataFrame | None = None) -> str | None:
    """The record id column: a known id header whose values are unique and non-empty."""
    lowered = {h.lower(): h for h in headers}
    for cand in ID_CANDIDATES:
        header = cand if cand in headers else lowered.get(cand.lower())
        if header is None:
            continue
        if frame is None:
            return header
        col = frame.get_column(header)
        if col.null_count() == 0 and col.n_unique() == frame.height:
            return header
    return _id_by_role(headers, frame)


def _id_by_role(headers: list[str], frame: pl.DataFrame | None) -> str | None:
    """A header read as the record's own id ("Contact ID" of a Salesforce report, "Record Id" of Zoho)."""
    from crmclean.roles import detect_role

    for header in headers:
        if detect_role(header) != "id":
            continue
        if frame is None:
            return header
        col = frame.get_column(header)
        if col.null_count() == 0 and col.n_unique() == frame.height:
            return header
    return None


def finalize_table(
    frame: pl.DataFrame,
    *,
    source: str,
    kind: str,
    id_column: str | None,
    fields: list[FieldInfo] | None = None,
    role_overrides: Mapping[str, str] | None = None,
    object_type: str | None = None,
    issues: list[ReadIssue] | None = None,
    id_required_unique: bool = True,
    names: list[str] | None = None,
) -> RecordTable:
    """Attach id column, roles and object type to a freshly read frame."""
    from crmclean.connectors.base import FieldInfo

    headers = [c for c in frame.columns if not c.startswith("__")]
    if id_column == ROW_ID and ROW_ID in frame.columns:
        chosen = ROW_ID
    elif id_column is not None:
        if id_column not in headers:
            raise SourceError(f"id column {id_column!r} not found; columns: {', '.join(headers)[:300]}",
                              path=source)
        col = frame.get_column(id_column)
        if id_required_unique:
            empty = col.is_null() | (col.str.strip_chars() == "")
            if empty.any():
                row = int(empty.arg_true()[0]) + 1
                raise SourceError(f"id column {id_column!r} is empty in data row {row}", path=source)
            dup = col.is_duplicated()
            if dup.any():
                value = col.filter(dup)[0]
                raise SourceError(f"id column {id_column!r} has duplicate value {value!r}", path=source,
                                  hint="pass --id-column with a unique column, or none to use row numbers")
        chosen = id_column
    else:
        chosen = detect_id_column(headers, frame) or ROW_ID
        if chosen == ROW_ID and ROW_ID not in frame.columns:
            frame = frame.with_columns(
                pl.int_range(1, frame.height + 1, dtype=pl.Int64).cast(pl.String).alias(ROW_ID)
            )
    roles = detect_roles(headers, role_overrides)
    roles.pop(chosen, None)
    _drop_derived_roles(roles, headers, role_overrides)
    if object_type:
        evidence = ["given (--object, the rules file's object: or the CRM object)"]
    else:
        object_type, evidence = detect_object(headers, roles, names or [])
    return RecordTable(
        frame=frame,
        id_column=chosen,
        source=source,
        kind=kind,
        fields=fields or [FieldInfo(name=h) for h in headers],
        roles=roles,
        object_type=object_type,
        issues=issues or [],
        object_evidence=evidence,
    )


def _drop_derived_roles(roles: dict[str, str], headers: list[str], overrides: Mapping[str, str] | None) -> None:
    """crmclean's own derived columns (``Phone__ext``, ``Full Name__suffix`` of an earlier run) are never inputs."""
    from crmclean.model.multivalue import is_derived_column

    for header in headers:
        if header in roles and header not in (overrides or {}) and is_derived_column(header, headers):
            del roles[header]


def read_table(
    connector: Connector,
    *,
    role_overrides: Mapping[str, str] | None = None,
    object_type: str | None = None,
    id_column: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> RecordTable:
    """Pull every page of a connector into one RecordTable."""
    fields = connector.describe()
    pages: list[pl.DataFrame] = []
    done = 0
    for page in connector.read_pages():
        pages.append(page)
        done += page.height
        if progress:
            progress(done, None)
    if pages:
        frame = pl.concat(pages, how="diagonal_relaxed")
    else:
        frame = pl.DataFrame({f.name: pl.Series([], dtype=pl.String) for f in fields})
    issues = list(getattr(connector, "issues", []) or [])
    explicit = id_column or connector.id_field
    table = finalize_table(
        frame,
        source=connector.spec,
        kind=connector.kind,
        id_column=explicit,
        fields=fields,
        # a CRM object's standard fields have known roles; the rules file's `columns:` still wins
        # (a plugged-in connector may name them itself: ``field_roles``, and its ``record_type``)
        role_overrides={**crm_field_roles(connector.spec), **(getattr(connector, "field_roles", None) or {}),
                        **(role_overrides or {})},
        object_type=object_type or crm_object_type(connector.spec) or getattr(connector, "record_type", None),
        issues=issues,
        names=_object_names(connector),
    )
    table.output_encoding, table.output_delimiter = output_style(connector)
    return table


def _object_names(connector: Connector) -> list[str]:
    """Names that hint at the object type: the file name and its title rows («Контрагенты»)."""
    from pathlib import Path

    titles = list(getattr(connector, "titles", []) or [])[:3]
    return ([Path(connector.spec).stem] if hasattr(connector, "path") else []) + titles


def output_style(connector: Connector, override: str | None = None) -> tuple[str, str]:
    """(encoding, delimiter) of CSVs written from this source, so Excel opens them with Cyrillic intact.

    A CSV exported from a spreadsheet (cp1251 with ``;``) gets its own encoding and delimiter back;
    everything else UTF-8 with a BOM (and the input CSV's delimiter). ``override`` (``--output-encoding``) wins.
    """
    encoding = str(getattr(connector, "encoding", "") or "").lower()
    delimiter = str(getattr(connector, "delimiter", ",") or ",")
    if connector.kind == "csv" and encoding and not encoding.startswith(("utf", "latin")):
        style = (encoding, delimiter)
    elif connector.kind == "csv":
        style = ("utf-8-sig", delimiter)
    else:
        style = ("utf-8-sig", ",")
    return (override, style[1]) if override else style
