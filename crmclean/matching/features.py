"""Match features: the per-record keys comparisons and blocking read, derived from the match profile.

The profile (``crmclean.profile.build_profile``) holds standardized values (E.164 phones,
lower-case emails, split name parts, company keys). This module adds what only matching
needs: transliteration skeletons, nickname canonical forms, phonetic keys, initials,
email local parts, phone keys — computed once per unique value. It also copes with a
thinner profile (names still in one ФИО column, raw phone digits, company names with
their legal form) so matching degrades gracefully instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from importlib import resources
from typing import Any

import polars as pl

from crmclean.fields._unique import in_threads
from crmclean.fields.names import GENERATION_RE, generations, given_names, parse_full_name
from crmclean.fields.phone import EXT_RE
from crmclean.matching.nicknames import canonical_first_name, groups_key
from crmclean.matching.translit import is_initial_key, latin_key, latin_text, phonetic_key

IDX = "__idx"  # row position in the table (UInt32): the join key of every pair frame

_EMAIL_RE = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[a-z]{2,}$"
_INITIALS = re.compile(r"^[^\W\d_]\.$")
_LEGAL_WORDS = frozenset(
    ["ооо", "оао", "зао", "пао", "нао", "ао", "ип", "тоо", "чп", "пк", "нко", "ано", "фгуп", "муп", "гуп", "ооо.", "ltd", "ltd.", "llc", "inc", "inc.", "corp", "corp.", "co", "co.", "gmbh", "ag", "plc", "sa", "sas", "sarl", "bv", "nv", "oy", "ab", "as", "spa", "srl", "llp", "lp", "pte", "pty", "kg", "ug", "ooo", "oao", "zao", "pao", "jsc", "cjsc", "pjsc", "ojsc", "limited", "incorporated", "corporation", "company", "the", "group"]
)
_LEGAL_PHRASES = (
    "общество с ограниченной ответственностью", "публичное акционерное общество", "закрытое акционерное общество",
    "открытое акционерное общество", "непубличное акционерное общество", "акционерное общество",
    "индивидуальный предприниматель", "limited liability company",
)
_HARD_C = re.compile(r"c(?=[aoulrtk]|$)")  # English hard c (Vector, Acme) as Russian к
_CITY_NOISE = re.compile(r"^(г\.?|город|gorod|city of)\s*", re.I)


@lru_cache(maxsize=1)
def _data_set(name: str) -> frozenset[str]:
    try:
        text = resources.files("crmclean").joinpath("data", name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return frozenset()
    return frozenset(
        line.split("\t")[0].strip().casefold().replace("ё", "е")
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def free_email_domains() -> frozenset[str]:
    return _data_set("email_free_domains.txt") | {
        "gmail.com", "yandex.ru", "mail.ru", "bk.ru", "list.ru", "inbox.ru", "ya.ru", "rambler.ru", "outlook.com",
        "yahoo.com", "hotmail.com", "icloud.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "web.de",
    }


def role_local_parts() -> frozenset[str]:
    return _data_set("email_role_localparts.txt") | {
        "info", "sales", "office", "hello", "contact", "admin", "support", "mail", "team", "hr", "zakaz", "buh",
    }


@lru_cache(maxsize=1)
def _known_first_names() -> frozenset[str]:
    names = given_names()
    from crmclean.matching.nicknames import _groups

    keys = set(_groups())
    return frozenset({latin_key(n) for n in names} | keys)


def split_full_name(text: str) -> tuple[str, str, str]:
    """(first, middle, last) from one ФИО / full-name cell: 'Иванов Иван Иванович', 'John Smith', 'Иванов И.И.'.

    Used only when the profile has no split name parts; the split is :func:`crmclean.fields.names.parse_full_name`
    (the one the NAME003 rule and the profile use), with the dots of initials dropped and "" for a missing part.
    """
    parts = parse_full_name(text)

    def bare(part: str | None) -> str:
        return " ".join(w[:-1] if _INITIALS.match(w) else w for w in part.split()) if part else ""

    return bare(parts.first), bare(parts.middle), bare(parts.last)


def _map(values: pl.Series, fn: Callable[[str], Any], dtype: Any = pl.String) -> pl.Series:
    """Apply ``fn`` once per unique non-null value (the hot path never loops over rows)."""
    uniques = values.drop_nulls().unique()
    mapped = pl.Series("__val", [fn(v) for v in uniques.to_list()], dtype=dtype, strict=False)
    lookup = pl.DataFrame({"__key": uniques, "__val": mapped})
    return (
        pl.DataFrame({"__key": values})
        .join(lookup, on="__key", how="left", maintain_order="left")
        .get_column("__val")
        .alias(values.name)
    )


def _map_many(values: pl.Series, fns: dict[str, Callable[[str], Any]]) -> pl.DataFrame:
    """Several String-valued :func:`_map` s of one column with one unique pass and one join."""
    uniques = values.drop_nulls().unique()
    items = uniques.to_list()
    lookup = pl.DataFrame(
        {"__key": uniques} | {name: pl.Series(name, [fn(v) for v in items], dtype=pl.String, strict=False)
                              for name, fn in fns.items()})
    return pl.DataFrame({"__key": values}).join(lookup, on="__key", how="left", maintain_order="left").drop("__key")


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_chars() > 0).then(expr).otherwise(None)


_PLAIN = re.compile(r"[a-z0-9.-]+")  # lower-case ASCII words at dots and hyphens (a web domain's stem)
_QUOTES = re.compile(r"[«»\"'“”„`]")
_WORD_BREAKS = re.compile(r"[\s,.()/&+-]+")


def _company_tokens(text: str) -> str:
    """Legal-form-free, quote-free Latin words of a company name: 'ООО «Ромашка»' -> 'romashka'.

    A plain lower-case ASCII text (a domain stem) skips the phrase and quote passes: it holds no legal phrase (each
    has a space or Cyrillic) and no quote."""
    return _latin_words(text if _PLAIN.fullmatch(text) else _without_legal_phrases(text))


def _without_legal_phrases(text: str) -> str:
    """``text`` casefolded, ё as е, with the legal-form phrases and quotes blanked."""
    low = text.casefold().replace("ё", "е")
    for phrase in _LEGAL_PHRASES:
        low = low.replace(phrase, " ")
    return _QUOTES.sub(" ", low)


def _latin_words(low: str) -> str:
    """The spelling-insensitive Latin keys of ``low``'s words that are not legal-form words."""
    words = [w for w in _WORD_BREAKS.split(low) if w and w not in _LEGAL_WORDS]
    if not words:
        return ""
    # spelling-insensitive words: Вектор ~ Vector, Кристалл ~ Kristal, Техносервис ~ Tekhnoservis
    keys = [_HARD_C.sub("k", latin_key(w)) or latin_text(w) for w in words]
    return " ".join(k for k in keys if k).strip()


