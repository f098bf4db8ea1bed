"""Explanations: why two records do or do not match, as a waterfall of per-field weights (text and HTML).

The waterfall starts at the prior (how likely any two records are the same entity), adds
each field's evidence in bits (log2 of the likelihood ratio; missing fields add nothing),
applies the correlated-evidence adjustment, and ends at the match weight and probability.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmclean.matching.library import Comparison
from crmclean.matching.scoring import REFUTES_BELOW


@dataclass
class WaterfallStep:
    """One bar of the waterfall."""

    field: str
    level: str | None  # None: missing on one side (neutral)
    description: str
    left: str | None
    right: str | None
    weight: float
    cumulative: float
    left_original: str | None = None  # the value as typed in the source (left/right are the match keys)
    right_original: str | None = None


@dataclass
class Explanation:
    left_id: str
    right_id: str
    steps: list[WaterfallStep] = field(default_factory=list)
    prior_weight: float = 0.0
    match_weight: float = 0.0
    probability: float = 0.0
    decision: str = "no-match"
    names_swapped: bool = False
    calibrated: float | None = None  # how often a pair of this weight is really one record
    # the same for a pair the clustering leaves apart (APART): what the review reads of two lone records; when
    # either record's cluster holds others, a run's review reads the two clusters' odds (review.csv review_score)
    calibrated_apart: float | None = None
    # fields at a level one person's records practically never show (Level.refutes: two cities, two own mobiles ...)
    # while the pair is below even odds: as a cross pair of a cluster merge it refuses the merge (scoring.cross_weight)
    refutes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "left_id": self.left_id, "right_id": self.right_id, "prior_weight": round(self.prior_weight, 3),
            "match_weight": round(self.match_weight, 3), "probability": round(self.probability, 6),
            "calibrated_score": None if self.calibrated is None else round(self.calibrated, 6),
            "calibrated_apart": None if self.calibrated_apart is None else round(self.calibrated_apart, 6),
            "decision": self.decision, "names_swapped": self.names_swapped, "refutes_cluster_merge": self.refutes,
            "steps": [{"field": s.field, "level": s.level, "description": s.description, "left": s.left,
                       "right": s.right, "left_original": s.left_original, "right_original": s.right_original,
                       "weight": round(s.weight, 3), "cumulative": round(s.cumulative, 3)}
                      for s in self.steps],
        }

    def to_text(self, width: int = 24) -> str:
        """A terminal waterfall: one line per field, bar right for evidence for, left for against."""
        scale = max([abs(s.weight) for s in self.steps] + [1.0])
        lines = [f"Records {self.left_id} vs {self.right_id}"
                 + ("  (first/last names swapped on one side)" if self.names_swapped else "")]
        name_w = max(len(s.field) for s in self.steps) if self.steps else 10
        for s in self.steps:
            n = round(abs(s.weight) / scale * width)
            bar = ("+" * n).ljust(width) if s.weight >= 0 else ("-" * n).rjust(width)
            left_bar, right_bar = (" " * width, bar) if s.weight >= 0 else (bar, " " * width)
            level = s.level or "missing (neutral)"
            values = ""
            if s.left_original is not None or s.right_original is not None:
                values = f"  {s.left_original or '∅'} | {s.right_original or '∅'}"
                if (s.left, s.right) != (s.left_original, s.right_original) and (s.left or s.right):
                    values += f"  (keys: {s.left or '∅'} | {s.right or '∅'})"
            elif s.left is not None or s.right is not None:
                values = f"  {s.left or '∅'} | {s.right or '∅'}"
            lines.append(f"  {s.field.ljust(name_w)} {left_bar}|{right_bar} {s.weight:+7.2f}  {level}{values}")
        calibrated = "" if self.calibrated is None else f" (calibrated {self.calibrated:.4f})"
        lines.append(f"  {'= match weight'.ljust(name_w)} {self.match_weight:+.2f} bits  →  probability "
                     f"{self.probability:.4f}{calibrated}  →  {self.decision}")
        if self.calibrated_apart is not None:
            lines.append(f"  if the clustering leaves them apart, the review reads {self.calibrated_apart:.4f} (two "
                         "records on their own), or, when either one's cluster holds other records, the two clusters' "
                         "odds: every record pair across them counts (review.csv review_score)")
        if self.refutes:
            lines.append(f"  refutes a cluster merge: {', '.join(self.refutes)} at a level one person's records "
                         "practically never show, below even odds, so these two records are never joined through "
                         "other records")
        return "\n".join(lines)

    def to_html(self) -> str:
        """A self-contained HTML table with CSS bars (for the HTML report, one per cluster pair)."""
        scale = max([abs(s.weight) for s in self.steps] + [1.0])
        rows = []
        for s in self.steps:
            pct = abs(s.weight) / scale * 50
            color = "#2e7d32" if s.weight >= 0 else "#c62828"
            left = 50 if s.weight >= 0 else 50 - pct
            bar = (f'<div style="position:relative;height:12px;background:#f3f3f3">'
                   f'<div style="position:absolute;left:{left:.1f}%;width:{pct:.1f}%;height:12px;'
                   f'background:{color}"></div></div>')
            rows.append(
                f"<tr><td>{html.escape(s.field)}</td><td>{html.escape(s.level or 'missing')}</td>"
                f"<td>{html.escape(s.left_original or s.left or '')}</td>"
                f"<td>{html.escape(s.right_original or s.right or '')}</td>"
                f"<td style='text-align:right'>{s.weight:+.2f}</td><td style='width:200px'>{bar}</td></tr>"
            )
        return (
            f'<table class="waterfall"><caption>{html.escape(self.left_id)} vs {html.escape(self.right_id)}: '
            f"{self.probability:.3f} ({html.escape(self.decision)})</caption>"
            "<tr><th>field</th><th>level</th><th>left</th><th>right</th><th>bits</th><th></th></tr>"
            + "".join(rows) + "</table>"
        )


def explanation_from_row(
    row: Mapping[str, Any],
    comparisons: Sequence[Comparison],
    shown: Mapping[str, tuple[Any, Any]],
    left_id: str,
    right_id: str,
    prior_weight: float,
    *,
    match_threshold: float,
    review_threshold: float,
    original: Mapping[str, tuple[Any, Any]] | None = None,
    calibrated: float | None = None,
    review_on: str = "calibrated",
    calibrated_apart: float | None = None,
    refuting: Mapping[str, Sequence[int]] | None = None,
) -> Explanation:
    """Build the waterfall from one scored pair row (lvl__*, w__*, group_adjust, weight, probability).

    The decision: match at ``match_threshold`` of the model's probability; else review when the calibrated
    score (or with ``review_on="score"``, or no calibrated score given, the probability) reaches
    ``review_threshold``. ``calibrated_apart``: the pair's odds as a pair the clustering left apart, shown as what the
    review reads of two lone records (a run's review reads the two records' clusters when they hold others).
    ``refuting``: the levels that refute a cluster merge per comparison (``scoring.refuting_levels`` of the run's
    model; default: every level declared ``refutes``).
    """
    total = prior_weight
    if refuting is None:
        refuting = {c.name: [k for k, lv in enumerate(c.levels) if lv.refutes] for c in comparisons}
    refutes: list[str] = []
    steps = [WaterfallStep("prior", "base rate", "how likely any two records are one entity", None, None,
                           prior_weight, total)]
    for comp in comparisons:
        code = row.get(f"lvl__{comp.name}")
        w = float(row.get(f"w__{comp.name}") or 0.0)
        total += w
        if code is None:
            level, desc = None, "missing on one side: neutral"
        else:
            lv = comp.levels[int(code)]
            level, desc = lv.name, lv.description
            if int(code) in refuting.get(comp.name, ()):
                refutes.append(f"{comp.name} {lv.name}")
        left, right = shown.get(comp.name, (None, None))
        lo, ro = (original or {}).get(comp.name, (None, None))
        steps.append(WaterfallStep(comp.name, level, desc, _text(left), _text(right), w, total, _text(lo), _text(ro)))
    adj = float(row.get("group_adjust") or 0.0)
    if abs(adj) > 1e-9:
        total += adj
        steps.append(WaterfallStep("correlated", "adjustment",
                                   "company, INN, city, switchboard and name-based mailboxes counted once",
                                   None, None, adj, total))
    prob = float(row["probability"])
    review_value = prob if review_on == "score" or calibrated is None else calibrated
    decision = "match" if prob >= match_threshold else "review" if review_value >= review_threshold else "no-match"
    return Explanation(left_id, right_id, steps, prior_weight, float(row["weight"]), prob, decision,
                       bool(row.get("swapped")), calibrated, calibrated_apart if review_on != "score" else None,
                       refutes if float(row["weight"]) < REFUTES_BELOW else [])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
