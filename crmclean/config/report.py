"""The ``report:`` section of the rules file: where reports go, what they show, how lights are set."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CheckLights(BaseModel):
    """Traffic light of a check in the report, by the share of records it flags."""

    model_config = ConfigDict(extra="forbid")

    yellow_pct: float = Field(1.0, ge=0, le=100, description="A check flagging more than this % of records is yellow.")
    red_pct: float = Field(5.0, ge=0, le=100, description="A check flagging more than this % of records is red.")
    info_max: str = Field("yellow", description="Worst light an info-level check can get (green or yellow).")

    @model_validator(mode="after")
    def _ordered(self) -> CheckLights:
        if self.yellow_pct > self.red_pct:
            raise ValueError("yellow_pct must not exceed red_pct")
        if self.info_max not in ("green", "yellow"):
            raise ValueError("info_max must be green or yellow")
        return self


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out_dir: str | None = Field(None, description="Report directory (default: ./crmclean-report/<timestamp>/).")
    mask_pii: bool = Field(False, description="Show emails and phones partly masked (i***@mail.ru, +7 *** ***-45-67).")
    max_examples: int = Field(3, ge=0, le=50, description="Example rows shown per finding type.")
    top_findings: int = Field(25, ge=1, le=500, description="Finding types listed in 'top findings'.")
    max_clusters: int = Field(50, ge=0, le=5000, description="Duplicate clusters shown in the HTML report.")
    max_changes: int = Field(200, ge=0, le=50000, description="Proposed changes shown in the HTML report.")
    lights: CheckLights = Field(default_factory=CheckLights)
    clean_ignore_rules: list[str] = Field(
        default_factory=lambda: ["TITLE001"],
        description="Standardizer codes whose `fix` changes do not make a record unclean (default: canonical job "
        "titles — a synonym is not an error).",
    )