def _phone_key(text: str) -> str | None:
    """Comparable phone key: the last ten digits (+7 495 123-45-67 ~ 8 (495) 1234567 ~ 495 123 45 67)."""
    return phone_keys(pl.Series([text], dtype=pl.String))[0]


def phone_keys(values: pl.Series) -> pl.Series:
    """Column-wise :func:`_phone_key`: last ten digits; filler (under 7 digits, one repeated digit) -> null.

    Non-digits are removed a run at a time (the same characters as one at a time, fewer replacements); one repeated
    digit is a text equal to itself shifted by one character (no per-row pattern to count)."""
    digits = values.str.replace_all(r"\D+", "")
    frame = pl.DataFrame({"d": digits})
    key = frame.select(
        pl.when(
            (pl.col("d").str.len_chars() >= 7) & (pl.col("d").str.tail(-1) != pl.col("d").str.head(-1))
        ).then(pl.col("d").str.slice(-10)).otherwise(None)
    ).to_series()
    return key.alias(values.name)


def phone_kinds(keys: pl.Series, e164: pl.Series) -> list[pl.Series]:
    """``personal_phones``: each record's phone keys without the landlines, and ``mobiles``: its mobile numbers' keys.

    By phonenumbers' number type for the numbering plan (each distinct number typed once): a FIXED_LINE (+7 495 ...,
    +44 20 ..., +49 89 ...) is a desk or an office switchboard, so two records sharing only it are one organization,
    not one person; a MOBILE (+7 9.., +44 7...) is one person's. Numbers the plan does not type (+1:
    FIXED_LINE_OR_MOBILE) are neither a landline nor a known mobile.
    """
    from crmclean.fields.phone import analyze_phones

    numbers = e164.explode().drop_nulls().unique()
    empty = pl.Series([], dtype=pl.String)
    types = analyze_phones(numbers, "RU").get_column("type") if numbers.len() else empty
    landlines = phone_keys(numbers.filter(types == "fixed_line")).drop_nulls().unique() if numbers.len() else empty
    mobiles = phone_keys(numbers.filter(types == "mobile")).drop_nulls().unique() if numbers.len() else empty
    return [_keep_in_lists(keys, landlines, keep=False).alias("personal_phones"),
            _keep_in_lists(keys, mobiles, keep=True).alias("mobiles")]


