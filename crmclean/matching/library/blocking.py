"""Blocking: which record pairs get compared at all, so a million records never become 10^12 comparisons.

A :class:`BlockingKey` names feature columns whose joint value puts records in one block
(every email; every phone; surname sound + canonical given name ...). Pairs inside a block
become candidates; the union over all keys is compared. A block larger than
``max_block_size`` (an office switchboard shared by 300 colleagues, a very common name) is
split by the key's ``refine`` columns one after another (phone → phone + surname initial →
phone + surname sound); what is still too big is, for a key with a ``window`` (every key unless it
says ``window=0``, keys from a rules file included), compared as a sorted neighbourhood: sorted by
name, each record meets its nearest ``window`` neighbours, so pairs grow linearly and nothing is
dropped; a key with ``window=0`` drops it and counts it. Never compared all-pairs blindly. Statistics
per key are reported, and per run which keys find the pairs scored as matches and an estimate of the
blocking recall (``CandidatePairs.key_recall``).

Keys are declarations only (data); a backend (``crmclean.matching.backends.polars``) builds the blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BlockingKey:
    """One blocking rule: records agreeing on every column in ``columns`` share a block."""

    name: str
    columns: tuple[str, ...]
    # columns added one at a time to split oversized blocks; a tuple of columns splits by any of them (a record joins
    # one sub-block per value it has in them, so records sharing a value in any stay together)
    refine: tuple[str | tuple[str, ...], ...] = ()
    min_length: int = 1  # shortest key value that may form a block (a 2-letter surname sound is too loose)
    max_block_size: int | None = None  # None: the engine's default
    sorted_pair: bool = False  # key = the two columns' values sorted (swapped first/last names)
    either_side: str | None = None  # keep only pairs where this boolean feature is true on one side at least
    # > 1: a block still oversized after refinement is compared as sorted neighbourhoods; every key has one unless
    # it says window=0 (then such a block is dropped and counted), keys from a rules file too
    window: int = 6
    window_sort: tuple[str, ...] = ("ln_ph", "fn_canon", "ln", "fn", "company_key")  # their order
    description: str = ""


# A contact point shared by more records than one person has (an office line, a family phone, info@) is split by
# the names' sounds: records stay together that share a surname or given name sound, across the two as well (a
# surname typo or a new surname keeps the given name; swapped names share both), then by surname initial and given
# name. At 300k (seed 7) the phone key finds 76 more true pairs scoring >= 0.9 than split by the surname sound alone
# at blocks over 12, with 4 % fewer pairs; the email key (was: over 50) the same true pairs with 1.4 % fewer.
_BY_NAME_SOUNDS: tuple[str | tuple[str, ...], ...] = (("ln_ph", "fn_canon_ph"), "li", "fn_canon")


def contacts_blocking_keys() -> list[BlockingKey]:
    """Default keys for people: exact contact points first, then name and organization keys.

    Size limits are per key: a personal phone or mailbox is shared by a handful of records of
    one person, so a bigger block is a switchboard or a generic mailbox and gets split by the
    names' sounds; name keys tolerate more (common names), organization keys less.
    """
    return [
        BlockingKey("email", ("emails",), refine=_BY_NAME_SOUNDS, min_length=5,
                    max_block_size=12, window=6,
                    description="the same email address (a shared mailbox is split by surname or given name)"),
        BlockingKey("phone", ("phones",), refine=_BY_NAME_SOUNDS, min_length=7,
                    max_block_size=6, window=6,
                    description="the same phone number (a switchboard is split by surname or given name)"),
        BlockingKey("name", ("fn_canon_ph", "ln_ph"), sorted_pair=True, refine=("mi", "company_ph", "city"),
                    min_length=2, max_block_size=12,
                    window=6, description="surname sound + canonical given name sound, in either order "
                                "(Iwanow Sascha ~ Иванов Александр ~ Александр Иванов)"),
        BlockingKey("surname_initial", ("ln", "fi"), refine=("mi", "company_ph", "city"), min_length=3,
                    max_block_size=12, either_side="fn_is_initial",
                    window=6, description="exact surname + first initial, when one side has only the initial "
                                "(Иванов И.И. ~ Иванов Иван)"),
        BlockingKey("company_name", ("company_key", "fn_canon"), refine=("li",), min_length=2, max_block_size=8,
                    window=6, description="company + given name (a surname typo at the same company)"),
        BlockingKey("inn_initial", ("inn", "li"), refine=("fi", "ln_ph"), min_length=10, max_block_size=15,
                    window=6, description="company INN + surname initial"),
        BlockingKey("company_surname", ("company_key", "ln_ph"), refine=("fi",), min_length=2, max_block_size=12,
                    window=6, description="company + surname sound (a given-name variant at the same company)"),
        BlockingKey("surname_city", ("ln_ph", "city", "fi"), refine=("fn_canon",), min_length=2, max_block_size=12,
                    window=6, description="surname sound + city + first initial (no company, no contact point "
                                          "in common)"),
        BlockingKey("translit_name", ("ln", "fn"), sorted_pair=True, refine=("company_ph", "city"), min_length=2,
                    max_block_size=12,
                    window=6, description="transliterated surname + given name as written, in either order "
                                "(Ivanova Katya ~ Иванова Катя, without nickname folding)"),
    ]


def companies_blocking_keys() -> list[BlockingKey]:
    """Default keys for companies/accounts."""
    return [
        BlockingKey("inn", ("tax_id",), min_length=10, window=6,
                    description="the same INN (else the same foreign registration number: VAT, EIN)"),
        BlockingKey("company", ("company_key",), refine=("city",), min_length=2, window=6, description="the same name key"),
        BlockingKey("company_prefix_city", ("company_ph", "city"), refine=("company_key",), min_length=3,
                    window=6, description="first word of the name + city"),
        BlockingKey("domain", ("domain",), min_length=4, window=6, description="the same website / email domain"),
        BlockingKey("phone", ("phones",), refine=("company_ph",), min_length=7, window=6, description="the same phone"),
        BlockingKey("email", ("emails",), min_length=5, window=6, description="the same email"),
    ]


def generic_blocking_key(name: str, columns: Sequence[str], refine: Sequence[str] = ()) -> BlockingKey:
    return BlockingKey(name, tuple(columns), refine=tuple(refine), description="from the rules file")
