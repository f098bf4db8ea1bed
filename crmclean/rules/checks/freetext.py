"""Free-text check: a column typed by hand where a picklist belongs (Москва / москва / г. Москва / Moscow)."""

from __future__ import annotations

import re
from collections import defaultdict

from pydantic import Field

from crmclean._lazy import fuzz, process
from crmclean._lazy import polars as pl
from crmclean.fields.country import country_code
from crmclean.rules.base import Example, RuleResult, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    CheckOptions,
    empty_mask,
    findings_where,
    resolve_columns,
    severity_of,
)

DEFAULT_FREE_TEXT = ["city", "country", "region", "industry", "lead_source", "status", "deal_stage"]

_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
     "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"],
    strict=True,
))
# English exonyms and nicknames that transliteration cannot bring together
_ALIASES = {
    "moscow": "moskva", "msk": "moskva", "mosсow": "moskva",
    "saintpetersburg": "sanktpeterburg", "stpetersburg": "sanktpeterburg", "spb": "sanktpeterburg",
    "piter": "sanktpeterburg", "peterburg": "sanktpeterburg", "leningrad": "sanktpeterburg",
    "stpeterburg": "sanktpeterburg", "sanktpetersburg": "sanktpeterburg",
    "yekaterinburg": "ekaterinburg", "ekb": "ekaterinburg", "nizhnynovgorod": "nizhnijnovgorod",
    "nnovgorod": "nizhnijnovgorod", "rostovondon": "rostovnadonu", "rostov": "rostovnadonu",
    "kiev": "kiev", "kyiv": "kiev", "minsk": "minsk", "almaty": "almaty", "alma-ata": "almaty",
}
_PREFIX = re.compile(r"^(г\.?|гор\.?|город|city of|c\.|пос\.?|посёлок|поселок|пгт\.?|дер\.?|д\.|с\.)\s*", re.I)


def fingerprint(text: str, column_role: str | None = None) -> str:
    """OpenRefine-style key: case, punctuation, 'г.' prefixes, script (Cyrillic/Latin) and exonyms ignored."""
    if column_role == "country":
        code = country_code(text)
        if code:
            return "country:" + code
    t = text.strip().lower().replace("ё", "е")
    t = _PREFIX.sub("", t)
    t = "".join(_TRANSLIT.get(ch, ch) for ch in t)
    t = re.sub(r"[^a-z0-9]+", "", t)
    return _ALIASES.get(t, t)


def word_count(text: str) -> int:
    """Words of a value, its 'г.' prefix aside ('Ростов-на-Дону' 3, 'г. Москва' 1)."""
    return len(re.findall(r"[^\W_]+", _PREFIX.sub("", text.strip().lower())))


class FreeTextOptions(CheckOptions):
    min_share: float = Field(
        0.0, ge=0, le=1, description="Report a group only when its variants cover at least this share of the column."
    )
    fuzzy_threshold: int = Field(
        90, ge=50, le=100, description="Similarity (0–100) at which two spellings count as one value (typos)."
    )