def _keep_in_lists(lists: pl.Series, values: pl.Series, *, keep: bool) -> pl.Series:
    """Each list's elements that are (``keep``) or are not in ``values``, order kept; null elements dropped, a null
    list stays null. Exploded and regrouped: ``is_in`` of a big set inside ``list.eval`` costs memory per row."""
    frame = pl.DataFrame({"k": lists}).with_row_index("__i")
    hit = pl.col("k").is_in(values.implode())
    kept = (frame.explode("k").filter(hit if keep else ~hit)
            .group_by("__i", maintain_order=True).agg(pl.col("k")))
    out = frame.select("__i").join(kept, on="__i", how="left", maintain_order="left").get_column("k")
    empty = pl.lit([], dtype=lists.dtype)
    return pl.DataFrame({"k": out, "null": lists.is_null()}).select(
        pl.when(pl.col("null")).then(None).otherwise(pl.col("k").fill_null(empty))).to_series()


def _title_key(text: str) -> str:
    return " ".join(latin_text(text).split())


# everyday names of big cities (abbreviations, slang, English) -> one key; other cities go through latin_key
_CITY_ALIASES: dict[str, str] = {
    alias: canonical
    for canonical, aliases in {
        "moskva": ("москва", "мск", "moscow", "moskva", "msk", "москва и мо", "moscow city"),
        "sanktpeterburg": ("санкт-петербург", "спб", "питер", "с.-петербург", "с-петербург", "санкт петербург",
                           "saint petersburg", "st. petersburg", "st petersburg", "sankt-peterburg", "spb",
                           "petersburg", "ленинград"),
        "ekaterinburg": ("екатеринбург", "екб", "yekaterinburg", "ekaterinburg"),
        "nizhnii novgorod": ("нижний новгород", "н. новгород", "н.новгород", "nizhny novgorod",
                             "nizhniy novgorod"),
        "rostovnadonu": ("ростов-на-дону", "ростов", "rostov-on-don", "rostov"),
        "novosibirsk": ("новосибирск", "нск", "novosibirsk"),
        "newyork": ("new york", "nyc", "new york city", "ny", "нью-йорк", "new york, ny"),
        "sanfrancisco": ("san francisco", "sf", "san francisco, ca", "сан-франциско"),
        "london": ("london", "лондон"),
        "munich": ("munich", "münchen", "muenchen", "мюнхен"),
        "berlin": ("berlin", "берлин"),
    }.items()
    for alias in aliases
}


def _city_key(text: str) -> str:
    cleaned = _CITY_NOISE.sub("", text.strip()).strip().casefold().replace("ё", "е")
    hit = _CITY_ALIASES.get(cleaned)
    if hit is None:
        cleaned = re.sub(r",\s*[a-z]{2}$", "", cleaned)  # "Austin, TX" -> "austin"
        hit = _CITY_ALIASES.get(cleaned)
    return hit.replace(" ", "") if hit else latin_key(cleaned)


def _email_local(email: str) -> str:
    local = email.split("@", 1)[0]
    return local.split("+", 1)[0]


