"""Bitrix24 multi-value fields (PHONE, EMAIL, WEB, IM) as one table cell, and a changed cell back as item operations.

The portal holds each as a list of items ``{ID, VALUE, VALUE_TYPE}``. crmclean shows one cell with every value
joined by ``", "`` and maps an edited cell back the way crm.contact.update documents it
(api-reference/crm/contacts/crm-contact-update.md, "Working with Multiple Fields"):

* a value still present is left untouched (its item is not sent at all);
* a changed value replaces an item in place: ``{ID, VALUE}`` (its VALUE_TYPE kept);
* a new value is added: an item without ``ID``;
* a value that is gone is removed: ``{ID, DELETE: "Y"}``.

Unchanged values are matched first (exactly, then ignoring case and spaces), changed ones pair with the remaining
items in order, so "8 916 123-45-67, 8 495 1112233" standardized to "+7 916 123-45-67, +7 495 111-22-33" rewrites two
items in place and keeps their types (MOBILE, WORK). When that would change the order of the values (the portal lists
items by id, additions last), the items are rewritten by position instead, so a cell always reads back as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

MULTI_FIELDS = ("PHONE", "EMAIL", "WEB", "IM")
SEPARATOR = ", "
DEFAULT_VALUE_TYPE = "WORK"

Item = Mapping[str, Any]


def join_items(items: Any) -> str | None:
    """The cell for a list of items (None when there are none)."""
    if not isinstance(items, list):
        return None if items in (None, "") else str(items)
    values = [str(i.get("VALUE") or "").strip() for i in items if isinstance(i, Mapping)]
    values = [v for v in values if v]
    return SEPARATOR.join(values) if values else None


def split_cell(cell: str | None) -> list[str]:
    """The values of a cell: split on commas and semicolons (and new lines), blanks dropped."""
    if cell is None:
        return []
    return [v.strip() for v in re.split(r"[,;\n]", cell) if v.strip()]


def _loose(value: str) -> str:
    return re.sub(r"\s+", "", value).casefold()


def same_values(a: str | None, b: str | None) -> bool:
    """Whether two cells hold the same values (order and spacing around separators do not matter)."""
    return sorted(split_cell(a)) == sorted(split_cell(b))


def item_operations(current: Sequence[Item], cell: str | None) -> list[dict[str, Any]]:
    """The items to send so the field holds exactly the values of ``cell`` (empty list: nothing to change)."""
    wanted = split_cell(cell)
    free = [dict(i) for i in current if isinstance(i, Mapping) and i.get("ID") is not None]
    unmatched: list[str] = []
    for value in wanted:  # exact matches stay untouched
        hit = next((i for i in free if str(i.get("VALUE") or "").strip() == value), None)
        if hit is not None:
            free.remove(hit)
        else:
            unmatched.append(value)
    ops: list[dict[str, Any]] = []
    still: list[str] = []
    for value in unmatched:  # same value written differently ("A@X.RU" -> "a@x.ru"): replace that item
        hit = next((i for i in free if _loose(str(i.get("VALUE") or "")) == _loose(value)), None)
        if hit is not None:
            free.remove(hit)
            ops.append({"ID": str(hit["ID"]), "VALUE": value, "VALUE_TYPE": hit.get("VALUE_TYPE") or DEFAULT_VALUE_TYPE})
        else:
            still.append(value)
    for value in still:  # changed values take the remaining items in order, the rest are added
        if free:
            item = free.pop(0)
            ops.append({"ID": str(item["ID"]), "VALUE": value,
                        "VALUE_TYPE": item.get("VALUE_TYPE") or DEFAULT_VALUE_TYPE})
        else:
            ops.append({"VALUE": value, "VALUE_TYPE": DEFAULT_VALUE_TYPE})
    ops.extend({"ID": str(item["ID"]), "DELETE": "Y"} for item in free)  # values no longer there
    if _result(current, ops) != wanted:
        # the values would come back in another order (the first phone is the one people call): rewrite by position
        ops = _positional(current, wanted)
    return ops


def _result(current: Sequence[Item], ops: Sequence[Mapping[str, Any]]) -> list[str]:
    """The values the portal holds after ``ops``, in its order (items by id, additions last)."""
    by_id = {str(o["ID"]): o for o in ops if "ID" in o}
    out: list[str] = []
    for item in current:
        op = by_id.get(str(item.get("ID")))
        if op is None:
            out.append(str(item.get("VALUE") or "").strip())
        elif op.get("DELETE") != "Y":
            out.append(str(op["VALUE"]))
    out += [str(o["VALUE"]) for o in ops if "ID" not in o]
    return [v for v in out if v]


def _positional(current: Sequence[Item], wanted: Sequence[str]) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    items = [i for i in current if isinstance(i, Mapping) and i.get("ID") is not None]
    for k, item in enumerate(items):
        if k >= len(wanted):
            ops.append({"ID": str(item["ID"]), "DELETE": "Y"})
        elif str(item.get("VALUE") or "").strip() != wanted[k]:
            ops.append({"ID": str(item["ID"]), "VALUE": wanted[k],
                        "VALUE_TYPE": item.get("VALUE_TYPE") or DEFAULT_VALUE_TYPE})
    ops.extend({"VALUE": v, "VALUE_TYPE": DEFAULT_VALUE_TYPE} for v in wanted[len(items):])
    return ops


def new_items(cell: str | None) -> list[dict[str, Any]]:
    """Items for a record being created (no ids)."""
    return [{"VALUE": v, "VALUE_TYPE": DEFAULT_VALUE_TYPE} for v in split_cell(cell)]
