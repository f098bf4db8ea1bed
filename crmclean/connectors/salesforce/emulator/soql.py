"""SOQL for the emulator: tokenizer, parser (SELECT … FROM … WHERE … ORDER BY … LIMIT) and WHERE evaluation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmclean.connectors.salesforce.emulator.model import (
    _NUMERIC_TYPES,
    ApiError,
    Row,
    SField,
    SObject,
    _parse_datetime,
)

# ---------------------------------------------------------------------------------------------
# SOQL
# ---------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.)*')
     |(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
     |(?P<date>\d{4}-\d{2}-\d{2})
     |(?P<num>-?\d+(?:\.\d+)?)
     |(?P<op><=|>=|!=|<>|=|<|>)
     |(?P<punct>[(),])
     |(?P<word>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "GROUP", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
             "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "TRUE", "FALSE", "NULL", "INCLUDES", "EXCLUDES"}


def _malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


@dataclass
class Literal:
    kind: str  # str | num | bool | null | date | datetime | dateliteral
    value: Any


@dataclass
class SoqlQuery:
    """A parsed SOQL statement (the subset crmclean and its tests use)."""

    obj: str
    fields: list[str]
    count: bool = False
    where: Any = None  # nested tuples, see _parse_condition
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # (field, descending, nulls_last)
    limit: int | None = None
    offset: int = 0
    aggregates: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (COUNT, field, alias)
    group_by: list[str] = field(default_factory=list)


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                raise _malformed(f"unexpected token: '{text[pos:pos + 20].strip()}'")
            kind = m.lastgroup or ""
            self.items.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def peek_kw(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].upper() in words

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise _malformed("unexpected end of query")
        self.i += 1
        return tok

    def expect_kw(self, word: str) -> None:
        kind, text = self.take()
        if kind != "word" or text.upper() != word:
            raise _malformed(f"unexpected token: '{text}', expected {word}")

    def expect(self, punct: str) -> None:
        _, text = self.take()
        if text != punct:
            raise _malformed(f"unexpected token: '{text}', expected '{punct}'")

    def name(self) -> str:
        kind, text = self.take()
        if kind != "word" or text.upper() in _KEYWORDS - {"FIRST", "LAST"}:
            raise _malformed(f"unexpected token: '{text}'")
        return text


def parse_soql(text: str) -> SoqlQuery:
    """Parse ``SELECT f, ... | COUNT() FROM Obj [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n]``."""
    toks = _Tokens(text)
    toks.expect_kw("SELECT")
    fields: list[str] = []
    aggregates: list[tuple[str, str | None, str | None]] = []
    count = False
    if toks.peek_kw("COUNT") and toks.items[toks.i + 1:toks.i + 3] == [("punct", "("), ("punct", ")")]:
        toks.take()
        toks.expect("(")
        if toks.peek() and toks.peek() != ("punct", ")"):
            toks.name()
        toks.expect(")")
        count = True
    else:
        while True:
            name = toks.name()
            if toks.peek() == ("punct", "("):  # an aggregate: COUNT(Id) [alias]
                toks.take()
                inner = toks.name() if toks.peek() != ("punct", ")") else None
                toks.expect(")")
                after = toks.peek()
                alias = toks.name() if after is not None and after[0] == "word" and not toks.peek_kw("FROM") else None
                aggregates.append((name.upper(), inner, alias))
            else:
                fields.append(name)
            if toks.peek() == ("punct", ","):
                toks.take()
                continue
            break
    toks.expect_kw("FROM")
    query = SoqlQuery(obj=toks.name(), fields=fields, count=count, aggregates=aggregates)
    if toks.peek_kw("WHERE"):
        toks.take()
        query.where = _parse_or(toks)
    if toks.peek_kw("GROUP"):
        toks.take()
        toks.expect_kw("BY")
        query.group_by.append(toks.name())
        while toks.peek() == ("punct", ","):
            toks.take()
            query.group_by.append(toks.name())
    if toks.peek_kw("ORDER"):
        toks.take()
        toks.expect_kw("BY")
        while True:
            fname = toks.name()
            desc = False
            if toks.peek_kw("ASC", "DESC"):
                desc = toks.take()[1].upper() == "DESC"
            nulls_last = desc
            if toks.peek_kw("NULLS"):
                toks.take()
                nulls_last = toks.take()[1].upper() == "LAST"
            query.order.append((fname, desc, nulls_last))
            if toks.peek() == ("punct", ","):
                toks.take()
                continue
            break
    if toks.peek_kw("LIMIT"):
        toks.take()
        kind, num = toks.take()
        if kind != "num":
            raise _malformed(f"unexpected token: '{num}'")
        query.limit = int(num)
    if toks.peek_kw("OFFSET"):
        toks.take()
        kind, num = toks.take()
        if kind != "num":
            raise _malformed(f"unexpected token: '{num}'")
        query.offset = int(num)
    if toks.peek() is not None:
        raise _malformed(f"unexpected token: '{toks.peek()[1]}'")  # type: ignore[index]
    return query


def _parse_or(toks: _Tokens) -> Any:
    parts = [_parse_and(toks)]
    while toks.peek_kw("OR"):
        toks.take()
        parts.append(_parse_and(toks))
    return parts[0] if len(parts) == 1 else ("or", parts)


def _parse_and(toks: _Tokens) -> Any:
    parts = [_parse_not(toks)]
    while toks.peek_kw("AND"):
        toks.take()
        parts.append(_parse_not(toks))
    return parts[0] if len(parts) == 1 else ("and", parts)


def _parse_not(toks: _Tokens) -> Any:
    if toks.peek_kw("NOT"):
        toks.take()
        return ("not", _parse_not(toks))
    if toks.peek() == ("punct", "("):
        toks.take()
        node = _parse_or(toks)
        toks.expect(")")
        return node
    fname = toks.name()
    if toks.peek_kw("NOT"):
        toks.take()
        toks.expect_kw("IN")
        return ("in", fname, True, _parse_list(toks))
    if toks.peek_kw("IN"):
        toks.take()
        return ("in", fname, False, _parse_list(toks))
    if toks.peek_kw("LIKE"):
        toks.take()
        return ("like", fname, _parse_literal(toks))
    kind, op = toks.take()
    if kind != "op":
        raise _malformed(f"unexpected token: '{op}'")
    return ("cmp", fname, "!=" if op == "<>" else op, _parse_literal(toks))


def _parse_list(toks: _Tokens) -> list[Literal]:
    toks.expect("(")
    items = [_parse_literal(toks)]
    while toks.peek() == ("punct", ","):
        toks.take()
        items.append(_parse_literal(toks))
    toks.expect(")")
    return items


def _parse_literal(toks: _Tokens) -> Literal:
    kind, text = toks.take()
    if kind == "str":
        body = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text[1:-1])
        return Literal("str", body)
    if kind == "num":
        return Literal("num", float(text))
    if kind == "date":
        return Literal("date", dt.date.fromisoformat(text))
    if kind == "dt":
        return Literal("datetime", _parse_datetime(text))
    if kind == "word":
        upper = text.upper()
        if upper in {"TRUE", "FALSE"}:
            return Literal("bool", upper == "TRUE")
        if upper == "NULL":
            return Literal("null", None)
        return Literal("dateliteral", _date_literal_range(upper))
    raise _malformed(f"unexpected token: '{text}'")


def _date_literal_range(word: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC for TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n, THIS_YEAR."""
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = dt.timedelta(days=1)
    name, _, num = word.partition(":")
    if name == "TODAY":
        return today, today + day
    if name == "YESTERDAY":
        return today - day, today
    if name == "TOMORROW":
        return today + day, today + 2 * day
    if name == "LAST_N_DAYS" and num.isdigit():
        return today - int(num) * day, today + day
    if name == "NEXT_N_DAYS" and num.isdigit():
        return today, today + (int(num) + 1) * day
    if name == "THIS_YEAR":
        start = today.replace(month=1, day=1)
        return start, start.replace(year=start.year + 1)
    raise _malformed(f"unexpected token: '{word}'")


