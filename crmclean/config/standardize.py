"""The ``standardize:`` section of the rules file: which standardization rules run, in what order."""

from __future__ import annotations

from typing import Any

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