FEATURE_COLUMNS: tuple[str, ...] = (
    IDX, "record_id", "fn", "fn_groups", "fn_canon", "fn_ph", "fn_canon_ph", "fi", "mn", "mi", "ln", "ln_ph", "ln_groups", "li",
    "name_display",
    "email", "emails", "email_local", "email_domain", "org_domain", "phones", "phone_e164", "company_text", "company_key",
    "company_ph", "inn", "reg_id", "tax_id", "kpp", "entity_type", "city", "title", "title_fn", "country", "website_domain",
)


def entity_types(legal_form: pl.Series, inn: pl.Series) -> pl.Series:
    """ЮЛ/ИП from the legal form: 'ul' (ООО, АО ...), 'ip' (ИП, КФХ); with no legal form a 12-digit INN says
    'ip' (a sole trader or a private person); otherwise null (a foreign company, or nothing to tell). A
    10-digit INN alone does not make a record an organization: it may be the typo this check guards against."""
    from crmclean.fields.company import RU_ORGANIZATION_FORMS, SOLE_TRADER_FORMS

    frame = pl.DataFrame({"f": legal_form.cast(pl.String), "i": inn.cast(pl.String)})
    return frame.select(
        pl.when(pl.col("f").is_in(list(RU_ORGANIZATION_FORMS))).then(pl.lit("ul"))
        .when(pl.col("f").is_in([*SOLE_TRADER_FORMS, "КФХ"])).then(pl.lit("ip"))
        .when(pl.col("i").str.len_chars() == 12).then(pl.lit("ip"))
        .otherwise(None).alias("entity_type")
    ).to_series()


def _kpp_column(table: Any | None, n: int) -> pl.Series:
    """Well-formed KPPs (9 characters) from the table's kpp column, else null."""
    from crmclean.fields.taxid import clean_tax_ids, kpp_valid

    cols = table.by_role.get("kpp", []) if table is not None and hasattr(table, "by_role") else []
    if table is None or not cols or table.frame.height != n:
        return pl.Series("kpp", [None] * n, dtype=pl.String)
    values = clean_tax_ids(table.frame.get_column(cols[0]).cast(pl.String)).str.to_uppercase()
    return values.zip_with(kpp_valid(values), pl.Series([None] * n, dtype=pl.String)).alias("kpp")


def _registration_id_column(table: Any | None, countries: pl.Series) -> pl.Series:
    """The foreign registration number of each record (``"DE:129273398"``, ``"US:911325671"``), else null.

    Read from the tax-id column itself (the profile keeps valid INNs only) by ``fields.taxid.registration_ids``,
    with the record's country deciding a value without a country prefix; a Russian INN is never one."""
    n = countries.len()
    cols = table.by_role.get("inn", []) if table is not None and hasattr(table, "by_role") else []
    if table is None or not cols or table.frame.height != n:
        return pl.Series("reg_id", [None] * n, dtype=pl.String)
    from crmclean.fields.taxid import registration_ids

    return registration_ids(table.frame.get_column(cols[0]).cast(pl.String), countries).alias("reg_id")


def build_features(profile: pl.DataFrame, table: Any | None = None) -> pl.DataFrame:
    """One row per record (same order as the profile) with every key matching compares or blocks on.

    Four independent parts (names, e-mails, phones, organization) are built side by side in threads (in_threads):
    the names' and organization's per-value Python keys share the cores with the others' polars steps (which release
    the GIL)."""
    prof = _with_name_parts(profile, table)
    parts = (_name_features, _email_features, _phone_features, _organization_features)
    return pl.concat(in_threads([partial(part, prof, table) for part in parts]), how="horizontal")


def _with_name_parts(prof: pl.DataFrame, table: Any | None) -> pl.DataFrame:
    """The profile, its names split from a full-name column when the profile did not split them."""
    n = prof.height
    if table is not None and (prof.get_column("first_name").null_count() == n
                              and prof.get_column("last_name").null_count() == n):
        full_cols = table.by_role.get("full_name", [])
        if full_cols:
            full = table.frame.get_column(full_cols[0])
            parts = _map(full, lambda t: list(split_full_name(t)), pl.List(pl.String))
            prof = prof.with_columns(
                parts.list.get(0, null_on_oob=True).alias("first_name"),
                parts.list.get(1, null_on_oob=True).alias("middle_name"),
                parts.list.get(2, null_on_oob=True).alias("last_name"),
            )
    return prof


