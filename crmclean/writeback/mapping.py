"""Where every kept value goes in the target (issue 11): multi-value cells and values moved out of a cell.

Standardize keeps every phone and e-mail of a cell in the cell (crmclean.model.multivalue). A file takes
that cell as it is. A CRM field holds one value, so the plan maps the others, per target:

- Salesforce: extra phones go to ``MobilePhone`` / ``OtherPhone`` / ``HomePhone`` when those are empty (and
  the object has them); an extension stays in the phone field in Salesforce's own convention (``… x123``).
- HubSpot: extra e-mails go to ``hs_additional_emails`` (``;``-joined, after any already there); extra
  phones to ``mobilephone`` when it is empty.

A value with no place (and a value a rule moved out of the cell into a derived column the target does
not have — a salutation, a suffix) makes the plan leave that field as it is and say so: "kept as is:
the target has no field for …". Never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from crmclean.model.multivalue import split_cell

SALESFORCE_PHONE_SLOTS = ("MobilePhone", "OtherPhone", "HomePhone")
HUBSPOT_PHONE_SLOTS = ("mobilephone",)
HUBSPOT_EXTRA_EMAILS = "hs_additional_emails"
SELF_MERGING_MULTI_VALUES = frozenset({"bitrix24", "amocrm"})
_EXT_TAIL = re.compile(r"\s+(?:доб\.|ext\.)\s*(\d{1,7})$")


@dataclass
class Kept:
    """A field the plan leaves as it is, and why."""

    record_id: str
    field: str
    reason: str


def _is_phone(field: str) -> bool:
    from crmclean.roles import detect_role

    return detect_role(field) in ("phone", "mobile")


def _is_email(field: str) -> bool:
    from crmclean.roles import detect_role

    return detect_role(field) in ("email", "email2") and field != HUBSPOT_EXTRA_EMAILS


def _sf_ext(value: str) -> str:
    """Salesforce's convention for an extension: the number, a space, ``x`` and the digits."""
    return _EXT_TAIL.sub(lambda m: f" x{m.group(1)}", value)


def map_values(updates: list[Any], rows: Mapping[str, Mapping[str, Any]], kind: str, writable: set[str],
               make_update: Any) -> tuple[list[Any], list[Kept]]:
    """Updates with multi-value cells spread over the target's fields (CRMs), and what cannot be placed.

    ``updates`` are UpdateOps; ``rows`` the records as read; ``make_update(record_id, field, before, after,
    rule, reason)`` builds a new UpdateOp. Files and targets not named here take the cell as it is.
    """
    kind = kind.lower()
    if kind not in ("salesforce", "hubspot"):
        return updates, []
    out: list[Any] = []
    kept: list[Kept] = []
    planned = {(u.record_id, u.field): u for u in updates}
    taken: dict[str, set[str]] = {}
    for u in updates:
        values = split_cell(u.after) if u.after else []
        phone, email = _is_phone(u.field), _is_email(u.field)
        if len(values) <= 1 or not (phone or email):
            if phone and kind == "salesforce" and u.after:
                u.after = _sf_ext(u.after)
            out.append(u)
            continue
        row = rows.get(u.record_id, {})
        used = taken.setdefault(u.record_id, set())
        main, extras = values[0], values[1:]
        spread: list[tuple[str, str]] = []
        if phone:
            slots = SALESFORCE_PHONE_SLOTS if kind == "salesforce" else HUBSPOT_PHONE_SLOTS
            free = [s for s in slots if s in writable and s != u.field and s not in used
                    and not (row.get(s) or "").strip() and (u.record_id, s) not in planned]
            if len(free) >= len(extras):
                spread = list(zip(free, extras, strict=False))
        elif kind == "hubspot" and HUBSPOT_EXTRA_EMAILS in writable and HUBSPOT_EXTRA_EMAILS not in used:
            have = [v for v in (row.get(HUBSPOT_EXTRA_EMAILS) or "").split(";") if v.strip()]
            spread = [(HUBSPOT_EXTRA_EMAILS, ";".join(dict.fromkeys([*have, *extras])))]
        if not spread:
            kept.append(Kept(u.record_id, u.field, f"kept as is: the target has no field for {', '.join(extras)}"))
            continue
        u.after = _sf_ext(main) if kind == "salesforce" and phone else main
        out.append(u)
        for slot, value in spread:
            used.add(slot)
            after = _sf_ext(value) if kind == "salesforce" and phone else value
            out.append(make_update(u.record_id, slot, row.get(slot), after, u.rule,
                                   f"extra value of {u.field} → {slot}"))
    return out, kept