def _sort_key(f: SField, raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        if f.type in _NUMERIC_TYPES:
            return float(raw)
        if f.type == "datetime":
            return _parse_datetime(raw)
        if f.type == "boolean":
            return raw == "true"
    except ValueError:
        pass
    return raw.casefold()


def _literal_key(f: SField, lit: Literal) -> Any:
    if lit.kind == "str":
        if f.type in _NUMERIC_TYPES:
            try:
                return float(lit.value)
            except ValueError:
                raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR",
                               f"value of filter criterion for field '{f.name}' must be of type {f.type}") from None
        if f.type == "boolean":
            return lit.value.lower() == "true"
        return lit.value.casefold()
    if lit.kind == "date":
        if f.type == "datetime":
            return dt.datetime.combine(lit.value, dt.time(), tzinfo=dt.UTC)
        return lit.value.isoformat()
    if lit.kind == "datetime":
        if f.type == "date":
            return lit.value.date().isoformat()
        return lit.value
    if lit.kind == "num" and f.type not in _NUMERIC_TYPES:
        text = repr(lit.value)
        return (text[:-2] if text.endswith(".0") else text).casefold()
    return lit.value


def _compare(op: str, left: Any, right: Any) -> bool:
    try:
        if op == "=":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
    except TypeError:
        return False
    raise _malformed(f"unknown operator {op}")


