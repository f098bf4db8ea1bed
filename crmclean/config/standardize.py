"""The ``standardize:`` section of the rules file: which standardization rules run, in what order, and what is written."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StandardizeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    select: list[str] = Field(
        default_factory=lambda: ["ALL"],
        description="Rule codes or names to run; ALL runs every built-in standardizer.",
    )
    ignore: list[str] = Field(default_factory=list, description="Rule codes or names to skip.")
    order: list[str] = Field(
        default_factory=list,
        description="Rule codes or names to run first, in this order; the rest follow in default order.",
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options per rule, keyed by rule code or dotted name (see `crmclean rules explain CODE`).",
    )
    derived: Literal["auto", "all", "none"] = Field(
        "auto",
        description="Derived columns added to the output: auto = only those holding data moved out of a cell "
        "(Phone__ext, Phone__extra, Email__extra, Name__salutation, Company__legal_form with mode split); "
        "all = also computed ones (Phone__type, Name__first/__middle/__last, Title__seniority/__function ...); "
        "none = no new columns (moved parts are then only in the change log).",
    )
    apply_suggestions: bool = Field(
        False, description="Apply `suggest` changes too (same as --apply-suggestions)."
    )
