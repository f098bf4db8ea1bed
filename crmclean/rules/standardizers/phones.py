"""Phone rules (PHONE001 format, PHONE002 invalid numbers): thin rules over :mod:`crmclean.fields.phone`."""

from __future__ import annotations

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.phone import (
    PHONE_ROLES,
    PhoneFormat,
    analyze_phones,
    foreign_readings,
    format_phone,
    invalid_phone_hints,
)
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    FlagOptions,
    StdResult,
    derived_name,
    findings_where,
    first_role_column,
    flag_severity,
    map_unique_fast,
    unfilled_mask,
)

# ---------------------------------------------------------------- the rules


def _region_series(ctx: RuleContext, n: int) -> pl.Series | str:
    """Each record's country (alpha-2) from a country column, else the default region."""
    from crmclean.fields.country import alpha2_codes

    default = (ctx.default_region or "RU").upper()
    col = first_role_column(ctx, ("country",))
    if col is None:
        return default
    codes = alpha2_codes(ctx.frame.get_column(col))
    return codes.fill_null(default).alias("region")


def _no_country_mask(ctx: RuleContext, n: int) -> pl.Series:
    """True for records whose country is unknown (no country column, or an empty/unrecognized cell)."""
    from crmclean.fields.country import alpha2_codes

    col = first_role_column(ctx, ("country",))
    if col is None:
        return pl.repeat(True, n, eager=True).alias("")
    return alpha2_codes(ctx.frame.get_column(col)).is_null().alias("")


def _foreign_readings(values: pl.Series, info: pl.DataFrame, no_country: pl.Series, ctx: RuleContext) -> pl.DataFrame:
    """Per row: kind/e164/region of another country's reading, for records with no country (else nulls).

    Candidates are cells typed without a country code that the default region either cannot
    read (and one other reading can) or reads while they are written the North-American way
    and valid there too; everything else is null.

    A run that keeps no proposals (``ctx.proposals``: the match profile) reads only cells the default
    region reads: the other kind ("elsewhere") is only suggested and reported, it changes no value.
    """
    n = len(values)
    default = (ctx.default_region or "RU").upper()
    unread = info.get_column("e164").is_null()
    cand = no_country & values.is_not_null()
    if not ctx.proposals:
        cand = cand & ~unread  # "ambiguous" needs the default region's reading
    out = pl.DataFrame({"kind": _nulls(n), "e164": _nulls(n), "region": _nulls(n)})
    if not cand.any():
        return out
    idx = cand.arg_true()  # the text tests only on the records they can concern
    text, unread = values.gather(idx), unread.gather(idx)
    typed = (~text.str.strip_chars().str.starts_with("+").fill_null(True)
             & text.str.count_matches(r"\d").is_between(10, 13).fill_null(False)
             & (unread | text.str.contains(r"\d{3}[\s.\-]\d{4}\s*$").fill_null(False)))
    idx = idx.filter(typed)
    if idx.is_empty():
        return out
    found = foreign_readings(values.gather(idx), default)
    return pl.DataFrame({name: out.get_column(name).scatter(idx, found.get_column(name)) for name in out.columns})


class PhoneFormatOptions(RuleOptions):
    format: PhoneFormat = Field("E164", description="Output format: E164 (+74951234567), INTERNATIONAL "
                                "(+7 495 123-45-67), NATIONAL (8 (495) 123-45-67) or RFC3966 (tel:+7-495-123-45-67).")
    region: str | None = Field(None, description="Country (ISO alpha-2) for numbers without a country code; "
                               "default: the record's country column, else `defaults.region`.")
    suggest_plus8: bool = Field(True, description="Propose +7 for 11-digit numbers typed as +8… (suggest only).")


