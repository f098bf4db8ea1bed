"""The match profile: one row per record with the normalized values matching and scoring compare.

This is the seam between standardization and deduplication/validation: standardization
builds it (E.164 phones, lowercased emails, split name parts, company keys ...), the
matcher and completeness scoring read it, never raw strings.

PROFILE_SCHEMA is the contract. ``build_profile`` reads a :class:`StandardizeResult`
(running standardization when none is given): values come from the standardized table,
parts that are not in the table (name parts split from a full name, E.164 of every
number in a cell, seniority ...) from the derived columns the rules computed.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from crmclean.standardize import StandardizeResult

PROFILE_SCHEMA: dict[str, Any] = {
    "record_id": pl.String,
    "first_name": pl.String,  # proper-cased given name, salutation removed ("Иван", "Robert")
    "middle_name": pl.String,  # patronymic / middle name ("Иванович")
    "last_name": pl.String,  # surname ("Иванов", "van der Berg")
    "email": pl.String,  # primary valid email, lower-cased
    "emails": pl.List(pl.String),  # every valid email of the record (all email columns, split cells)
    "email_domain": pl.String,  # domain of the primary email
    "email_is_free": pl.Boolean,  # gmail.com, yandex.ru, mail.ru ...
    "email_is_role": pl.Boolean,  # info@, sales@ ...
    "phone": pl.String,  # primary valid phone in E.164
    "phones": pl.List(pl.String),  # every valid phone (E.164) of the record
    "company": pl.String,  # cleaned company name with legal form ("ООО «Ромашка»")
    "company_key": pl.String,  # legal-form-free, quote-free, lower-case key ("ромашка")
    "legal_form": pl.String,  # canonical legal form ("ООО", "LLC") or null
    "job_title": pl.String,  # canonical title when known, else cleaned
    "seniority": pl.String,  # C-level, VP, Director, Head, Manager, Specialist ... or null
    "function": pl.String,  # Sales, Marketing, Finance, IT ... or null
    "city": pl.String,  # cleaned city
    "country": pl.String,  # ISO 3166 alpha-2
    "inn": pl.String,  # digits only, checksum-valid or null
    "website_domain": pl.String,  # bare domain from a website column
    "owner": pl.String,
    "created_at": pl.String,
    "updated_at": pl.String,
}

_EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
_E164_SHAPE = r"^\+\d{7,15}$"
_NULL_LIST = pl.lit(None, dtype=pl.List(pl.String))
_FILLER_ADDRESS = (r"^(?:no-?e?mail|none|test|noreply|no-reply|x+|asdf)@"
                   r"|@(?:example\.\w+|test\.\w+|nomail\.\w+|noemail\.\w+)$")


def build_profile(table: Any, rules: Any = None, std: StandardizeResult | None = None) -> pl.DataFrame:
    """One normalized row per record (PROFILE_SCHEMA), from a standardization result (run here when not given)."""
    from crmclean.fields._unique import fork_pool
    from crmclean.rules.base import all_rules

    all_rules()  # the rule modules imported before the pool forks: else every worker imports them to unpickle a task
    # one process pool for the standardization's rules and the parts below, forked before either starts threads
    with fork_pool(table.frame.height if std is None else 0):
        return _build_profile(table, rules, std)


def _build_profile(table: Any, rules: Any, std: StandardizeResult | None) -> pl.DataFrame:
    from crmclean.fields._unique import in_threads
    from crmclean.fields.company import company_key, legal_form_of
    from crmclean.fields.country import country_alpha2
    from crmclean.fields.email import free_domains, role_local_parts
    from crmclean.fields.taxid import clean_tax_ids, inn_errors_clean
    from crmclean.fields.title import canonical_title
    from crmclean.rules.base import map_unique

    if std is None:
        from crmclean.standardize import standardize_table

        # only the values and derived columns: no change log, no flag-only rules (same profile, less work)
        std = standardize_table(table, rules, profile_only=True)
    out_table = std.table
    frame = out_table.frame
    derived = std.derived
    by_role = out_table.by_role
    n = frame.height

    def col(role: str) -> pl.Series | None:
        cols = [c for c in by_role.get(role, []) if c in frame.columns]
        return frame.get_column(cols[0]) if cols else None

    def der(column: str | None, suffix: str) -> pl.Series | None:
        if column is None:
            return None
        name = f"{column}__{suffix}"
        if name in derived.columns:
            return derived.get_column(name)
        return None

    def nulls(dtype: Any = pl.String) -> pl.Series:
        return pl.repeat(None, n, dtype=dtype, eager=True)

    def columns_of(*roles: str) -> list[str]:
        return [c for role in roles for c in by_role.get(role, []) if c in frame.columns]

    def first_col(role: str) -> str | None:
        cols = columns_of(role)
        return cols[0] if cols else None

    cols: dict[str, pl.Series] = {"record_id": frame.get_column(out_table.id_column).cast(pl.String)}

    # names: explicit columns win, parts split from a full name fill the gaps
    full = first_col("full_name")
    for part, role in (("first", "first_name"), ("middle", "middle_name"), ("last", "last_name")):
        explicit = col(role)
        split = der(full, part)
        value = explicit if explicit is not None else nulls()
        if split is not None:
            value = _coalesce(value, split) if explicit is not None else split
        elif explicit is None and full is not None:
            from crmclean.fields.names import split_full_names

            value = split_full_names(frame.get_column(full)).get_column(part)
        cols[role] = value

    def emails_part() -> dict[str, pl.Series]:
        # emails: every email column, its extra addresses, valid ones only, lower-cased
        email_lists = []
        for c in columns_of("email", "email2"):
            # a multi-value cell ("a@x.ru; b@y.ru"): its first address here, the others from <column>__extra
            main = frame.get_column(c).str.strip_chars().str.replace(r"(?s)\s*[,;\n].*$", "").str.to_lowercase()
            valid = der(c, "valid")
            main = main.zip_with(valid.fill_null(False), nulls()) if valid is not None else main.zip_with(
                main.str.contains(_EMAIL_SHAPE).fill_null(False), nulls())
            email_lists.append(main.cast(pl.String))
            extra = der(c, "extra")
            if extra is not None and extra.null_count() < len(extra):  # most files: no cell holds several addresses
                parts = extra.str.split("; ").list.eval(
                    pl.element().filter(pl.element().str.contains(_EMAIL_SHAPE)))
                email_lists.append(parts)
        # the record's list leaves fillers out (noemail@…, test@…, …@example.com) and its email is the list's first;
        # domain, free and role are read from the first address before that filter (the first non-null of the parts)
        emails = _concat_lists(email_lists, n, drop=_FILLER_ADDRESS)
        first = pl.DataFrame({f"p{i}": p if p.dtype == pl.String else p.list.drop_nulls().list.first()
                              for i, p in enumerate(email_lists)}).select(pl.coalesce(pl.all()).cast(pl.String)).to_series() \
            if email_lists else nulls()
        domain = first.str.extract(r"@(.+)$", 1)
        # is_free_domain, vectorized: the domain lower-cased, in the free-mail list
        is_free = domain.str.to_lowercase().is_in(pl.Series(sorted(free_domains()), dtype=pl.String).implode())
        # is_role_address, vectorized: the part before the first @, lower-cased, in the role list
        is_role = first.str.extract(r"^([^@]*)", 1).str.to_lowercase().is_in(
            pl.Series(sorted(role_local_parts()), dtype=pl.String).implode())
        return {"emails": emails, "email": emails.list.first(), "email_domain": domain, "email_is_free": is_free,
                "email_is_role": is_role}

    def phones_part() -> dict[str, pl.Series]:
        # phones: E.164 of every valid number of every phone column
        phone_lists = []
        for c in columns_of("phone", "mobile"):
            e164 = der(c, "e164")
            if e164 is None:
                raw = frame.get_column(c)
                e164 = raw.zip_with(raw.str.contains(_E164_SHAPE).fill_null(False), nulls())
            phone_lists.append(e164.cast(pl.String))
            extra = der(c, "e164_extra")
            if extra is not None:
                phone_lists.append(extra.str.split("; "))
        phones = _concat_lists(phone_lists, n)
        return {"phones": phones, "phone": phones.list.first()}

    # company
    company_col = first_col("company")
    company = col("company")
    cols["company"] = company if company is not None else nulls()
    key = der(company_col, "key")
    cols["company_key"] = key if key is not None else (
        map_unique(company, company_key, pl.String()) if company is not None else nulls())
    form = der(company_col, "legal_form")
    cols["legal_form"] = form if form is not None else (
        map_unique(company, legal_form_of, pl.String()) if company is not None else nulls())

    # job title: canonical (English) when known, else the cleaned value
    title_col = first_col("job_title")
    title = col("job_title")
    canonical = der(title_col, "canonical")
    seniority = der(title_col, "seniority")
    function = der(title_col, "function")
    if title is not None and (canonical is None or seniority is None):
        info = map_unique(title, lambda v: {"en": (m := canonical_title(v)).en, "s": m.seniority, "f": m.function},
                          pl.Struct({"en": pl.String, "s": pl.String, "f": pl.String})).struct.unnest()
        canonical, seniority, function = info.get_column("en"), info.get_column("s"), info.get_column("f")
    cols["job_title"] = (_coalesce(canonical, title) if canonical is not None and title is not None
                         else (title if title is not None else nulls()))
    cols["seniority"] = seniority if seniority is not None else nulls()
    cols["function"] = function if function is not None else nulls()

    city = col("city")
    cols["city"] = city if city is not None else nulls()
    country_col = first_col("country")
    iso = der(country_col, "iso2")
    country = col("country")
    cols["country"] = iso if iso is not None else (
        map_unique(country, country_alpha2, pl.String()) if country is not None else nulls())

    def inn_part() -> dict[str, pl.Series]:
        inn = col("inn")
        if inn is None:
            return {"inn": nulls()}
        digits = clean_tax_ids(inn)
        ok = (inn_errors_clean(digits).is_null() & digits.is_not_null()).fill_null(False)
        return {"inn": digits.zip_with(ok, nulls())}

    website = col("website")
    cols["website_domain"] = (
        website.str.strip_chars().str.to_lowercase().str.replace(r"^[a-z]+://", "").str.replace(r"^www\.", "")
        .str.replace(r"[/?#:].*$", "").str.strip_chars(".")
        if website is not None else nulls()
    )
    for role in ("owner", "created_at", "updated_at"):
        s = col(role)
        cols[role] = s if s is not None else nulls()

    # fillers ("нет", "Test Test", noemail@…) are not data: they must never make two records look alike
    from crmclean.fields.placeholder import placeholder_mask

    def without_fillers(field: str, role: str) -> dict[str, pl.Series]:
        return {field: cols[field].zip_with(~placeholder_mask(cols[field], role), nulls())}

    # the parts left are independent polars scans (and the INNs' checksums): they run at the same time
    parts = [emails_part, phones_part, inn_part] + [
        partial(without_fillers, field, role)
        for field, role in (("first_name", "first_name"), ("middle_name", "middle_name"), ("last_name", "last_name"),
                            ("company", "company"), ("company_key", "company"), ("job_title", "job_title"),
                            ("city", "city"))]  # the email: its list is filtered
    for columns in in_threads(parts):
        cols.update(columns)
    from crmclean.fields._memo import clear_memo

    clear_memo()  # the filler masks above are not needed again; free the columns they hold
    out = pl.DataFrame({name: series.alias(name) for name, series in cols.items()})
    return out.select([pl.col(c).cast(t) for c, t in PROFILE_SCHEMA.items()])


def _coalesce(a: pl.Series, b: pl.Series) -> pl.Series:
    return a.zip_with(a.is_not_null(), b)


def _concat_lists(parts: list[pl.Series], n: int, drop: str | None = None) -> pl.Series:
    """Row-wise concatenation of text and list-of-text columns, nulls, duplicates and values matching the
    ``drop`` pattern left out, order kept.

    Built from the long form (row, value): most rows hold one value, so one sort by row, a duplicate check only
    on rows holding several, and the list column made from the values and the rows' offsets. Wrapping every
    value in a list (concat_list) and a per-row list.eval cost twice as much (1,000,000 records: 1.4 -> 0.6 s).
    """
    import pyarrow as pa

    longs = []
    for s in parts:
        long = pl.DataFrame({"v": s if s.dtype == pl.String else s.cast(pl.List(pl.String))}).with_row_index("r")
        if s.dtype != pl.String:
            long = long.explode("v")  # in the list's order
        keep = pl.col("v").is_not_null() if drop is None else (pl.col("v").is_not_null()
                                                                & ~pl.col("v").str.contains(drop).fill_null(True))
        longs.append(long.filter(keep))
    if not longs:
        return pl.Series([[] for _ in range(n)], dtype=pl.List(pl.String)) if n else pl.Series(
            [], dtype=pl.List(pl.String))
    # stable: a row's values in the order of the parts, then of each list
    long = pl.concat(longs).sort("r", maintain_order=True).with_row_index("j")
    r = pl.col("r")
    several = long.filter((r == r.shift(1)) | (r == r.shift(-1)))
    if several.height:
        again = several.filter(~pl.struct("r", "v").is_first_distinct()).get_column("j")
        if len(again):
            long = long.filter(~pl.col("j").is_in(again.implode()))
    rows = long.get_column("r")
    offsets = rows.search_sorted(pl.int_range(0, n + 1, eager=True).cast(rows.dtype), side="left")
    # the values as Arrow string views: polars' own layout, so nothing is copied either way (a large_string array
    # was copied value by value twice, holding the GIL: 0.12 s per million values)
    values = long.get_column("v").to_arrow(compat_level=pl.CompatLevel.newest())
    lists = pa.LargeListArray.from_arrays(offsets.cast(pl.Int64).to_arrow(), values)
    out = pl.from_arrow(lists)
    assert isinstance(out, pl.Series)
    return out.cast(pl.List(pl.String))
