"""Company structure for matching: which registration of a legal entity a record is, and what never merges.

Russian legal structure (issue 13): one INN names one legal entity; its branches (обособленные подразделения)
share the INN with their own KPP, city and phone. Merging a head office with a branch destroys their deals and
history, so the registration is decided on evidence (KPP, else a phone or city only one registration uses) and
clustering refuses any cluster holding two KPPs of one entity or two legal types (ЮЛ / ИП), whatever path links
them. The features here feed the ``registration`` comparison (``library.comparisons.companies_comparisons``) and
the cannot-link rules of ``clustering.cluster_pairs``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.fields.taxid import KPP_HEAD_OFFICE, branch_kpps, kpp_reasons
from crmclean.matching.clustering import ConflictKey
from crmclean.matching.features import IDX

# a company name that says it is a branch: "филиал Уфа", "ОП ...", "обособленное подразделение", "branch office"
# (company_text is the name's transliterated, legal-form-free words)
_BRANCH_MAILBOX = r"^(filial|branch)[^@]*@"  # filial@, filial.kazan@, branch@
_BRANCH_NAME = r"(^| )(filial|filiala|filiale|branch|branh|obosoblennoe|obosobl|podrazdelenie)( |$)|^op "


def company_features(feats: pl.DataFrame) -> pl.DataFrame:
    """The company-only features matching reads, added to ``features.build_features``' frame.

    * ``domain``: the website's domain, else the work-email domain;
    * ``org_sig``: which organization holds the record's name (:func:`organization_ids`);
    * what says where and which registration a record is (:func:`registration_features`).
    """
    feats = feats.with_columns(pl.coalesce([pl.col("website_domain"), pl.col("org_domain")]).alias("domain"),
                               # whose registration number ``tax_id`` is: "RU" for an INN, else the country of a VAT
                               # number / EIN ("DE:129273398" -> "DE")
                               pl.when(pl.col("inn").is_not_null()).then(pl.lit("RU"))
                               .otherwise(pl.col("reg_id").str.extract(r"^([A-Z]{2}):", 1)).alias("tax_country"))
    # ``site_phones``: the phones' last nine digits, the same for any way of writing a number abroad
    # (+49 89 1731615 and 089 1731615 give the keys 9891731615 and 0891731615: the country code's digit vs the trunk
    # zero; a national number has nine digits or more in most plans), and as distinct as the keys within one company
    feats = feats.with_columns(pl.col("phones").list.eval(pl.element().str.slice(-_PLACE_DIGITS)).alias("site_phones"))
    feats = feats.with_columns(organization_ids(feats))
    return registration_features(feats)


def _registration_marks(feats: pl.DataFrame) -> pl.DataFrame:
    """``branch_mark`` and ``tax_office`` of every record.

    * ``branch_mark``: the record says it is a branch: a KPP whose reason code is not the head office's
      (``fields.taxid.is_branch_kpp``), a name like "филиал Уфа" / "ОП ..." / "branch office", or a branch
      mailbox (filial@, branch@);
    * ``reg_role``: "branch" for those, "head" for a head-office KPP (reason 01), else unknown;
    * ``reg_name``: the name, when it names a branch ("Ромашка филиал Казань" is one registration's name);
    * ``tax_office``: the tax office of the head office's registration: a head-office KPP's first four digits
      (reason 01), else, with no KPP, the INN's (the office that issued it, where the organization registered).
    """
    kpp = feats.get_column("kpp")
    reason = kpp_reasons(kpp)
    branch_name = feats.get_column("company_text").str.contains(_BRANCH_NAME).fill_null(False)
    branch_mailbox = feats.select(pl.col("emails").list.eval(pl.element().str.contains(_BRANCH_MAILBOX)).list.any()
                                  .fill_null(False)).to_series()
    branch = branch_kpps(kpp) | branch_name | branch_mailbox
    return feats.with_columns(
        pl.when(branch).then(pl.lit("1")).otherwise(None).alias("branch_mark"),
        pl.when(branch).then(pl.lit("branch")).when(reason == KPP_HEAD_OFFICE).then(pl.lit("head")).otherwise(None)
        .alias("reg_role"),
        pl.when(branch_name).then(pl.col("company_key")).otherwise(None).alias("reg_name"),
        pl.when(pl.col("kpp").is_not_null())
        .then(pl.when(reason == KPP_HEAD_OFFICE).then(pl.col("kpp").str.slice(0, 4)))
        .otherwise(pl.col("inn").str.slice(0, 4)).alias("tax_office"))


def registration_features(feats: pl.DataFrame) -> pl.DataFrame:
    """Which registration (head office or branch) of a legal entity with branches a company record is.

    A legal entity's records: those with its INN, and those without an INN on a website / email domain only
    its INN's records use (a branch mostly keeps the head's site), or of its name with a head-office KPP of the
    tax office that issued its INN (its first four digits). ``family`` is that INN when the entity shows
    more than one registration or location here: two or more KPPs, a record marked as a branch
    (:func:`_registration_marks`), two or more cities, main phone numbers, websites or regions (``region``: a
    landline's area code's, else the city's — :func:`_regions`). Inside a family the name, INN and domain are the
    family's and say nothing about which registration a record is; what does is the KPP, and where it is missing
    a phone or city that only one registration of the family uses, in a family known to sit in two or more places
    (otherwise a head office and a branch may share both):

    * ``reg_phones``: the record's phones that the family's records hold in one city and under one KPP at most;
    * ``reg_site`` / ``reg_city`` / ``reg_region``: the record's own site (a subdomain of another site of the
      family: kazan.romashka.ru), city or region, when the family's records there carry one KPP at most;
    * ``reg_kpp``: the KPP, else the one KPP the records sharing such a phone (else such a site, city or
      region, in that order) carry; a record placed by its city, region or site alone at a registration named
      as a branch ("Ромашка филиал Казань") that it is not named as is left unplaced (:func:`_unnamed_placements`);
    * ``reg_role`` / ``reg_head``: head office or branch (:func:`_registration_marks`, :func:`_implied_head`).

    A sole trader (ИП) has no KPP and no branches, so its records are no registration of any family.
    """
    feats = _registration_marks(feats)
    # a legal entity is its registration number: the INN, else a foreign one (``tax_id``: a VAT number, an EIN)
    by_domain = (feats.filter(pl.col("tax_id").is_not_null() & pl.col("domain").is_not_null())
                 .group_by("domain").agg(pl.col("tax_id").n_unique().alias("__n"),
                                         pl.col("tax_id").first().alias("__inn"))
                 .filter(pl.col("__n") == 1).select("domain", "__inn"))
    # a head-office KPP names the tax office where the organization is registered, and that office issued its INN
    # (the INN's first four digits, Приказ ФНС № ММВ-7-6/435@): a record of a company name with a head-office KPP
    # and no INN is the legal entity whose INN the records of that name registered at that office carry (one)
    office_of = pl.col("inn").str.slice(0, 4)
    by_office = (feats.filter(pl.col("inn").is_not_null() & pl.col("company_key").is_not_null())
                 .group_by("company_key", office_of.alias("__office"))
                 .agg(pl.col("inn").n_unique().alias("__n"), pl.col("inn").first().alias("__oinn"))
                 .filter(pl.col("__n") == 1).select("company_key", "__office", "__oinn"))
    feats = (feats.join(by_domain, on="domain", how="left", maintain_order="left")
             .with_columns(pl.when(pl.col("reg_role") == "head").then(pl.col("kpp").str.slice(0, 4)).alias("__office"))
             .join(by_office, on=["company_key", "__office"], how="left", maintain_order="left")
             .with_columns(pl.coalesce([pl.col("tax_id"), pl.col("__inn"), pl.col("__oinn"), _named_site()])
                           .alias("__entity"))
             .drop("__inn", "__office", "__oinn"))
    # a sole trader (ИП) has no KPP and no branches (a KPP is an organization's: НК РФ ст. 83-84), so an ИП's
    # records that share an organization's INN (a typo) or domain are no registration of its family
    feats = feats.with_columns(pl.when(pl.col("entity_type") == "ip").then(None).otherwise(pl.col("__entity"))
                               .alias("__entity"))
    entity = pl.col("__entity")
    feats = feats.with_columns(_regions(feats))
    feats = feats.with_columns(_places_abroad(feats))
    # where the entity's records are: cities, main phone numbers, websites (a branch often has its own site or a
    # city subdomain of the head's: kazan.romashka.ru)
    places = pl.max_horizontal(pl.col("city").drop_nulls().n_unique().over(entity),
                               pl.col("site_phones").list.first().drop_nulls().n_unique().over(entity),
                               pl.col("domain").drop_nulls().n_unique().over(entity),
                               pl.col("region").drop_nulls().n_unique().over(entity))
    # abroad (a VAT number / EIN, or a name at its site) a location is an address: two phones or two sites of one
    # company in one city are one office's lines (switchboard, sales) far more often than two offices, so only two
    # cities (one spelling per place: ``_places_abroad``) make an entity of several locations there; a Russian
    # INN's registrations each keep their own phone and site
    places = pl.when(entity.str.contains(r"^\d+$")).then(places).otherwise(pl.col("__loc").drop_nulls().n_unique()
                                                                          .over(entity))
    several = ((pl.col("kpp").drop_nulls().n_unique().over(entity) >= 2)
               | pl.col("branch_mark").is_not_null().any().over(entity) | (places >= 2))
    feats = feats.with_columns(pl.when(entity.is_not_null() & several).then(entity).otherwise(None).alias("family"),
                               (places >= 2).alias("__places")).drop("__entity")
    # a Russian INN's family: its registrations keep their own phones, sites and mailboxes (``registration``'s
    # contact levels read it); abroad only the address tells locations apart
    feats = feats.with_columns(pl.when(pl.col("family").str.contains(r"^\d+$")).then(pl.col("family"))
                               .alias("family_ru"))
    feats = feats.with_columns(_locations(feats))
    members = feats.filter(pl.col("family").is_not_null()).with_columns(pl.col("__reg").alias("kpp"))
    if members.height == 0:
        return feats.drop("__places", "__reg", "__loc").with_columns(
            pl.lit(None, dtype=pl.List(pl.String)).alias("reg_phones"),
            *(pl.lit(None, dtype=pl.String).alias(c) for c in ("reg_site", "reg_city", "reg_region")),
            pl.col("kpp").alias("reg_kpp"), pl.lit(None, dtype=pl.String).alias("reg_head"))
    members = members.filter(pl.col("__places"))
    phone_rows = members.select(IDX, "family", "kpp", "city", pl.col("site_phones").alias("value")).explode("value")
    phone_rows = phone_rows.drop_nulls("value")
    phones_ok = (phone_rows.group_by("family", "value")
                 .agg(pl.col("kpp").drop_nulls().n_unique().alias("__kpps"),
                      pl.col("kpp").drop_nulls().first().alias("__kpp"),
                      pl.col("city").drop_nulls().n_unique().alias("__cities"))
                 .filter((pl.col("__kpps") <= 1) & (pl.col("__cities") <= 1)))
    by_phone = (phone_rows.join(phones_ok, on=["family", "value"], how="inner")
                .group_by(IDX).agg(pl.col("value").alias("reg_phones"),
                                   pl.col("__kpp").drop_nulls().unique().alias("__pk")))
    feats = feats.drop("__places").join(by_phone, on=IDX, how="left", maintain_order="left")
    # a branch's own site: a subdomain of another site of the family (kazan.romashka.ru beside romashka.ru)
    parents = members.select("family", pl.col("domain").alias("__parent")).drop_nulls().unique()
    members = members.with_columns(pl.col("domain").str.replace(r"^[^.]+\.", "").alias("__parent")).join(
        parents.with_columns(pl.lit(True).alias("__sub")), on=["family", "__parent"], how="left",
        maintain_order="left").with_columns(pl.when(pl.col("__sub")).then(pl.col("domain")).alias("site"))
    # such a site, a city (else a region) that the family's records there hold under one KPP at most places a
    # record too
    for column, placed, kpp in (("site", "reg_site", "__sk"), ("city", "reg_city", "__ck"),
                                ("region", "reg_region", "__rk")):
        rows = members.select(IDX, "family", "kpp", pl.col(column).alias("value")).drop_nulls("value")
        usable = (rows.group_by("family", "value")
                  .agg(pl.col("kpp").drop_nulls().n_unique().alias("__kpps"),
                       pl.col("kpp").drop_nulls().first().alias("__kpp"))
                  .filter(pl.col("__kpps") <= 1))
        feats = feats.join(rows.join(usable, on=["family", "value"], how="inner").select(
            IDX, pl.col("value").alias(placed), pl.col("__kpp").alias(kpp)), on=IDX, how="left", maintain_order="left")
    feats = (feats.with_columns(pl.coalesce([
                pl.col("__reg"),
                pl.when(pl.col("__pk").list.len() == 1).then(pl.col("__pk").list.first()),
                pl.col("__sk"), pl.col("__ck"), pl.col("__rk")]).alias("reg_kpp"))
             .drop("__pk", "__sk", "__ck", "__rk", "__reg", "__loc"))
    feats = _unnamed_placements(feats)
    feats = feats.with_columns(_implied_head(feats))
    # ``reg_head``: the head office, known by a head-office KPP or a place of its own (a city or phone no branch
    # shares); an entity has one head office, so two such records are one registration. A record implied the
    # head office with nothing but the INN is not thereby the same registration as another (it may be a branch's
    # copy that lost its KPP): the usual evidence decides.
    known = pl.col("kpp").is_not_null() | pl.col("city").is_not_null() | (pl.col("site_phones").list.len() > 0).fill_null(False)
    return feats.with_columns(pl.when((pl.col("reg_role") == "head") & known).then(pl.lit("head")).alias("reg_head"))


def _named_site() -> pl.Expr:
    """The legal entity of an organization with no registration number: its name at its own web domain.

    A chain abroad often shows no number at all, only its name and site at each location (Starbucks, starbucks.com,
    in Seattle and in Chicago); the name and a company's own domain (never a free-mail one) together name one
    organization, whose locations :func:`_locations` tells apart."""
    from crmclean.matching.features import free_email_domains

    return (pl.when(pl.col("company_key").is_not_null() & pl.col("domain").is_not_null()
                    & ~pl.col("domain").is_in(list(free_email_domains())) & pl.col("kpp").is_null())
            .then(pl.lit("site:") + pl.col("company_key") + pl.lit("@") + pl.col("domain")))


def _locations(feats: pl.DataFrame) -> pl.Series:
    """``__reg``: the registration a record names itself: its KPP, else, in a family known by a foreign registration
    number or by name and site (no KPP anywhere), the location its city names ("city:<key>").

    Abroad a company's locations (a chain's shops, offices in two cities) share its VAT number / EIN and have no
    KPP; what tells them apart is the address. A location is its city: two phones in one city are one office's
    lines as often as two offices. Records without a city are placed like a KPP-less record of a Russian family (a
    phone only one location's records hold, ``registration_features``), else asked. A Russian INN's family keeps
    its KPPs alone (its head office and branches share cities as often as not).
    """
    family = pl.col("family")
    foreign = (family.is_not_null() & ~family.str.contains(r"^\d+$")
               & pl.col("kpp").drop_nulls().n_unique().over("family").eq(0))
    location = pl.lit("city:") + pl.col("__loc")
    return feats.select(pl.coalesce([pl.col("kpp"), pl.when(foreign).then(location)]).alias("__reg")).to_series()


def _places_abroad(feats: pl.DataFrame) -> pl.Series:
    """``__loc``: where a record of an entity abroad (no Russian INN) is: its city, one spelling per place, else the
    place its landline's area code names.

    * City keys miss spellings no alias table lists ("Петербург" beside "Санкт-Петербург", "Frankfurt" beside
      "Frankfurt am Main"): inside one entity, two city keys that are alike (Jaro-Winkler ≥ 0.88, as the city
      comparison reads them) or where one ends or starts the other (five letters or more) are one place.
    * A record without a city is where its landline's area code is: the city the entity's records with that code
      are in (+1 206: Seattle), else the one the file's records with it are in (the commonest). A mobile number, a
      Russian one (its regions are ``_regions``') or an area code no record with a city has names no place.

    Only entities showing several cities or area codes are looked at (a few per file), one small set at a time.
    """
    from rapidfuzz.distance import JaroWinkler

    entity = pl.col("__entity")
    abroad = entity.is_not_null() & ~entity.str.contains(r"^\d+$")
    areas = _area_codes(feats)
    frame = feats.select("__entity", "city", pl.when(abroad).then(areas).alias("__area"))
    cities = (frame.filter(abroad).drop_nulls(["__entity", "city"]).select("__entity", "city").unique()
              .filter(pl.len().over("__entity") > 1).group_by("__entity").agg(pl.col("city").sort()))
    from crmclean.matching.clustering import connected_components

    rows: list[tuple[str, str, str]] = []
    for e, keys in cities.iter_rows():
        lefts: list[int] = []
        rights: list[int] = []
        for i, a in enumerate(keys):
            for j in range(i + 1, len(keys)):
                short, long = sorted((a, keys[j]), key=len)
                if (JaroWinkler.similarity(a, keys[j]) >= _CITY_ALIKE
                        or (len(short) >= _CITY_AFFIX and (long.endswith(short) or long.startswith(short)))):
                    lefts.append(i)
                    rights.append(j)
        labels = connected_components(len(keys), np.array(lefts, dtype=np.int64), np.array(rights, dtype=np.int64))
        rows += [(e, k, keys[label]) for k, label in zip(keys, labels.tolist(), strict=True)]  # its first spelling
    same = pl.DataFrame(rows, schema={"__entity": pl.String, "city": pl.String, "__one": pl.String}, orient="row")
    frame = frame.join(same, on=["__entity", "city"], how="left", maintain_order="left").with_columns(
        pl.when(abroad).then(pl.coalesce(["__one", "city"])).alias("__loc"))
    # an area code's place: the city the entity's records with one call from it, else the file's records (the
    # commonest); an area code no record with a city calls from places nothing
    def commonest(frame: pl.DataFrame, by: list[str], city: str, alias: str) -> pl.DataFrame:
        return (frame.drop_nulls(["__area", city]).group_by(*by, city).len()
                .sort("len", city, descending=[True, False]).unique(by, keep="first")
                .select(*by, pl.col(city).alias(alias)))

    everyone = feats.select("city", areas.alias("__area"))
    return (frame.join(commonest(frame, ["__entity", "__area"], "__loc", "__eloc"), on=["__entity", "__area"],
                       how="left", maintain_order="left")
            .join(commonest(everyone, ["__area"], "city", "__floc"), on="__area", how="left", maintain_order="left")
            .select(pl.when(abroad).then(pl.coalesce(["__loc", "__eloc", "__floc"])).alias("__loc")).to_series())


def _area_codes(feats: pl.DataFrame) -> pl.Series:
    """The main phone's country and geographic area code ("+1206", "+4989"), null for a mobile, a Russian number
    or a phone not known in E.164 (libphonenumber, once per distinct number)."""
    import phonenumbers

    def area(e164: str) -> str | None:
        try:
            number = phonenumbers.parse(e164)
        except phonenumbers.NumberParseException:
            return None
        k = phonenumbers.length_of_geographical_area_code(number)
        return f"+{number.country_code}{phonenumbers.national_significant_number(number)[:k]}" if k else None

    e164 = feats.get_column("phone_e164")
    wanted = e164.filter(e164.is_not_null() & ~e164.str.starts_with("+7")).unique()
    lookup = pl.DataFrame({"phone_e164": wanted, "__a": [area(v) for v in wanted.to_list()]},
                          schema={"phone_e164": pl.String, "__a": pl.String})
    return (feats.select("phone_e164").join(lookup, on="phone_e164", how="left", maintain_order="left")
            .get_column("__a"))


def _unnamed_placements(feats: pl.DataFrame) -> pl.DataFrame:
    """Undo a placement by place alone (city, region, a city subdomain) at a registration that calls itself a branch
    by name, of a record that does not.

    A registration whose records are named "Байкал филиал Челябинск" is known by that name; a record "Байкал" in
    Chelyabinsk without a KPP or a phone of that registration may be its copy, or another registration of the
    entity in the same city (a second branch, a sales office) that the file shows once. Only a steward can tell:
    the record is left unplaced (``registration`` asks, never merges).
    """
    named = (feats.filter(pl.col("kpp").is_not_null() & pl.col("reg_name").is_not_null() & pl.col("family").is_not_null())
             .select("family", pl.col("kpp").alias("reg_kpp")).unique().with_columns(pl.lit(True).alias("__named")))
    if named.height == 0:
        return feats
    feats = feats.join(named, on=["family", "reg_kpp"], how="left", maintain_order="left")
    by_place = (pl.col("__named").fill_null(False) & pl.col("kpp").is_null() & pl.col("reg_name").is_null()
                & pl.col("reg_phones").list.len().fill_null(0).eq(0))
    return feats.with_columns(*(pl.when(by_place).then(None).otherwise(pl.col(c)).alias(c)
                                for c in ("reg_kpp", "reg_site", "reg_city", "reg_region"))).drop("__named")


def _implied_head(feats: pl.DataFrame) -> pl.Series:
    """``reg_role``, with the head office implied where nothing says a record is a branch.

    A branch is a registration of its own: its records carry its KPP (reason code other than 01), its name
    ("филиал Казань") or its mailbox; the legal entity itself, the head office, is the registration a record
    names by the INN alone. So in a family with a record marked as a branch, a record with no KPP, no branch mark
    and nothing placing it (``reg_kpp``) that shares no phone, city or mailbox with the family's branch-marked
    records is the head office: another registration than each branch (a hierarchy link, never merged), not a
    steward's question. Where the family shows a head-office KPP too, only a record with a city or phone of its
    own is so placed (one with neither may be a copy of any registration: a steward's question).
    """
    family = pl.col("family")
    marked = pl.col("branch_mark").is_not_null()
    # each record's phones and city, one row each
    places = (feats.filter(family.is_not_null())
              .select(IDX, "family", "branch_mark", pl.concat_list([pl.col("site_phones").fill_null([]),
                                                                    pl.col("emails").fill_null([]),
                                                                    pl.concat_list([pl.col("city")])]).alias("__v"))
              .explode("__v").drop_nulls("__v"))
    branch_places = places.filter(marked).select("family", "__v").unique()
    shared = (places.join(branch_places, on=["family", "__v"], how="inner").select(IDX).unique()
              .with_columns(pl.lit(True).alias("__shared")))
    frame = feats.select(IDX, "family", "kpp", "reg_kpp", "branch_mark", "reg_role", "city", "site_phones").join(
        shared, on=IDX, how="left", maintain_order="left")
    no_head = ~(pl.col("reg_role") == "head").any().over("family")
    placed = pl.col("city").is_not_null() | (pl.col("site_phones").list.len() > 0).fill_null(False)
    implied = (family.is_not_null() & (no_head | placed) & marked.any().over("family") & pl.col("kpp").is_null()
               & pl.col("reg_kpp").is_null() & ~marked & pl.col("__shared").is_null())
    return frame.select(pl.when(implied).then(pl.lit("head")).otherwise(pl.col("reg_role")).alias("reg_role")
                        ).to_series()


def _regions(feats: pl.DataFrame) -> pl.Series:
    """The region a record is in: its landline's area code's (+7 843 is Tatarstan), else its city's.

    The area code's region comes from libphonenumber's geocoding data (the Russian numbering plan: an ABC code
    names a subject of the federation, "Moscow", "Republic of Tatarstan"); a city's region is the one the file's
    own records in that city call from (unless as many of them call from abroad), so "Тюмень" on one record and
    +7 843 on another are two places even though no record holds both. A mobile number (DEF code) names no region; numbers of other countries are not
    placed (their geocoding names cities, states or exchanges inconsistently: "California" / "Novato, CA").
    """
    import phonenumbers
    from phonenumbers import geocoder

    def region(number: str) -> str | None:
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException:
            return None
        if parsed.country_code != 7:
            return None
        text = geocoder.description_for_number(parsed, "en")
        return text if text and text != geocoder.country_name_for_number(parsed, "en") else None

    # the region is a property of the leading digits (country code + area code): one lookup per prefix, with the
    # first number of each as its sample
    phones = feats.get_column("phone_e164").str.slice(0, _REGION_PREFIX).alias("p")
    samples = (pl.DataFrame({"p": phones, "n": feats.get_column("phone_e164")}).drop_nulls()
               .unique("p", keep="first", maintain_order=True))
    lookup = samples.select("p", pl.Series("r", [region(v) for v in samples.get_column("n").to_list()],
                                           dtype=pl.String))
    frame = feats.select("city").with_columns(phones).join(lookup, on="p", how="left", maintain_order="left")
    city_region = (frame.drop_nulls(["city", "r"]).group_by("city", "r").len()
                   .sort("len", "r", descending=[True, False]).unique("city", keep="first").select("city", "r", "len"))
    # a city whose records call from abroad at least as often is not placed by one Russian number there (an ИП
    # in San Francisco with a US number read as +7 415, Kamchatka)
    abroad = (frame.filter(pl.col("p").is_not_null() & ~pl.col("p").str.starts_with("+7")).drop_nulls("city")
              .group_by("city").len().rename({"len": "__abroad"}))
    city_region = (city_region.join(abroad, on="city", how="left")
                   .filter(pl.col("len") > pl.col("__abroad").fill_null(0)).select("city", "r"))
    return (frame.join(city_region.rename({"r": "__cr"}), on="city", how="left", maintain_order="left")
            .select(pl.coalesce(["r", "__cr"]).alias("region")).to_series())


def conflict_keys(features: pl.DataFrame) -> list[ConflictKey]:
    """Cannot-link rules of companies, whatever path would link the records (``cluster_pairs(conflict_keys=)``):
    two registrations of one legal entity (its INN, or the family a record without INN joined by domain: a head
    office and its branch, or two branches — by KPP, or by the KPP a phone / city / region places a record at),
    a head-office KPP and a record marked as a branch, and two legal types (an organization and a sole trader /
    private person)."""

    def codes(expr: pl.Expr) -> np.ndarray:
        values = features.select(expr.alias("v")).to_series()
        return values.rank("dense").cast(pl.Int64).fill_null(-1).to_numpy()

    entity = codes(pl.coalesce([pl.col("inn"), pl.col("family")]))
    typed = np.where(features.get_column("entity_type").is_null().to_numpy(), -1, 0)
    # a record without KPP that a phone, city or region places at one registration counts as that registration,
    # so a chain head - (KPP-less copy) - branch is refused too; and a head-office KPP never joins a record
    # marked as a branch (reason code, name, mailbox); two valid registration numbers of one country (two INNs,
    # two VAT numbers) are two legal entities, whatever the names and sites say (a typo the checksum missed is a
    # steward's question)
    return [(entity, codes(pl.col("reg_kpp"))), (entity, codes(pl.col("reg_role"))),
            (typed, codes(pl.col("entity_type"))), (codes(pl.col("tax_country")), codes(pl.col("tax_id")))]


def organization_ids(features: pl.DataFrame) -> pl.Series:
    """One id per organization among the holders of a company name, robust to the file's own duplicates.

    Records of one name that share an INN, a domain or a phone are one organization (connected through any of
    them). The copies of one company rarely all carry the same identifiers (the INN on one, the site on another,
    only the phone on a third), so the pieces of a name that nothing tells apart are one organization too: two
    pieces are two organizations only when both know an INN, a domain, a main phone or a city and these differ
    (a namesake in another city, a franchise with its own site). A record with none of those stays unknown (null).
    The company-name frequency counts these ids (``TfDistinct(by="org_sig")``), so a company entered five
    times with the INN on some copies and the site on others is one holder of its name, not three.
    """
    from crmclean.matching.clustering import connected_components

    n = features.height
    frame = features.select(IDX, "company_key", "inn", "domain", "city",
                            pl.col("phones").list.first().alias("phone"))
    lefts, rights = [], []
    for column in ("inn", "domain", "phone"):
        links = (frame.drop_nulls(["company_key", column])
                 .with_columns(pl.col(IDX).min().over("company_key", column).alias("__first"))
                 .filter(pl.col(IDX) != pl.col("__first")))
        lefts.append(links.get_column(IDX).to_numpy())
        rights.append(links.get_column("__first").to_numpy())
    labels = connected_components(n, np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64))
    frame = frame.with_columns(pl.Series("__c", labels, dtype=pl.Int64))
    signal = pl.any_horizontal(pl.col("inn", "domain", "phone", "city").is_not_null())
    pieces = (frame.filter(signal & pl.col("company_key").is_not_null())
              .group_by("company_key", "__c")
              .agg(*(pl.col(c).drop_nulls().unique() for c in _ORG_FIELDS), pl.len().alias("__n")))
    several = pieces.filter(pl.len().over("company_key") > 1).sort("company_key", "__n", "__c",
                                                                    descending=[False, True, False])
    joined: dict[int, int] = {}
    if several.height:
        # first fit, largest piece first: a piece joins the first organization of its name it contradicts nowhere
        orgs: list[tuple[int, list[set[str]]]] = []
        name = None
        for row in several.iter_rows():
            if row[0] != name:
                name, orgs = row[0], []
            values = [set(v) for v in row[2:2 + len(_ORG_FIELDS)]]
            # the largest organizations only: a common name ("Вега") held by hundreds stays linear, not quadratic
            for root, known in orgs[:_FIRST_FIT_TRIES]:
                if all(not a or not b or a & b for a, b in zip(known, values, strict=True)):
                    joined[row[1]] = root
                    for a, b in zip(known, values, strict=True):
                        a |= b
                    break
            else:
                orgs.append((row[1], values))
    roots = pl.DataFrame({"__c": list(joined), "__root": list(joined.values())},
                         schema={"__c": pl.Int64, "__root": pl.Int64})
    frame = frame.join(roots, on="__c", how="left", maintain_order="left")
    return frame.select(pl.when(signal).then(pl.lit("org:") + pl.coalesce(["__root", "__c"]).cast(pl.String))
                        .otherwise(None).alias("org_sig")).to_series()


# two city keys of one entity abroad that are one place: alike (the city comparison's Jaro-Winkler) or one ends /
# starts the other ("peterburg" / "sanktpeterburg") with at least this many letters
_CITY_ALIKE = 0.88
_CITY_AFFIX = 5

# trailing digits of a phone key that tell a company's locations apart (site_phones)
_PLACE_DIGITS = 9

# leading characters of an E.164 number that fix its region: "+7843" (Tatarstan), "+7495" (Moscow)
_REGION_PREFIX = 5

# how many of a name's organizations (largest first) a piece of that name is tried against
_FIRST_FIT_TRIES = 8

# what tells two organizations of one name apart (both known and different)
_ORG_FIELDS = ("inn", "domain", "phone", "city")
