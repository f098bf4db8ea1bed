"""The fidelity guard: a write may not lose a phone number, an extension or an e-mail address (issue 11).

Before a record is written, every phone number (by its last ten digits), every extension and
every e-mail address found in the values being replaced must still be somewhere in the record
once written: in the new values, or in a field the write does not touch. The only exception is a
value a rule removed on purpose and logged as such (a filler emptied by PLACEHOLDER001, or by a
rule listed in :data:`REMOVING_RULES`). A violation skips the record with a reason naming what
would be lost; this is the safety net for any future rule.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmclean.model.multivalue import email_addresses, phone_key_present, phone_keys

# rules whose change-log row says the value was removed on purpose (a filler, "нет", "-", noemail@…), or
# corrected on purpose (a mail-domain typo, only with suggestions applied)
REMOVING_RULES = frozenset({"PLACEHOLDER001", "EMAIL003"})
PHONE_FIELD_ROLES = frozenset({"phone", "mobile", "fax"})


def _phone_field(name: str, codes: set[str]) -> bool:
    """Digits are read as phone numbers only in a phone field (by its header / CRM API name, or a PHONE rule)."""
    from crmclean.roles import detect_role

    return any(c.startswith("PHONE") for c in codes) or detect_role(name) in PHONE_FIELD_ROLES

Value = object


def _text(v: object) -> str | None:
    return None if v is None else str(v)


def lost_values(changes: Mapping[str, tuple[object, object]], current: Mapping[str, object] | None = None,
                rules: Mapping[str, str] | None = None) -> list[str]:
    """What a write of ``changes`` (field → (before, after)) would lose, given the record's other fields."""
    rules = rules or {}
    after_record: dict[str, object] = dict(current or {})
    for f, (_before, after) in changes.items():
        after_record[f] = after
    pool_text = " \n ".join(str(v) for v in after_record.values() if v is not None)
    pool_emails = email_addresses(pool_text)
    pool_phones: set[str] = set()
    for f, v in after_record.items():
        if v is not None and _phone_field(f, set()):
            pool_phones |= phone_keys(str(v))
    lost: list[str] = []
    for f, (before, _after) in changes.items():
        codes = set(filter(None, str(rules.get(f, "") or "").split("+")))
        if codes & REMOVING_RULES:
            continue
        text = _text(before)
        for address in sorted(email_addresses(text)):
            if address not in pool_emails:
                lost.append(f"{f}: e-mail {address}")
        if not _phone_field(f, codes):
            continue
        for key in sorted(phone_keys(text)):
            if not phone_key_present(key, pool_phones):
                lost.append(f"{f}: " + (f"extension {key[4:]}" if key.startswith("ext:") else f"phone …{key}"))
    return lost


def fidelity_problem(changes: Mapping[str, tuple[object, object]], current: Mapping[str, object] | None = None,
                     rules: Mapping[str, str] | None = None) -> str | None:
    """The reason to skip a write that would lose a value, else None."""
    lost = lost_values(changes, current, rules)
    if not lost:
        return None
    shown = "; ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
    return f"fidelity guard: the write would lose {shown} (no rule removed it); record kept as is"