def _generation(prof: pl.DataFrame, table: Any | None) -> pl.Series:
    """``generation``: Sr. (senior, старший), Jr. (junior, II, младший), III or IV, from the name columns as typed (the
    profile's name parts have dropped it); null where none is written."""
    roles = ("full_name", "last_name", "first_name", "middle_name")
    texts = ([table.frame.get_column(c) for r in roles for c in table.by_role.get(r, [])[:1]]
             if table is not None and hasattr(table, "by_role") and table.frame.height == prof.height else [])
    if not texts:
        return pl.Series("generation", [None] * prof.height, dtype=pl.String)
    text = pl.select(pl.concat_str([t.cast(pl.String) for t in texts], separator=" ", ignore_nulls=True)).to_series()
    return generations(text).alias("generation")


def _name_features(prof: pl.DataFrame, table: Any | None) -> pl.DataFrame:
    """Row position, record id and the name keys (a surname's generational suffix is not part of its key)."""
    n = prof.height
    first = prof.get_column("first_name").str.strip_chars()
    suffix = r"(?i)[\s,-]+" + GENERATION_RE + "$"
    middle = prof.get_column("middle_name").str.strip_chars().str.replace(suffix, "")
    last = prof.get_column("last_name").str.strip_chars().str.replace(suffix, "")
    # one unique pass per name part for all its keys
    firsts = _map_many(first, {
        "fn": latin_key, "fn_groups": groups_key, "fn_canon": canonical_first_name, "fn_ph": phonetic_key,
        # sound of the canonical given name: Саша, Sascha and Александр all give one key
        "fn_canon_ph": lambda t: phonetic_key(canonical_first_name(t)),
    })
    # ln_groups: for swapped names the surname field may hold a given name
    lasts = _map_many(last, {"ln": latin_key, "ln_ph": phonetic_key, "ln_groups": groups_key})
    out = pl.DataFrame({
        IDX: pl.int_range(0, n, dtype=pl.UInt32, eager=True),
        "record_id": prof.get_column("record_id"),
        "fn": firsts.get_column("fn"),
        "fn_groups": firsts.get_column("fn_groups"),
        "fn_canon": firsts.get_column("fn_canon"),
        "mn": _map(middle, latin_key),
        "ln": lasts.get_column("ln"),
        "ln_ph": lasts.get_column("ln_ph"),
        "ln_groups": lasts.get_column("ln_groups"),
        "fn_ph": firsts.get_column("fn_ph"),
        "fn_canon_ph": firsts.get_column("fn_canon_ph"),
        "generation": _generation(prof, table),
    })
    name_display = pl.concat_str(
        [pl.col("last_name"), pl.col("first_name"), pl.col("middle_name")], separator=" ", ignore_nulls=True
    )
    return out.with_columns(
        *(_blank_to_null(pl.col(c)) for c in ("fn", "fn_groups", "fn_canon", "mn", "ln", "ln_ph", "ln_groups", "fn_ph", "fn_canon_ph")),
        prof.select(_blank_to_null(name_display)).to_series().alias("name_display"),
    ).with_columns(
        # fn is a latin_key (blanks are null): every key of one letter is among the initials' keys
        is_initial_key(pl.col("fn")).fill_null(False).alias("fn_is_initial"),
        pl.col("fn").str.slice(0, 1).alias("fi"),
        pl.col("mn").str.slice(0, 1).alias("mi"),
        pl.col("ln").str.slice(0, 1).alias("li"),
    )


