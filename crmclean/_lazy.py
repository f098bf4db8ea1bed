"""The engines' heavy libraries, imported on first use.

Rule classes carry their own documentation, so ``crmclean rules list`` / ``rules explain`` import every rule
module; the rules (and the field parsers they call) run on polars and rapidfuzz. Importing those through this
module keeps the catalogue fast: ``polars`` here is a stand-in that imports polars the first time one of its
attributes is read (``pl.col``, ``pl.Series`` ...) and is the real module from then on.

A module written ``from crmclean._lazy import polars as pl`` must not read ``pl.<anything>`` while it is
imported (a module-level ``pl.Struct(...)``, a default argument ``= pl.String``): wrap such values in a
function (``functools.cache``). ``tests/test_architecture.py`` checks that ``rules list`` imports none of them.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

__all__ = ["DamerauLevenshtein", "fuzz", "polars", "process"]


class _Lazy(types.ModuleType):
    """A module imported when one of its attributes is first read; the real module's namespace from then on."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # copy, pickle and inspect probe dunders: no reason to import
            raise AttributeError(attr)
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


if TYPE_CHECKING:
    import polars as polars
    from rapidfuzz import fuzz as fuzz
    from rapidfuzz import process as process
    from rapidfuzz.distance import DamerauLevenshtein as DamerauLevenshtein
else:
    polars = _Lazy("polars")
    fuzz = _Lazy("rapidfuzz.fuzz")
    process = _Lazy("rapidfuzz.process")
    DamerauLevenshtein = _Lazy("rapidfuzz.distance.DamerauLevenshtein")
