"""The match profile: one row per record with the normalized values matching and scoring compare.

This is the seam between standardization and deduplication/validation: standardization
builds it (E.164 phones, lowercased emails, split name parts, company keys ...), the
matcher and completeness scoring read it, never raw strings.

PROFILE_SCHEMA is the contract. ``build_profile`` below is a deliberately naive first
version (raw values, lower-cased) that the standardization module replaces.
"""

from __future__ import annotations

from typing import Any

import polars as pl

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


def _first(table: Any, role: str) -> pl.Expr:
    cols = table.by_role.get(role, [])
    return pl.col(cols[0]) if cols else pl.lit(None, dtype=pl.String)


def build_profile(table: Any, rules: Any = None) -> pl.DataFrame:
    """Naive placeholder: the standardization module provides the real implementation."""
    f = table.frame
    by_role = table.by_role
    email_cols = by_role.get("email", []) + by_role.get("email2", [])
    phone_cols = by_role.get("phone", []) + by_role.get("mobile", [])
    emails = (
        pl.concat_list([pl.col(c).str.strip_chars().str.to_lowercase() for c in email_cols]).list.drop_nulls()
        if email_cols
        else pl.lit([], dtype=pl.List(pl.String))
    )
    phones = (
        pl.concat_list([pl.col(c).str.replace_all(r"\D", "") for c in phone_cols]).list.drop_nulls()
        if phone_cols
        else pl.lit([], dtype=pl.List(pl.String))
    )
    out = f.select(
        pl.col(table.id_column).alias("record_id"),
        _first(table, "first_name").alias("first_name"),
        _first(table, "middle_name").alias("middle_name"),
        _first(table, "last_name").alias("last_name"),
        emails.alias("emails"),
        phones.alias("phones"),
        _first(table, "company").alias("company"),
        _first(table, "company").str.to_lowercase().alias("company_key"),
        _first(table, "job_title").alias("job_title"),
        _first(table, "city").alias("city"),
        _first(table, "country").alias("country"),
        _first(table, "inn").alias("inn"),
        _first(table, "website").alias("website_domain"),
        _first(table, "owner").alias("owner"),
        _first(table, "created_at").alias("created_at"),
        _first(table, "updated_at").alias("updated_at"),
    ).with_columns(
        pl.col("emails").list.first().alias("email"),
        pl.col("phones").list.first().alias("phone"),
    )
    out = out.with_columns(
        pl.col("email").str.split("@").list.last().alias("email_domain"),
        pl.lit(None, dtype=pl.Boolean).alias("email_is_free"),
        pl.lit(None, dtype=pl.Boolean).alias("email_is_role"),
        pl.lit(None, dtype=pl.String).alias("legal_form"),
        pl.lit(None, dtype=pl.String).alias("seniority"),
        pl.lit(None, dtype=pl.String).alias("function"),
    )
    return out.select([pl.col(c).cast(t) for c, t in PROFILE_SCHEMA.items()])
