"""Fellegi–Sunter weights in polars: log2(m/u) per level (tf-adjusted), correlated groups, probability."""

from __future__ import annotations

import math

import polars as pl

from crmclean.matching.scoring import GROUP_EXTRA, MAX_WEIGHT, MatchModel, _clamp, disagreements, fixed_sum

VETO_WEIGHT = 40.0  # evidence of a vetoed pair is at most -VETO_WEIGHT bits: below every threshold and cross check


def weigh_levels(levels: pl.DataFrame, model: MatchModel) -> pl.DataFrame:
    """Add w__<c> per comparison, the correlated-group adjustment, total weight and probability."""
    exprs: list[pl.Expr] = []
    group_members: dict[str, list[tuple[str, set[int]]]] = {}
    for comp in model.comparisons:
        lvl = pl.col(f"lvl__{comp.name}")
        tfu = pl.col(f"tfu__{comp.name}")
        expr: pl.Expr = pl.lit(0.0)
        for k in range(len(comp.levels) - 1, -1, -1):
            p = model.params[comp.name][k]
            fixed = _clamp(math.log2(max(p.m, 1e-9) / max(p.u, 1e-12)))
            if comp.levels[k].tf:
                # u from the agreed value's (smoothed, leave-one-out) frequency
                weight = pl.when(tfu.is_not_null()).then(
                    (pl.lit(max(p.m, 1e-9)) / pl.max_horizontal(tfu, pl.lit(1e-9))).log(2).clip(-MAX_WEIGHT,
                                                                                             MAX_WEIGHT)
                ).otherwise(pl.lit(fixed))
            else:
                weight = pl.lit(fixed)
            if comp.levels[k].neutral:
                weight = pl.lit(0.0)
            expr = pl.when(lvl == k).then(weight).otherwise(expr)
        expr = pl.when(lvl.is_null()).then(pl.lit(0.0)).otherwise(expr)
        if comp.max_weight is not None:
            expr = expr.clip(upper_bound=comp.max_weight)
        exprs.append(expr.alias(f"w__{comp.name}"))
        for k, lv in enumerate(comp.levels):
            if lv.group:
                members = group_members.setdefault(lv.group, [])
                found = next((m for m in members if m[0] == comp.name), None)
                if found is None:
                    members.append((comp.name, {k}))
                else:
                    found[1].add(k)
    frame = levels.with_columns(exprs)
    adjust: pl.Expr = pl.lit(0.0)
    # a level that holds only for two records of one group's kind (two mailboxes at one company domain: two
    # colleagues) explains that group's agreement: it is no evidence of one entity for such a pair
    explainers: dict[str, list[pl.Expr]] = {}
    for comp in model.comparisons:
        for k, lv in enumerate(comp.levels):
            if lv.explains:
                explainers.setdefault(lv.explains, []).append(pl.col(f"lvl__{comp.name}") == k)
    for group, members in group_members.items():
        if len(members) < 2 and group not in explainers:
            continue
        positives = [
            pl.when(pl.col(f"lvl__{name}").is_in(sorted(ks)) & (pl.col(f"w__{name}") > 0))
            .then(pl.col(f"w__{name}")).otherwise(0.0)
            for name, ks in members
        ]
        total = fixed_sum(positives)
        biggest = pl.max_horizontal(positives)
        # keep the strongest organization signal and a fraction of the rest
        adjust = adjust - (1 - GROUP_EXTRA) * (total - biggest)
        if group in explainers:
            explained = pl.any_horizontal(explainers[group]).fill_null(False)
            adjust = adjust - pl.when(explained).then(biggest + GROUP_EXTRA * (total - biggest)).otherwise(0.0)
    names_present = {c.name for c in model.comparisons}
    for comp in model.comparisons:
        for k, lv in enumerate(comp.levels):
            subsumers = [n for n in lv.subsumed_by if n in names_present]
            if not subsumers:
                continue
            w = pl.col(f"w__{comp.name}")
            explained = fixed_sum([pl.col(f"w__{n}").clip(lower_bound=0) for n in subsumers])
            kept = pl.max_horizontal(w * GROUP_EXTRA, w - explained)
            adjust = adjust + pl.when((pl.col(f"lvl__{comp.name}") == k) & (w > 0)).then(kept - w).otherwise(0.0)
    # veto levels (a branch of one legal entity, an organization vs a sole trader): never merged
    vetoes = [pl.col(f"lvl__{c.name}") == k for c in model.comparisons for k, lv in enumerate(c.levels) if lv.veto]
    vetoed = pl.any_horizontal(vetoes).fill_null(False) if vetoes else pl.lit(False)
    reviews = [pl.col(f"lvl__{c.name}") == k for c in model.comparisons for k, lv in enumerate(c.levels)
               if lv.review_only]
    review_only = pl.any_horizontal(reviews).fill_null(False) if reviews else pl.lit(False)
    weight_cols = [pl.col(f"w__{c.name}") for c in model.comparisons]
    frame = frame.with_columns(adjust.alias("group_adjust"))
    if model.disagreement_weights:  # a person file: how many fields disagree (scoring.fit_disagreements)
        bits = model.disagreement_weights
        count = disagreements(model).clip(upper_bound=len(bits) - 1)
        weight_cols.append(pl.col("disagreement_adjust"))
        frame = frame.with_columns(
            count.replace_strict(list(range(len(bits))), bits, return_dtype=pl.Float64).alias("disagreement_adjust"))
    # a pair is corroborated when a field other than names (and weak ones) speaks for it
    corroborating = [pl.col(f"w__{c.name}") >= 1.0 for c in model.comparisons if c.corroborates]
    frame = frame.with_columns(
        (pl.any_horizontal(corroborating) if corroborating else pl.lit(False)).alias("corroborated"))
    frame = frame.with_columns(vetoed.alias("vetoed"), review_only.alias("review_only")).with_columns(
        pl.when(pl.col("vetoed")).then(pl.min_horizontal(fixed_sum(weight_cols) + pl.col("group_adjust"),
                                                         pl.lit(-VETO_WEIGHT)))
        .otherwise(fixed_sum(weight_cols) + pl.col("group_adjust")).alias("evidence"),
    ).with_columns(
        (pl.col("evidence") + model.prior_weight).alias("weight"),
    ).with_columns(
        (1.0 / (1.0 + pl.lit(2.0).pow(-pl.col("weight").clip(-60, 60)))).alias("probability"),
    )
    return frame
