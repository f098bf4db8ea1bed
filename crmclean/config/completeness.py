"""The ``completeness:`` section of the rules file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CompletenessSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