def _email_features(prof: pl.DataFrame, table: Any | None) -> pl.DataFrame:
    """Every valid address (the primary one first), the primary one, its mailbox name and domains."""
    emails = (
        prof.get_column("emails")
        .list.eval(pl.element().str.strip_chars().str.to_lowercase())
        .list.eval(pl.element().filter(pl.element().str.contains(_EMAIL_RE)))
        .list.unique(maintain_order=True)
    )
    email = emails.list.first()
    free = free_email_domains()
    role = role_local_parts()
    local = email.str.split("@").list.first().str.split("+").list.first()
    domain = email.str.split("@").list.last()
    # a role mailbox (info@, sales@, buh@) is the team's, never one person's, however few records hold it
    role_address = pl.element().str.split("@").list.first().str.split("+").list.first().is_in(list(role))
    return pl.select(
        emails.alias("emails"),
        emails.list.eval(pl.element().filter(~role_address)).alias("personal_emails"),
        emails.list.eval(pl.element().filter(~role_address & pl.element().str.split("@").list.last().is_in(list(free)))
                         ).alias("free_emails"),
        email.alias("email"),
        pl.when(local.is_in(list(role)) | (local.str.len_chars() < 4)).then(None).otherwise(local).alias(
            "email_local"),
        domain.alias("email_domain"),
        pl.when(domain.is_in(list(free))).then(None).otherwise(domain).alias("org_domain"),
    )


def _phone_features(prof: pl.DataFrame, table: Any | None) -> pl.DataFrame:
    """Phone keys: the national significant number of every phone the profile validated, plus raw digits of phone
    cells it could not place (a US number in a file whose default region is RU is still evidence)."""
    n = prof.height
    phone_parts = [pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.UInt32, eager=True),
                                 "p": prof.get_column("phones")}).explode("p")]
    desk_parts = []
    if table is not None:
        ext_re = "(?i)" + EXT_RE.pattern
        for col in table.by_role.get("phone", []) + table.by_role.get("mobile", []):
            text = table.frame.get_column(col)
            raw = text.str.replace(ext_re, "")
            cells = pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.UInt32, eager=True),
                                  "p": raw.str.split_exact(";", 1).struct.field("field_0").str.split(",")})
            phone_parts.append(cells.explode("p"))
            # a number typed with an extension is a switchboard, the extension one desk behind it: its key and the desk
            desk_parts.append(pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.UInt32, eager=True),
                                            "p": raw.str.replace_all(";", ",").str.split(",").list.last(),
                                            "ext": text.str.extract(ext_re, 1)}).drop_nulls("ext"))
    exploded = pl.concat(phone_parts, how="vertical_relaxed")
    exploded = exploded.with_columns(phone_keys(exploded.get_column("p").cast(pl.String)).alias("key"))
    # rows sorted first (a stable sort keeps each record's numbers in order): grouping sorted keys costs a third
    phone_lists = (
        exploded.drop_nulls("key").sort("row", maintain_order=True)
        .group_by("row", maintain_order=True).agg(pl.col("key").unique(maintain_order=True))
    )
    phone_col = (
        pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.UInt32, eager=True)})
        .join(phone_lists, on="row", how="left", maintain_order="left")
        .get_column("key")
    )
    out = pl.DataFrame([phone_col.alias("phones"),
                        # the first validated number in E.164 (+74951234567): its country code and area code
                        prof.get_column("phones").list.first().alias("phone_e164"),
                        _desks(desk_parts, n)])
    return out.with_columns(phone_kinds(out.get_column("phones"), prof.get_column("phones")))


def _desks(parts: list[pl.DataFrame], n: int) -> pl.Series:
    """``phone_desks``: each record's switchboard numbers typed with an extension, as ``key x extension``
    (+1 512 555 0100 ext. 201 -> 5125550100x201); an empty list where it has none."""
    rows = pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.UInt32, eager=True)})
    if parts:
        desks = pl.concat(parts, how="vertical_relaxed")
        desks = desks.with_columns(phone_keys(desks.get_column("p").cast(pl.String)).alias("key")).drop_nulls("key")
        lists = (desks.sort("row", maintain_order=True).group_by("row", maintain_order=True)
                 .agg((pl.col("key") + "x" + pl.col("ext")).unique(maintain_order=True).alias("phone_desks")))
        rows = rows.join(lists, on="row", how="left", maintain_order="left")
    else:
        rows = rows.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("phone_desks"))
    return rows.get_column("phone_desks").fill_null(pl.lit([], dtype=pl.List(pl.String)))


