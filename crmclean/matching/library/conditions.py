"""Level conditions and term-frequency sources as data: what a level means, never how an engine computes it.

A comparison level holds one condition (``when``). Conditions are frozen dataclasses a
backend renders (``crmclean.matching.backends.polars`` today; a SQL backend would render
them as ``CASE WHEN`` clauses): exact agreement, a fuzzy metric at a threshold, a shared
element of two lists, a named domain predicate (nickname groups, male/female surname forms
...), and ``AllOf`` / ``AnyOf`` / ``Not`` over them. A value missing on either side makes a
condition false; the comparison's ``null_when`` condition decides when a pair is neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Metric = Literal["jaro_winkler", "token_set", "levenshtein"]

# similarity metrics agree at ``>= threshold``; distance metrics at ``<= threshold``
SIMILARITY_METRICS: frozenset[str] = frozenset({"jaro_winkler", "token_set"})
DISTANCE_METRICS: frozenset[str] = frozenset({"levenshtein"})


@dataclass(frozen=True)
class Condition:
    """Base of every level condition."""


@dataclass(frozen=True)
class Exact(Condition):
    """Both sides hold the same value of ``column``."""

    column: str


@dataclass(frozen=True)
class Fuzzy(Condition):
    """``metric(left, right)`` at ``threshold``: similarity ≥ threshold, or distance ≤ threshold."""

    column: str
    metric: Metric
    threshold: float

    def __post_init__(self) -> None:
        if self.metric not in SIMILARITY_METRICS | DISTANCE_METRICS:
            raise ValueError(f"unknown metric {self.metric!r}")


@dataclass(frozen=True)
class Missing(Condition):
    """``column`` is missing (null, or an empty list) on either side."""

    column: str


@dataclass(frozen=True)
class Shares(Condition):
    """The two sides' lists in ``column`` share at least one element."""

    column: str


@dataclass(frozen=True)
class MinLength(Condition):
    """The left side's value of ``column`` has at least ``length`` characters."""

    column: str
    length: int


@dataclass(frozen=True)
class Predicate(Condition):
    """A named domain predicate over ``columns`` that each backend implements (see ``PREDICATES``)."""

    name: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.name not in PREDICATES:
            raise ValueError(f"unknown predicate {self.name!r}")


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not(Condition):
    part: Condition


@dataclass(frozen=True)
class Else(Condition):
    """The last level of every comparison: none of the levels above."""


# named predicates a backend must implement: name -> what it means (columns as declared)
PREDICATES: dict[str, str] = {
    "groups_overlap": "the '|'-separated name groups of (column) overlap (Bob ~ Robert, Саша ~ Александр)",
    "first_initial": "one side of (name, groups) is a single letter: the other's first letter or a group's",
    "initial": "one side of (column) is a single letter equal to the other's first letter",
    "gender_form": "(surname) differs only by the female ending (Иванов / Иванова, -ski / -skaia)",
    "other_gender_patronymic": "(patronymic) of a man on one side and a woman on the other (Петрович / Петровна)",
    "shared_line": "the pair's most specific shared element of (list column) is held by several people (a "
                   "switchboard)",
    "own_numbers": "each side of (phone list) has a number the other lacks (compared by the last nine digits: "
                   "030 7616653 ~ +49 30 7616653)",
    "own_lines": "each side of (phone list) has two or more numbers the other lacks (its own office line and mobile)",
    "numbered_mailbox": "(email local part) differs only by digits (ivanov@ vs ivanov2@): a second person",
    "same_letters": "(email local part) differs only by separators (r.johnston@ vs rjohnston@)",
    "other_year": "(YYYYMMDD dates) agree on month and day, not on the year",
    "other_month": "(YYYYMMDD dates) agree on year and day, not on the month",
    "other_day": "(YYYYMMDD dates) agree on year and month, not on the day",
    "two_spellings": "each side's (name) is held by several records of the file, the rarer by at least a tenth as "
                     "many as the commoner: two established spellings (Schmidt / Schmitt), not a typo",
    "known_names": "both sides' (given name) are names the name lists know (not a typo, not an initial)",
    "two_russian_names": "both sides' (given name) are names of the Russian name list with different canonical forms "
                         "(Мария / Марина, Александр / Алексей): two names, not a typo",
    "digits_transposed": "(column) equals the other side with two neighbouring characters swapped (1940 / 1490)",
    "domain_names_company": "(company key, org domain): equal domains or one side's domain stem contains the "
                            "other's company key",
    "day_month_swapped": "(YYYYMMDD date) equals the other side with day and month swapped",
    "one_side_only": "(column) has a value on exactly one side",
}


@dataclass(frozen=True)
class TfSource:
    """Where u of a term-frequency level comes from."""

    column: str


@dataclass(frozen=True)
class TfLeft(TfSource):
    """Frequency of the left record's value of a single-valued ``column``.

    ``on_swap``: for pairs whose first/last names were aligned by swapping, the value is looked up in
    this column as well and the larger frequency counts, so a pair weighs the same whichever record
    holds the names in the other order (a surname is rare among given names, not among surnames).
    """

    on_swap: str | None = None


@dataclass(frozen=True)
class TfDistinct(TfSource):
    """Frequency of the left value of ``column`` counted in distinct ``by`` values among its holders.

    A company's own duplicate records share its name: counted per record they make the most
    duplicated names the weakest evidence. Counting distinct signatures (INN, domain, phone,
    city) among the holders counts organizations, not rows (at least a quarter of the rows count,
    so a name held by many records with no signature stays common).
    """

    by: str = ""


@dataclass(frozen=True)
class TfShared(TfSource):
    """Frequency of the first element the two sides' lists in ``column`` share."""


@dataclass(frozen=True)
class NameSwap:
    """Before comparing, swap the right side's first/last name columns where crossing agrees better.

    Only pairs with all four of ``first``/``last`` on both sides, some disagreement and a first letter
    crossing over are considered; a swap needs the crossed Jaro-Winkler sum to beat the straight one by
    ``margin``. ``swap_columns`` are the column pairs exchanged on the right side.
    """

    first: str = "fn"
    last: str = "ln"
    swap_columns: tuple[tuple[str, str], ...] = (("fn", "ln"), ("fn_groups", "ln_groups"), ("fi", "li"),
                                                  ("ln_ph", "fn_ph"))
    margin: float = 0.25


def columns_of(condition: Condition) -> set[str]:
    """Every feature column a condition reads."""
    if isinstance(condition, (Exact, Fuzzy, Missing, Shares, MinLength)):
        return {condition.column}
    if isinstance(condition, Predicate):
        return set(condition.columns)
    if isinstance(condition, (AllOf, AnyOf)):
        return set().union(*(columns_of(p) for p in condition.parts))
    if isinstance(condition, Not):
        return columns_of(condition.part)
    return set()
