"""The ``completeness:`` section of the rules file: field weights per object type and grade thresholds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, field_validator, model_validator

from crmclean.config.validate import ObjectType

# Weights say how much each field matters to the business; keys are roles or column names,
# `a|b` counts as filled when any of them is filled and valid.
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "contacts": {
        "email|email2": 25,
        "phone|mobile": 20,
        "company": 15,
        "job_title": 10,
        "last_name|full_name": 10,
        "first_name|full_name": 5,
        "city": 5,
        "owner": 5,
        "country": 5,
    },
    "leads": {
        "email|email2": 25,
        "phone|mobile": 25,
        "last_name|full_name": 10,
        "first_name|full_name": 5,
        "company": 10,
        "job_title": 5,
        "lead_source": 10,
        "owner": 10,
    },
    "companies": {
        "company": 20,
        "inn": 20,
        "website": 10,
        "phone|mobile": 10,
        "email|email2": 10,
        "city|address": 10,
        "industry": 5,
        "employees": 5,
        "owner": 5,
        "kpp|ogrn": 5,
    },
    "deals": {"deal_stage": 25, "deal_amount": 25, "owner": 20, "company": 20, "created_at": 10},
}


class GradeThresholds(BaseModel):
    """Traffic light of a record's completeness score (0–100)."""

    model_config = ConfigDict(extra="forbid")

    green: float = Field(80, ge=0, le=100, description="Score at or above this is green.")
    yellow: float = Field(50, ge=0, le=100, description="Score at or above this (and below green) is yellow; below is red.")

    @model_validator(mode="after")
    def _ordered(self) -> GradeThresholds:
        if self.yellow > self.green:
            raise ValueError("yellow threshold must not exceed green")
        return self


class CompletenessSettings(BaseModel):
    """How complete a record is: weighted share of important fields that are filled AND valid."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[ObjectType, dict[str, NonNegativeFloat]] = Field(
        default_factory=dict,
        description=(
            "Object type -> {field: weight}; a field is a role or column, `a|b` means either."
            " An object type given here replaces its defaults (contacts: email 25, phone 20, company 15 …)."
        ),
    )
    thresholds: GradeThresholds = Field(default_factory=GradeThresholds)
    missing_columns: Literal["skip", "count"] = Field(
        "skip",
        description="A weighted field with no column in the source: `skip` it, or `count` it as empty everywhere.",
    )
    histogram_bins: int = Field(10, ge=2, le=100, description="Bins of the score distribution.")

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for object_type, weights in value.items():
            if not any(w > 0 for w in weights.values()):
                raise ValueError(f"{object_type} needs a positive weight (all zero: every score would be 0)")
        return value

    def weights_for(self, object_type: str) -> dict[str, float]:
        if object_type in self.weights:
            return dict(self.weights[object_type])
        return dict(DEFAULT_WEIGHTS.get(object_type, DEFAULT_WEIGHTS["contacts"]))