def _organization_features(prof: pl.DataFrame, table: Any | None) -> pl.DataFrame:
    """Company keys, INN, entity type, KPP, city, title, country and web domain."""
    n = prof.height
    # company: legal-form-free tokens in Latin, plus a compact key
    company_src = prof.get_column("company_key").fill_null(prof.get_column("company"))
    tokens = _map(company_src, _company_tokens)
    out = pl.select(
        _blank_to_null(pl.lit(tokens)).alias("company_text"),
    ).with_columns(
        pl.col("company_text").str.replace_all(" ", "").alias("company_key"),
        pl.col("company_text").str.split(" ").list.first().str.slice(0, 4).alias("company_ph"),
    )
    inn = prof.get_column("inn").str.replace_all(r"\D", "")
    inn = pl.select(pl.when(inn.str.len_chars().is_in([10, 12])).then(inn).otherwise(None)).to_series()
    form = prof.get_column("legal_form") if "legal_form" in prof.columns else pl.Series([None] * n, dtype=pl.String)
    etype = entity_types(form, inn)
    # an INN whose length contradicts the record's legal form (ИП with a 10-digit INN, ООО with 12 digits)
    # is a typo or another party's number: it is no evidence for anything
    inn_ok = ((inn.str.len_chars() == 10) & (etype != "ip").fill_null(True)) | (
        (inn.str.len_chars() == 12) & (etype != "ul").fill_null(True))
    inn = inn.zip_with(inn_ok.fill_null(False), pl.Series([None] * n, dtype=pl.String)).alias("inn")
    reg_id = _registration_id_column(table, prof.get_column("country").str.to_uppercase())
    return out.with_columns(
        inn,
        reg_id,
        # the registration number matching compares: the INN, else a foreign one (VAT number, EIN ...)
        pl.coalesce([inn, reg_id]).alias("tax_id"),
        etype.alias("entity_type"),
        _kpp_column(table, n),
        _blank_to_null(pl.lit(_map(prof.get_column("city"), _city_key))).alias("city"),
        _blank_to_null(pl.lit(_map(prof.get_column("job_title"), _title_key))).alias("title"),
        # what the title says the person does (Sales, Finance, IT ...), whatever the wording or language
        (prof.get_column("function").str.to_lowercase() if "function" in prof.columns
         else pl.Series([None] * n, dtype=pl.String)).alias("title_fn"),
        prof.get_column("country").str.to_uppercase().alias("country"),
        prof.get_column("website_domain").str.to_lowercase().str.replace(r"^(https?://)?(www\.)?", "")
        .str.replace(r"/.*$", "").alias("website_domain"),
    )


def extra_column_values(table: Any, column: str, kind: str) -> pl.Series:
    """Normalized values of a raw table column for a configured comparison (FEBRL addresses, birth dates ...)."""
    values = table.frame.get_column(column).cast(pl.String).str.strip_chars()
    if kind == "date":
        # any spelling of a date (19810927, 27.09.1981, 1981-09-27, 27 Sep 1981) -> YYYYMMDD
        from crmclean.fields.dates import date_digits

        values = date_digits(values)
    elif kind in ("exact_digits", "levenshtein_digits"):
        values = values.str.replace_all(r"\D", "")
    elif kind in ("jaro_winkler", "token", "levenshtein"):
        values = _map(values, latin_text)
    else:
        values = values.str.to_lowercase()
    return pl.select(_blank_to_null(pl.lit(values))).to_series().alias(column)


def known_first_names() -> frozenset[str]:
    return _known_first_names()


@lru_cache(maxsize=1)
def russian_given_name_keys() -> dict[str, str]:
    """Each Russian given name of the name list (Мария, Марина, Александр, Алексей ...) by its Latin key: its
    canonical form (the key of the name it is a form of)."""
    from crmclean.fields._data import data_set

    return {latin_key(n): canonical_first_name(latin_key(n)) for n in data_set("first_names_ru.txt")}


__all__: Sequence[str] = ("FEATURE_COLUMNS", "IDX", "build_features", "extra_column_values", "split_full_name")
