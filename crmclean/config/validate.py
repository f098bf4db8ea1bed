"""The ``validate:`` section of the rules file: which checks run and the data standards they enforce."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "info"]
ObjectType = Literal["contacts", "leads", "companies", "deals", "activities"]  # roles.OBJECT_TYPES


class FormatSpec(BaseModel):
    """Type and format standard of one column (checked by FORMAT001..003)."""

    model_config = ConfigDict(extra="forbid")

    regex: str | None = Field(None, description="The whole value must match this regular expression.")
    min_length: int | None = Field(None, ge=0, description="Shortest allowed value (characters).")
    max_length: int | None = Field(None, ge=1, description="Longest allowed value (characters).")
    allowed_chars: str | None = Field(
        None, description="Regex character-class body of allowed characters, e.g. `0-9A-Za-z -`."
    )
    severity: Severity = Field("error", description="Severity of a violation.")
    message: str | None = Field(None, description="What the steward sees instead of the default message.")


class DateRange(BaseModel):
    """Allowed range of a date column (checked by DATE002)."""

    model_config = ConfigDict(extra="forbid")

    min: date | None = Field(None, description="Earliest allowed date (YYYY-MM-DD).")
    max: date | None = Field(None, description="Latest allowed date (YYYY-MM-DD); default: today.")
    allow_future: bool = Field(False, description="Allow dates after today when `max` is not set.")


class NumberRange(BaseModel):
    """Allowed range of a numeric column (checked by RANGE001/RANGE002)."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(None, description="Smallest allowed value.")
    max: float | None = Field(None, description="Largest allowed value.")
    integer: bool = Field(False, description="Only whole numbers are allowed.")


class ValidateSettings(BaseModel):
    """Data standards: required fields, picklists, formats, uniqueness, ranges, owners, staleness.

    Everywhere a column is expected you may name a source column (``"E-mail"``) or a role
    (``email``, meaning every column with that role); ``email|phone`` means "any one of".
    """

    model_config = ConfigDict(extra="forbid")

    select: list[str] = Field(
        default_factory=lambda: ["ALL"], description="Check codes or names to run; ALL runs every built-in check."
    )
    ignore: list[str] = Field(default_factory=list, description="Check codes or names to skip.")
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per check, keyed by code or dotted name (see `crmclean rules explain CODE`).",
    )
    required: dict[ObjectType, list[str]] | None = Field(
        None,
        description=(
            "Required fields per object type (contacts, leads, companies, deals); `a|b` = one of them."
            " Default: contacts/leads need a name and an email or phone; companies a name."
        ),
    )
    placeholders: list[str] = Field(
        default_factory=list, description="Extra filler values that count as empty (besides -, нет, n/a, test …)."
    )
    picklists: dict[str, list[str]] = Field(
        default_factory=dict, description="Column or role -> allowed values (case-sensitive; a hint names the closest)."
    )
    formats: dict[str, FormatSpec] = Field(
        default_factory=dict, description="Column or role -> regex / length / allowed characters."
    )
    unique: list[str] | None = Field(
        None,
        description="Columns or roles whose non-empty values must be unique (default: the record id column, and inn for companies).",
    )
    dates: dict[str, DateRange] = Field(
        default_factory=dict,
        description="Column or role -> allowed date range (date roles default to 1900-01-01 … today).",
    )
    ranges: dict[str, NumberRange] = Field(
        default_factory=dict, description="Column or role -> numeric range (employees defaults to 0 … 10,000,000)."
    )
    active_owners: list[str] | None = Field(
        None, description="Owners who are active users; a record owned by anyone else is flagged (OWNER002)."
    )
    stale_days: int = Field(365, ge=1, description="A record with no modification or activity for this many days is stale.")
    email_deliverability: bool = Field(
        False, description="Also check that email domains accept mail (DNS lookups; slow, needs network)."
    )
    free_text: list[str] | None = Field(
        None,
        description=(
            "Columns or roles checked for free text that should be a picklist"
            " (default: city, country, region, industry, lead_source, status, deal_stage)."
        ),
    )
    today: date | None = Field(None, description="Reference date for staleness and future dates (default: today).")