def _like(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.compile(out, re.IGNORECASE | re.DOTALL)


def compile_where(node: Any, sobj: SObject) -> Callable[[Row], bool]:
    """Turn a parsed WHERE tree into a predicate over stored rows (validating field names)."""
    kind = node[0]
    if kind in {"and", "or"}:
        parts = [compile_where(n, sobj) for n in node[1]]
        if kind == "and":
            return lambda row: all(p(row) for p in parts)
        return lambda row: any(p(row) for p in parts)
    if kind == "not":
        inner = compile_where(node[1], sobj)
        return lambda row: not inner(row)
    f = sobj.field(node[1])
    name = f.name
    if kind == "like":
        regex = _like(str(node[2].value))
        return lambda row: row.get(name) is not None and regex.fullmatch(row[name] or "") is not None
    if kind == "in":
        negate = node[2]
        keys = {_literal_key(f, lit) for lit in node[3] if lit.kind != "null"}
        has_null = any(lit.kind == "null" for lit in node[3])

        def in_list(row: Row) -> bool:
            raw = row.get(name)
            hit = has_null if raw is None else _sort_key(f, raw) in keys
            return hit != negate

        return in_list
    op, lit = node[2], node[3]
    if lit.kind == "null":
        if op not in {"=", "!="}:
            raise _malformed("null can only be compared with = or !=")
        want_null = op == "="
        return lambda row: (row.get(name) is None) == want_null
    if lit.kind == "dateliteral":
        start, end = lit.value

        def in_range(row: Row) -> bool:
            raw = row.get(name)
            if raw is None:
                return op == "!="
            try:
                moment = _parse_datetime(raw)
            except ValueError:
                return False
            inside = start <= moment < end
            return {"=": inside, "!=": not inside, "<": moment < start, "<=": moment < end,
                    ">": moment >= end, ">=": moment >= start}[op]

        return in_range
    right = _literal_key(f, lit)

    def compare(row: Row) -> bool:
        raw = row.get(name)
        if raw is None:
            return op == "!="  # SOQL: a null field is "not equal" to any value
        return _compare(op, _sort_key(f, raw), right)

    return compare

