"""The matching seam: declarations are data, the polars backend renders them, a backend is pluggable."""

from __future__ import annotations

import dataclasses
import inspect

import polars as pl
import pytest
from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.backend import BACKENDS, MatchBackend, get_backend
from crmclean.matching.backends.polars import PolarsBackend
from crmclean.matching.backends.polars.compare import PREDICATES as POLARS_PREDICATES
from crmclean.matching.engine import prepare
from crmclean.matching.library import (
    PREDICATES,
    AllOf,
    Comparison,
    Else,
    Exact,
    Fuzzy,
    Level,
    Missing,
    Not,
    Predicate,
    TfLeft,
    companies_blocking_keys,
    companies_comparisons,
    contacts_blocking_keys,
    contacts_comparisons,
    generic_comparison,
)
from crmclean.matching.library.conditions import columns_of

ROWS = [
    {"Id": "1", "First Name": "Иван", "Last Name": "Петров", "Email": "ivan.petrov@romashka.ru", "City": "Москва"},
    {"Id": "2", "First Name": "Ivan", "Last Name": "Petrov", "Email": "ivan.petrov@gmail.com", "City": "Moscow"},
    {"Id": "3", "First Name": "Анна", "Last Name": "Сидорова", "City": "Казань"},
    {"Id": "4", "First Name": "Anna", "Last Name": "Sidorova", "City": "Kazan"},
    {"Id": "5", "First Name": "Пётр", "Last Name": "Иванов"},
]


def _pairs(*pairs: tuple[int, int]) -> pl.DataFrame:
    return pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                        schema={"l": pl.UInt32, "r": pl.UInt32})


def test_library_is_data_only() -> None:
    import crmclean.matching.library.blocking as blocking
    import crmclean.matching.library.comparisons as comparisons
    import crmclean.matching.library.conditions as conditions

    for module in (blocking, comparisons, conditions):
        source = inspect.getsource(module)
        assert "import polars" not in source and "rapidfuzz" not in source
    for comp in contacts_comparisons() + companies_comparisons():
        assert dataclasses.is_dataclass(comp) and type(comp).__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert isinstance(comp.levels[-1].when, Else)
        hash(comp)  # frozen all the way down: usable as a key, comparable by value
    assert contacts_comparisons() == contacts_comparisons()
    assert contacts_blocking_keys() == contacts_blocking_keys()
    assert companies_blocking_keys() == companies_blocking_keys()


def test_declarations_are_validated() -> None:
    with pytest.raises(ValueError, match="last level must be Else"):
        Comparison("x", "X", (Level("exact", 0.9, 0.1, when=Exact("city")),), Missing("city"))
    with pytest.raises(ValueError, match="only the last level"):
        Comparison("x", "X", (Level("a", 0.5, 0.5), Level("b", 0.5, 0.5)), Missing("city"))
    with pytest.raises(ValueError, match="unknown metric"):
        Fuzzy("city", "soundex", 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown predicate"):
        Predicate("telepathy", ("fn",))


def test_every_declared_predicate_has_a_polars_implementation() -> None:
    assert set(PREDICATES) == set(POLARS_PREDICATES)


def test_default_comparisons_read_only_feature_columns() -> None:
    table = table_from_rows(ROWS)
    setup = prepare(table)
    for comp in contacts_comparisons():
        cols = set().union(*(columns_of(lv.when) for lv in comp.levels), columns_of(comp.null_when))
        assert cols <= set(setup.features.columns), (comp.name, cols - set(setup.features.columns))


def test_a_new_comparison_is_declared_not_coded() -> None:
    """A comparison written as data only is rendered by the polars backend: levels, nulls and tf u."""
    table = table_from_rows(ROWS)
    setup = prepare(table)
    city = Comparison("city_plain", "City", (
        Level("exact", 0.8, 0.05, tf=True, when=Exact("city")),
        Level("similar", 0.1, 0.02, when=AllOf((Fuzzy("city", "jaro_winkler", 0.8), Not(Exact("fn"))))),
        Level("different", 0.1, 0.93),
    ), Missing("city"), tf=TfLeft("city"), display=("city",))
    backend = get_backend()
    levels = backend.compare(setup.features, _pairs((0, 1), (2, 3), (0, 2), (0, 4)), [city], setup.tf)
    assert levels.get_column("lvl__city_plain").to_list() == [0, 0, 2, None]
    assert levels.get_column("tfu__city_plain").null_count() == 0  # u of the left record's city
    scored = backend.weigh(levels, setup.model.__class__.default([city], setup.features.height))
    assert scored.get_column("w__city_plain").to_list()[3] == 0.0  # missing: neutral


def test_generic_comparison_matches_rules_file_kinds() -> None:
    comp = generic_comparison("dob", "date", "x__dob")
    assert comp.level_names() == ["exact", "typo", "other_year", "other_month", "other_day", "close",
                                  "different"]
    assert comp.tf_column == "x__dob"
    lev = generic_comparison("ssn", "levenshtein", "x__ssn", thresholds=[1, 2])
    assert [lv.when for lv in lev.levels[1:3]] == [Fuzzy("x__ssn", "levenshtein", 1),
                                                     Fuzzy("x__ssn", "levenshtein", 2)]


def test_backend_registry_and_a_plugged_backend() -> None:
    assert isinstance(get_backend("polars"), PolarsBackend)
    assert get_backend() is get_backend("polars")
    with pytest.raises(ValueError, match="unknown matching backend"):
        get_backend("cobol")

    calls: list[str] = []

    class Recording(PolarsBackend):
        """A second engine only has to implement MatchBackend; here it records and delegates."""

        name = "recording"

        def block(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append("block")
            return super().block(*args, **kwargs)

        def compare(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append("compare")
            return super().compare(*args, **kwargs)

        def weigh(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append("weigh")
            return super().weigh(*args, **kwargs)

    assert issubclass(Recording, MatchBackend)
    assert "polars" in BACKENDS
    table = table_from_rows(ROWS)
    plain = dedupe(table)
    recorded = dedupe(table, backend=Recording())
    assert {"block", "compare", "weigh"} <= set(calls)
    assert plain.pairs.equals(recorded.pairs)
    assert plain.clusters.equals(recorded.clusters)
