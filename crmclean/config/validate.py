"""The ``validate:`` section of the rules file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ValidateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