@register
class FreeTextShouldBePicklist(BaseCheck):
    """A value is one of several spellings of the same thing: the column should be a picklist.

    **What it does.** In city, country, region, industry, lead source, status and deal stage
    columns (or those under ``validate.free_text``) groups values that differ only by case,
    punctuation, a "г." prefix, script (Москва/Moskva), an English exonym (Moscow) or a small
    typo; every record not using the group's most common spelling is flagged, with that
    spelling as the hint and the variants counted.

    **Why.** Reports and segments split one city into five; the cure is a picklist at entry.
    """

    code = "FREETEXT001"
    name = "hygiene.free_text"
    summary = "A value is one of several spellings of the same thing; the column should be a picklist."
    severity = "info"
    kpi = "free_text"
    Options = FreeTextOptions
    examples = (
        Example("Город: 'москва', 'г. Москва', 'Moscow' next to 'Москва'", "flagged; hint: use 'Москва'"),
        Example("Lead Source: 'web', 'Web ', 'WEB' next to 'Web'", "flagged; hint: use 'Web'"),
    )

    def _columns(self, ctx: CheckContext) -> list[tuple[str, str | None]]:
        specs = ctx.validate.free_text if ctx.validate.free_text is not None else DEFAULT_FREE_TEXT
        out: list[tuple[str, str | None]] = []
        for spec in specs:
            role = spec if spec in ctx.roles else None
            for column in resolve_columns(ctx, spec):
                out.append((column, role))
        return out

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        opts = self.options
        for column, role in self._columns(ctx):
            values = ctx.frame.get_column(column)
            stripped = values.str.strip_chars().set(empty_mask(ctx, values), None)
            counts = stripped.drop_nulls().value_counts(sort=True, name="n")
            if counts.height < 2:
                continue
            raw = counts.get_column(stripped.name).to_list()
            n = counts.get_column("n").to_list()
            keys = [fingerprint(v, role) for v in raw]
            keys = self._merge_typos(keys, n, getattr(opts, "fuzzy_threshold", 90), [word_count(v) for v in raw])
            groups: dict[str, list[int]] = defaultdict(list)
            for i, k in enumerate(keys):
                groups[k].append(i)  # value_counts is sorted, so the first index is the most common spelling
            total = sum(n)
            canonical: dict[str, str] = {}
            hint: dict[str, str] = {}
            for members in groups.values():
                if len(members) < 2 or not keys[members[0]]:
                    continue
                share = sum(n[i] for i in members) / total
                if share < getattr(opts, "min_share", 0.0):
                    continue
                best = raw[members[0]]
                listed = ", ".join(f"{raw[i]} ×{n[i]}" for i in members[:6]) + (" …" if len(members) > 6 else "")
                for i in members[1:]:
                    canonical[raw[i]] = best
                    hint[raw[i]] = f"use {best!r} ({len(members)} spellings: {listed}); make {column} a picklist"
            if not canonical:
                continue
            lookup = pl.DataFrame({"v": list(canonical), "best": list(canonical.values()), "hint": list(hint.values())})
            joined = pl.DataFrame({"v": stripped}).join(lookup, on="v", how="left", maintain_order="left")
            mask = joined.get_column("best").is_not_null()
            message = pl.select(pl.format("one of several spellings of {}", pl.lit(joined.get_column("best")))
                                ).to_series()
            parts.append(findings_where(mask, column, values, message, joined.get_column("hint"), severity_of(self)))
        return RuleResult(findings=pl.concat(parts) if parts else None)

    @staticmethod
    def _merge_typos(keys: list[str], counts: list[int], threshold: int, words: list[int]) -> list[str]:
        """Map rare keys onto a frequent key one typo away (Новосибриск → Новосибирск).

        A typo changes letters, not words: two keys are merged only when spellings of both have as many words
        ('Closed - Not Converted' is no typo of 'Closed - Converted', Salesforce's lead statuses; 'Не
        интересно' none of 'Интересно').
        """
        weight: dict[str, int] = defaultdict(int)
        lengths: dict[str, set[int]] = defaultdict(set)
        for k, c, w in zip(keys, counts, words, strict=True):
            weight[k] += c
            lengths[k].add(w)
        ranked = sorted(weight, key=lambda k: -weight[k])
        anchors = [k for k in ranked[:2000] if len(k) >= 5]
        if len(anchors) < 2:
            return keys
        rank = {k: i for i, k in enumerate(ranked)}
        remap: dict[str, str] = {}
        for k in ranked:
            if len(k) < 5 or k.startswith("country:"):
                continue
            hits = process.extract(k, anchors, scorer=fuzz.ratio, score_cutoff=threshold, limit=3)
            for anchor, _, _ in hits:
                # the more frequent spelling (on a tie, the one seen first) absorbs the other
                if anchor != k and rank[anchor] < rank[k] and anchor[0] == k[0] and lengths[anchor] & lengths[k]:
                    remap[k] = remap.get(anchor, anchor)
                    break
        return [remap.get(k, k) for k in keys]