def moved_out(table: Any, standardized: Any) -> list[Kept]:
    """Values a rule moved out of a cell into a derived column (``Name__suffix``) the target does not have.

    The cell's update would drop them, so the plan keeps those fields as they are.
    """
    frame: pl.DataFrame = standardized.table.frame
    source = set(table.frame.columns)
    ids = frame.get_column(table.id_column).cast(pl.String).to_list()
    kept: list[Kept] = []
    for col in frame.columns:
        if col in source or "__" not in col or col.startswith("__"):
            continue
        base = col.rpartition("__")[0]
        if base not in source:
            continue
        values = frame.get_column(col).cast(pl.String).to_list()
        after = frame.get_column(base).cast(pl.String).to_list()
        before = table.frame.get_column(base).cast(pl.String).to_list()
        for rid, v, a, b in zip(ids, values, after, before, strict=True):
            if v and b and v.strip() and v.strip() not in (a or "") and v.strip().casefold() in b.casefold() \
                    and a != b:
                kept.append(Kept(rid, base, f"kept as is: the target has no field for {col} ({v.strip()!r})"))
    return kept


def drop_kept(updates: Sequence[Any], kept: Sequence[Kept]) -> list[Any]:
    gone = {(k.record_id, k.field) for k in kept}
    return [u for u in updates if (u.record_id, u.field) not in gone]


def map_merge_values(values: dict[str, str | None], master: Mapping[str, Any], kind: str, writable: set[str],
                     master_id: str) -> tuple[dict[str, str | None], list[Kept]]:
    """A merge's golden values with multi-value cells spread over the target's fields (CRMs), as for updates.

    Survivorship keeps every distinct phone and e-mail of a cluster in one cell; a CRM field holds one value.
    """
    kind = kind.lower()
    if kind in SELF_MERGING_MULTI_VALUES:
        # the CRM's own merge keeps every phone/e-mail item of the merged records (Bitrix24 mergeBatch; amoCRM
        # keeps the records): the master's own cell stays, no golden list rewrites its items
        return {f: v for f, v in values.items()
                if not ((_is_phone(f) or _is_email(f)) and len(split_cell(v) if v else []) > 1)}, []
    if kind not in ("salesforce", "hubspot"):
        return values, []
    out = dict(values)
    kept: list[Kept] = []
    used: set[str] = set()
    for f, v in values.items():
        items = split_cell(v) if v else []
        phone, email = _is_phone(f), _is_email(f)
        if len(items) <= 1 or not (phone or email):
            if phone and kind == "salesforce" and v:
                out[f] = _sf_ext(v)
            continue
        main, extras = items[0], items[1:]
        spread: list[tuple[str, str]] = []
        if phone:
            slots = SALESFORCE_PHONE_SLOTS if kind == "salesforce" else HUBSPOT_PHONE_SLOTS
            free = [s for s in slots if s in writable and s != f and s not in used and s not in values
                    and not (master.get(s) or "").strip()]
            # numbers the master already holds in another phone field need no place
            held = {str(master.get(s) or "") for s in slots}
            extras = [x for x in extras if x not in held]
            if len(free) >= len(extras):
                spread = list(zip(free, extras, strict=False))
        elif kind == "hubspot" and HUBSPOT_EXTRA_EMAILS in writable and HUBSPOT_EXTRA_EMAILS not in values:
            have = [x for x in (master.get(HUBSPOT_EXTRA_EMAILS) or "").split(";") if x.strip()]
            spread = [(HUBSPOT_EXTRA_EMAILS, ";".join(dict.fromkeys([*have, *extras])))]
        if extras and not spread:
            kept.append(Kept(master_id, f, f"kept as is: the target has no field for {', '.join(extras)}"))
            out.pop(f)
            continue
        out[f] = _sf_ext(main) if kind == "salesforce" and phone else main
        for slot, value in spread:
            used.add(slot)
            out[slot] = _sf_ext(value) if kind == "salesforce" and phone else value
    return {f: v for f, v in out.items() if (v or None) != (master.get(f) or None)}, kept