@register
class PhoneE164(ColumnRule):
    """Parse phone numbers and write them in one format (E.164 by default).

    What it does: parses each number with Google's libphonenumber (``phonenumbers``) in
    the record's country (its country column), or by the number's own +prefix, or in
    ``defaults.region``. Handles the Russian trunk prefix ``8``, ``+7``, ``7-…``,
    brackets, dots and dashes. An extension ("доб. 123", "ext 45", "x45") moves to
    stays in the cell after its number ("+74951234567 доб. 123"); a cell with several numbers
    keeps every one, each normalized, joined with the cell's own separator (``<column>__ext`` and
    ``<column>__extra`` show the parts). The number type (mobile, fixed_line, toll_free …) is
    available as ``<column>__type`` (written with ``derived: all``).

    Why: "8 (495) 123-45-67", "+7 495 1234567" and "74951234567" are one number; only
    one spelling matches in duplicate checks, dialers and integrations.

    Invalid numbers are never rewritten into another number: they stay as typed and
    PHONE002 reports why.

    A record with no country is read in ``defaults.region``, but only when that reading is
    sure: a number valid only as another country's number (``(212) 555-0142`` in a Russian
    file) is *suggested* in that country, and a number written the North-American way that is
    valid in both (``(917) 555-0142``: +7 917… or +1 917…) is kept as typed with the other
    reading suggested. Each such record gets an info finding, so the report counts them.
    """

    code = "PHONE001"
    name = "phone.e164"
    summary = "Parse phones in the record's country and write E.164; every number of a cell and its extension kept."
    roles = PHONE_ROLES
    order = 70
    reads_roles = ("country",)  # each record's region
    Options = PhoneFormatOptions
    examples = (
        Example("8 (495) 123-45-67", "+74951234567", "Russian trunk prefix 8"),
        Example("+7 916 123 45 67", "+79161234567"),
        Example("7-916-123-45-67", "+79161234567"),
        Example("8 495 123-45-67 доб. 123", "+74951234567 доб. 123", "Phone__ext = 123"),
        Example("(212) 555-0142 ext 45", "+12125550142 ext. 45", "country column says US; Phone__ext = 45"),
        Example("+44 20 7946 0958", "+442079460958"),
        Example("8-916-123-45-67, 8 (495) 123-45-67", "+79161234567, +74951234567", "every number kept"),
        Example("(212) 555-0142", "(212) 555-0142", "no country, RU default: +12125550142 suggested, not fixed"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, PhoneFormatOptions)
        n = len(values)
        regions = opts.region.upper() if opts.region else _region_series(ctx, n)
        keys = {"v": values}
        if isinstance(regions, pl.Series):
            keys["r"] = regions
        if not opts.region:
            keys["nc"] = _no_country_mask(ctx, n)
        # every decision is a function of (cell, region, no country): each distinct triple is read once and the
        # results gathered back to the rows once (an office line typed on many records, the empty cells)
        code, uniq = _distinct_rows(pl.DataFrame(keys))
        one = _PhoneCells(self, uniq.get_column("v"), uniq.get_column("r") if "r" in uniq.columns else regions,
                          uniq.get_column("nc") if "nc" in uniq.columns else None, column, ctx)

        def back(s: pl.Series) -> pl.Series:
            return s if code is None else s.gather(code)

        findings = None
        if one.hit is not None and one.msg is not None:
            findings = findings_where(back(one.hit), values, column, severity="info", message=back(one.msg),
                                      hint="set the record's country (or PHONE001 region:) to decide")
        after = back(one.after)
        edits = [ColumnEdit(column, after, back(one.reason))]
        if one.suggested_value.is_not_null().any():
            edits.append(ColumnEdit(column, back(one.suggested_value.fill_null(one.after)),
                                    back(one.suggested_reason.fill_null("")), "suggest"))
        derived = {name: back(s) for name, s in one.derived.items()}
        # __ext / __extra are written as derived columns showing the parts; the cell itself keeps them too
        moved = {derived_name(column, "ext"), derived_name(column, "extra")}
        return StdResult(edits=edits, derived=derived, carries=moved, findings=findings)


def _distinct_rows(frame: pl.DataFrame) -> tuple[pl.Series | None, pl.DataFrame]:
    """(row -> index into the distinct rows, the distinct rows); (None, frame) when nearly every row differs."""
    n = frame.height
    if n == 0:
        return None, frame
    groups = frame.with_row_index("_row").group_by(frame.columns).agg(pl.col("_row"))
    if groups.height > 0.9 * n:
        return None, frame
    rows = groups.get_column("_row")
    which = pl.int_range(0, groups.height, dtype=pl.UInt32, eager=True).repeat_by(rows.list.len()).explode()
    return pl.repeat(0, n, dtype=pl.UInt32, eager=True).scatter(rows.explode(), which), groups.drop("_row")


class _PhoneCells:
    """PHONE001's decisions for each cell (``values``, each with its region and whether its record has no country)."""

    def __init__(self, rule: PhoneE164, values: pl.Series, regions: pl.Series | str, no_country: pl.Series | None,
                 column: str, ctx: RuleContext) -> None:
        opts = rule.options
        assert isinstance(opts, PhoneFormatOptions)
        from crmclean.fields.placeholder import placeholder_mask

        n = len(values)
        work = values.zip_with(~placeholder_mask(values, "phone"), pl.repeat(None, n, dtype=pl.String, eager=True).alias(""))
        # the reasons are PHONE002's: a run that keeps no findings does not ask phonenumbers for them
        info = analyze_phones(work, regions, opts.format, reasons=ctx.proposals, distinct=True)
        phone = info.get_column("phone")
        # a multi-value cell keeps every number (each normalized, in the input's own separator) and an extension
        # stays with its number: nothing is moved out of the cell (crmclean.model.multivalue, issue 11)
        after = _whole_cell(work, info, regions, opts.format).fill_null(values).alias(column)
        self.reason = (
            pl.DataFrame({"ext": info.get_column("ext"), "extra": info.get_column("extra"), "ok": phone.is_not_null()})
            .select(
                pl.concat_str(
                    pl.lit(f"phone → {opts.format}"),
                    pl.when(pl.col("ext").is_not_null() & pl.col("ok"))
                    .then(pl.lit("; extension kept")).otherwise(pl.lit("")),
                    pl.when(pl.col("extra").is_not_null() & pl.col("ok"))
                    .then(pl.lit("; every number of the cell kept")).otherwise(pl.lit("")),
                )
            )
            .to_series()
        )
        self.hit: pl.Series | None = None
        self.msg: pl.Series | None = None
        suggested_value = _nulls(n)
        suggested_reason = _nulls(n)
        if opts.suggest_plus8:
            suggested_value = info.get_column("suggestion")
            suggested_reason = suggested_value.is_not_null().to_frame("s").select(
                pl.when(pl.col("s")).then(pl.lit("'+8' looks like a mistyped '+7'")).otherwise(None)).to_series()
        if no_country is not None:
            foreign = _foreign_readings(work, info, no_country, ctx)
            kind = foreign.get_column("kind")
            hit = kind.is_not_null()
            if hit.any():
                ambiguous = (kind == "ambiguous").fill_null(False)
                msg = pl.DataFrame({"h": info.get_column("e164"), "k": kind, "e": foreign.get_column("e164"),
                                    "r": foreign.get_column("region")}).select(
                    pl.when(pl.col("k") == "ambiguous")
                    .then(pl.format("no country on the record: {} in the default region, but written the {} way "
                                    "and valid there as {}; kept as typed, {} suggested",
                                    pl.col("h"), pl.col("r"), pl.col("e"), pl.col("e")))
                    .otherwise(pl.format("no country on the record: valid only as a {} number {}; "
                                         "suggested, not fixed", pl.col("r"), pl.col("e")))
                ).to_series()
                # a number two countries could own is not rewritten: the cell keeps its text
                after = values.zip_with(ambiguous, after).alias(column)
                phone = phone.zip_with(~ambiguous, _nulls(n))
                info = info.with_columns(info.get_column(name).zip_with(~ambiguous, _nulls(n)).alias(name)
                                         for name in ("e164", "type", "ext", "extra", "extra_e164"))
                other = foreign.get_column("e164")
                if opts.format != "E164":
                    fmt = opts.format
                    other = map_unique_fast(other, lambda e: format_phone(e, fmt), pl.String)
                suggested_value = other.fill_null(suggested_value)
                suggested_reason = msg.fill_null(suggested_reason)
                self.hit, self.msg = hit, msg
        self.after = after
        self.suggested_value = suggested_value
        self.suggested_reason = suggested_reason
        ok = phone.is_not_null()
        self.derived = {
            derived_name(column, "ext"): info.get_column("ext").zip_with(ok, _nulls(n)),
            derived_name(column, "extra"): info.get_column("extra").zip_with(ok, _nulls(n)),
            derived_name(column, "type"): info.get_column("type"),
            derived_name(column, "e164"): info.get_column("e164"),
            derived_name(column, "e164_extra"): info.get_column("extra_e164"),
        }
        if ctx.proposals:  # for PHONE002: the reasons, so invalid numbers are not parsed twice
            self.derived[derived_name(column, "error")] = info.get_column("error")
            self.derived[derived_name(column, "suggestion")] = info.get_column("suggestion")


def ext_suffix(e164: str | None, ext: str) -> str:
    """An extension written after its number: " доб. 123" for Russian numbers, " ext. 123" otherwise."""
    return f" доб. {ext}" if (e164 or "").startswith("+7") else f" ext. {ext}"


def ext_suffix_expr(e164: pl.Expr, ext: pl.Expr) -> pl.Expr:
    """:func:`ext_suffix` column-wise."""
    return pl.when(e164.str.starts_with("+7").fill_null(False)).then(pl.lit(" доб. ")).otherwise(
        pl.lit(" ext. ")) + ext


def _whole_cell(values: pl.Series, info: pl.DataFrame, regions: pl.Series | str = "RU",
                fmt: PhoneFormat = "E164") -> pl.Series:
    """Every number of the cell, each normalized (an extension with its number), in the input's order and
    its own separator; a part that is no valid number stays as typed."""
    from crmclean.model.multivalue import BLANK_EDGE_PATTERN, SEPARATOR_PATTERN, cell_separator, join_cell, split_cell

    phone = info.get_column("phone")
    ext = info.get_column("ext")
    extra = info.get_column("extra")
    rows = (phone.is_not_null() & (ext.is_not_null() | extra.is_not_null())).fill_null(False)
    if not rows.any():
        return phone
    # a cell split_cell keeps whole (no separator, nothing to strip) is its own one part: its analysis is the
    # row's own, so the loop below would write its number and extension, or (several numbers) the cell as typed
    single = rows & ~values.str.contains(BLANK_EDGE_PATTERN + "|" + SEPARATOR_PATTERN).fill_null(True)
    if single.any():
        whole = pl.DataFrame({"v": values, "p": phone, "x": ext, "m": extra, "e": info.get_column("e164")}).select(
            pl.when(pl.col("m").is_not_null()).then(pl.col("v"))
            .when(pl.col("x").is_not_null() & (pl.col("x") != "")).then(pl.col("p") + ext_suffix_expr(pl.col("e"),
                                                                                                      pl.col("x")))
            .otherwise(pl.col("p"))
        ).to_series()
        phone = phone.zip_with(~single, whole)
        rows = rows & ~single
        if not rows.any():
            return phone
    idx = rows.arg_true().to_list()
    cell_values = values.gather(idx).to_list()
    region_list = regions.gather(idx).to_list() if isinstance(regions, pl.Series) else [regions] * len(idx)
    owner: list[int] = []
    parts: list[str] = []
    part_regions: list[str | None] = []
    for k, (v, r) in enumerate(zip(cell_values, region_list, strict=True)):
        for part in split_cell(v):
            owner.append(k)
            parts.append(part)
            part_regions.append(r)
    each = analyze_phones(pl.Series(parts, dtype=pl.String), pl.Series(part_regions, dtype=pl.String), fmt)
    shown: list[list[str]] = [[] for _ in idx]
    for k, raw, p, e164, x, more in zip(owner, parts, each.get_column("phone"), each.get_column("e164"),
                                        each.get_column("ext"), each.get_column("extra"), strict=True):
        if p is None or more is not None:  # not one valid number: as typed
            shown[k].append(raw)
        else:
            shown[k].append(p + (ext_suffix(e164, x) if x else ""))
    cells = [join_cell(s_, cell_separator(v)) for s_, v in zip(shown, cell_values, strict=True)]
    return phone.scatter(idx, pl.Series(cells, dtype=pl.String))


def _nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True).alias("")


