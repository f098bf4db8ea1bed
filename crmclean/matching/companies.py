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

from crmclean.matching.clustering import ConflictKey
from crmclean.matching.features import IDX


def registration_features(feats: pl.DataFrame) -> pl.DataFrame:
    """Which registration (head office or branch) of a legal entity with branches a company record is.

    A legal entity's records: those with its INN, and those without an INN on a website / email domain only
    its INN's records use (a branch mostly keeps the head's site). ``family`` is that INN when the entity shows
    more than one registration or location here: two or more KPPs, a record marked as a branch, two or more
    cities or main phone numbers. Inside a family the name, INN and domain are the family's and say nothing
    about which registration a record is; what does is the KPP, and where it is missing a phone or city that
    only one registration of the family uses, in a family known to sit in two or more places (two cities or
    two numbers: otherwise a head office and a branch may share both):

    * ``reg_phones``: the record's phones that the family's records hold in one city and under one KPP at most;
    * ``reg_city``: the record's city, when the family's records in that city carry one KPP at most;
    * ``reg_kpp``: the KPP, else the one KPP the records sharing such a phone (else such a city) carry.
    """
    by_domain = (feats.filter(pl.col("inn").is_not_null() & pl.col("domain").is_not_null())
                 .group_by("domain").agg(pl.col("inn").n_unique().alias("__n"), pl.col("inn").first().alias("__inn"))
                 .filter(pl.col("__n") == 1).select("domain", "__inn"))
    feats = (feats.join(by_domain, on="domain", how="left", maintain_order="left")
             .with_columns(pl.coalesce([pl.col("inn"), pl.col("__inn")]).alias("__entity")).drop("__inn"))
    entity = pl.col("__entity")
    places = pl.max_horizontal(pl.col("city").drop_nulls().n_unique().over(entity),
                               pl.col("phones").list.first().drop_nulls().n_unique().over(entity))
    several = ((pl.col("kpp").drop_nulls().n_unique().over(entity) >= 2)
               | pl.col("branch_mark").is_not_null().any().over(entity) | (places >= 2))
    feats = feats.with_columns(pl.when(entity.is_not_null() & several).then(entity).otherwise(None).alias("family"),
                               (places >= 2).alias("__places")).drop("__entity")
    members = feats.filter(pl.col("family").is_not_null())
    if members.height == 0:
        return feats.drop("__places").with_columns(
            pl.lit(None, dtype=pl.List(pl.String)).alias("reg_phones"),
            pl.lit(None, dtype=pl.String).alias("reg_city"), pl.col("kpp").alias("reg_kpp"))
    members = members.filter(pl.col("__places"))
    phone_rows = members.select(IDX, "family", "kpp", "city", pl.col("phones").alias("value")).explode("value")
    phone_rows = phone_rows.drop_nulls("value")
    phones_ok = (phone_rows.group_by("family", "value")
                 .agg(pl.col("kpp").drop_nulls().n_unique().alias("__kpps"),
                      pl.col("kpp").drop_nulls().first().alias("__kpp"),
                      pl.col("city").drop_nulls().n_unique().alias("__cities"))
                 .filter((pl.col("__kpps") <= 1) & (pl.col("__cities") <= 1)))
    city_rows = members.select(IDX, "family", "kpp", pl.col("city").alias("value")).drop_nulls("value")
    cities_ok = (city_rows.group_by("family", "value")
                 .agg(pl.col("kpp").drop_nulls().n_unique().alias("__kpps"),
                      pl.col("kpp").drop_nulls().first().alias("__kpp"))
                 .filter(pl.col("__kpps") <= 1))
    by_phone = (phone_rows.join(phones_ok, on=["family", "value"], how="inner")
                .group_by(IDX).agg(pl.col("value").alias("reg_phones"),
                                   pl.col("__kpp").drop_nulls().unique().alias("__pk")))
    by_city = city_rows.join(cities_ok, on=["family", "value"], how="inner").select(
        IDX, pl.col("value").alias("reg_city"), pl.col("__kpp").alias("__ck"))
    return (feats.drop("__places").join(by_phone, on=IDX, how="left", maintain_order="left")
            .join(by_city, on=IDX, how="left", maintain_order="left")
            .with_columns(pl.coalesce([
                pl.col("kpp"),
                pl.when(pl.col("__pk").list.len() == 1).then(pl.col("__pk").list.first()),
                pl.col("__ck")]).alias("reg_kpp"))
            .drop("__pk", "__ck"))


def conflict_keys(features: pl.DataFrame) -> list[ConflictKey]:
    """Cannot-link rules of companies, whatever path would link the records (``cluster_pairs(conflict_keys=)``):
    two KPPs of one legal entity (its INN, or the family a record without INN joined by domain: a head office and
    its branch, or two branches) and two legal types (an organization and a sole trader / private person)."""

    def codes(expr: pl.Expr) -> np.ndarray:
        values = features.select(expr.alias("v")).to_series()
        return values.rank("dense").cast(pl.Int64).fill_null(-1).to_numpy()

    entity = codes(pl.coalesce([pl.col("inn"), pl.col("family")]))
    typed = np.where(features.get_column("entity_type").is_null().to_numpy(), -1, 0)
    return [(entity, codes(pl.col("kpp"))), (typed, codes(pl.col("entity_type")))]


def organization_ids(features: pl.DataFrame) -> pl.Series:
    """One id per organization among the holders of a company name, robust to the file's own duplicates.

    Records of one name that share an INN, a domain or a phone are one organization (connected through any of
    them); a record with none of those is one of them when an organization of its name is in its city, else its
    city stands in for it; one with nothing at all stays unknown (null).
    The company-name frequency counts these ids (``TfDistinct(by="org_sig")``), so a company entered five
    times with the INN on some copies and the site on others is one holder of its name, not three.
    """
    from crmclean.matching.clustering import connected_components

    n = features.height
    frame = features.select(IDX, "company_key", "inn", "domain", pl.col("phones").list.first().alias("phone"))
    lefts, rights = [], []
    for column in ("inn", "domain", "phone"):
        links = (frame.drop_nulls(["company_key", column])
                 .with_columns(pl.col(IDX).min().over("company_key", column).alias("__first"))
                 .filter(pl.col(IDX) != pl.col("__first")))
        lefts.append(links.get_column(IDX).to_numpy())
        rights.append(links.get_column("__first").to_numpy())
    labels = connected_components(n, np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64))
    signal = pl.any_horizontal(pl.col("inn", "domain", "phone").is_not_null())
    frame = frame.with_columns(pl.Series("__c", labels, dtype=pl.Int64).cast(pl.String), features.get_column("city"))
    # a record with no INN, domain or phone in a city where an organization of its name is: that organization
    known_city = signal.any().over("company_key", "city")
    return frame.select(pl.when(signal).then(pl.lit("org:") + pl.col("__c"))
                        .when(~known_city.fill_null(False)).then(pl.lit("city:") + pl.col("city"))
                        .otherwise(None).alias("org_sig")).to_series()
