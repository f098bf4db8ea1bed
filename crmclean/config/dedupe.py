"""The ``dedupe:`` section of the rules file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DedupeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