class PhoneInvalidOptions(FlagOptions):
    region: str | None = Field(None, description="Country (ISO alpha-2) for numbers without a country code; "
                               "default: the record's country column, else `defaults.region`.")


@register
class PhoneInvalid(ColumnRule):
    """Flag phone numbers that are not valid, with the reason and a hint.

    What it does: reads the number the way libphonenumber does (``+CC …``; ``8 …`` and national
    digits in the record's country — from its country column, else ``defaults.region``) and
    reports cells with no valid number (too short, too long, unknown country code, a number
    range that does not exist in the country) and cells where one of several numbers is
    invalid. Extensions (``доб. 123``, ``ext 45``) are allowed. The hint proposes a correction,
    names the country where the number is valid, or shows what a valid number looks like.
    The value is never changed. Replaces the check PHONEV001.

    Why: an invalid number cannot be dialled or matched; the reason tells the steward
    whether a digit is missing or the country is wrong.
    """

    code = "PHONE002"
    name = "phone.invalid"
    aliases = ("PHONEV001", "phone.valid")
    summary = "Flag invalid phone numbers with the reason (too short, unknown country code, no such range)."
    roles = PHONE_ROLES
    fixes = False
    validates = True
    severity = "error"
    invalidates = True
    kpi = "invalid_phone"
    order = 71
    Options = PhoneInvalidOptions
    examples = (
        Example("8 (495) 123-45", "8 (495) 123-45", "flagged: too short for RU (9 digits)"),
        Example("+7 123 456 78 90", "+7 123 456 78 90", "flagged: no such number range in RU"),
        Example("+999 123 4567", "+999 123 4567", "flagged: unknown or missing country code"),
        Example("тел. 8 (916) 12-34", "тел. 8 (916) 12-34", "flagged: too short for RU (7 digits)"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, PhoneInvalidOptions)
        from crmclean.fields.placeholder import placeholder_mask

        known = getattr(ctx, "derived", None)
        if known is None:
            known = {}
        if (derived_name(column, "error") in known and derived_name(column, "suggestion") in known
                and not opts.region):
            # PHONE001 ran on this column: its reasons still hold (it never rewrites an invalid number)
            info = pl.DataFrame({"error": known[derived_name(column, "error")],
                                 "suggestion": known[derived_name(column, "suggestion")]})
            error = info.get_column("error")
            # the filler test only matters where there is a reason to report
            cand = error.is_not_null() & values.is_not_null()
            filler = pl.repeat(False, len(values), eager=True).alias("")
            if cand.any():
                filler = filler.scatter(cand.arg_true(), placeholder_mask(values.filter(cand), "phone"))
            bad = cand & ~filler
            regions: pl.Series | str = _region_series(ctx, len(values))
        else:
            work = values.zip_with(~unfilled_mask(ctx, values, column), _nulls(len(values)))
            regions = opts.region.upper() if opts.region else _region_series(ctx, len(values))
            info = analyze_phones(work, regions, "E164")
            error = info.get_column("error")
            bad = error.is_not_null() & work.is_not_null()
        if not bad.any():
            return StdResult()
        message = info.select((pl.lit("invalid phone: ") + pl.col("error").fill_null("")).alias("m")).to_series()
        sub = bad.arg_true()
        hint_sub = invalid_phone_hints(values.gather(sub), info.get_column("suggestion").gather(sub),
                                       regions.gather(sub) if isinstance(regions, pl.Series) else regions)
        hints = _nulls(len(values)).scatter(sub, hint_sub)
        findings = findings_where(bad, values, column, severity=flag_severity(self),  # type: ignore[arg-type]
                                  message=message, hint=hints)
        return StdResult(findings=findings)
