"""Why F1 falls with the file's size (issue 13: F1 at 1M within 0.005 of F1 at 100k): where the true pairs go.

For each size (generated contacts, held-out seed 7 by default) dedupe runs zero-config and every true pair is
scored by the run's own model, whether blocking made it a candidate or not. Printed per size:

* recall split: found (one cluster), compared and scored below the match threshold, compared and scored above it
  but left apart by the clustering, never compared but would score above it (the only part blocking work can
  buy), never compared and would score below it;
* for the never-compared pairs, per blocking key whose base value they share, the refinement that split them
  apart (a blank or a different value) and how many would score above the threshold;
* pairwise F1 over the candidate pairs for decision rules up to ones that read the truth (best threshold, best
  decision per comparison-vector pattern, per pattern and 1-bit weight band, that plus every never-compared
  true pair added free): when even these fall with the size, the loss is in the evidence, not in blocking or
  the prior;
* per ambiguous pattern (>= 10 true and 5 false pairs at the first two sizes), the change in the truth's
  log-odds beside the change in the model's mean weight (the prior falls log2 of the size ratio).

    /work/venv/bin/python benchmarks/bench_dedupe_gap.py [--sizes 100000,300000] [--seed 7]

Prints only; the findings are written up by hand in benchmarks/results/dedupe.md (section "scale").
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from crmclean.matching import dedupe  # noqa: E402
from crmclean.matching.backends.polars.blocking import _key_frame  # noqa: E402
from crmclean.matching.engine import _blocking_keys  # noqa: E402
from crmclean.matching.features import IDX  # noqa: E402
from crmclean.table import finalize_table  # noqa: E402
from crmclean.testing.generate import generate_contacts  # noqa: E402


def _ceiling(frame: pl.DataFrame, by: list[pl.Expr | str], wanted: int) -> float:
    """Best pairwise F1 choosing match / no match per group by its true share (reads the truth)."""
    g = frame.group_by(by).agg(t=pl.col("truth").sum(), n=pl.len()).sort(pl.col("t") / pl.col("n"), descending=True)
    f1 = 2 * g.get_column("t").cum_sum() / (g.get_column("n").cum_sum() + wanted)
    return float(f1.max())  # type: ignore[arg-type]


def run(n: int, seed: int) -> tuple[dict[str, float], pl.DataFrame]:
    frame, truth = generate_contacts(n, seed=seed)
    table = finalize_table(frame, source="gap", kind="csv", id_column=None)
    result = dedupe(table)
    setup = result.setup
    assert setup is not None
    threshold = setup.settings.thresholds.match
    pos = pl.DataFrame({"record_id": setup.record_ids.cast(pl.String),
                        "pos": pl.int_range(0, setup.record_ids.len(), dtype=pl.UInt32, eager=True)})
    members = truth.select(pl.col("record_id").cast(pl.String), "entity_id").join(pos, on="record_id")
    true_lr = (members.join(members, on="entity_id", suffix="_r").filter(pl.col("pos") < pl.col("pos_r"))
               .select(pl.col("pos").alias("l"), pl.col("pos_r").alias("r")))
    wanted = true_lr.height
    cluster = pos.join(result.clusters.select(pl.col("record_id").cast(pl.String), "cluster_id"), on="record_id") \
        .sort("pos").get_column("cluster_id")
    keys = _blocking_keys(setup.object_type, setup.settings, setup.features)
    cand = setup.backend.block(setup.features, keys, max_block_size=setup.settings.max_block_size).pairs
    scored = setup.score(cand).join(true_lr.with_columns(truth=pl.lit(True)), on=["l", "r"], how="left") \
        .with_columns(pl.col("truth").fill_null(False))
    lv = [c for c in scored.columns if c.startswith("lvl__")]
    pattern = pl.concat_str([pl.col(c).cast(pl.String).fill_null("-") for c in lv], separator="").alias("pat")
    tp = true_lr.join(cand.with_columns(cand=pl.lit(True)), on=["l", "r"], how="left") \
        .with_columns(pl.col("cand").fill_null(False))
    tp = tp.with_columns(same=pl.Series(cluster.gather(tp["l"]).to_numpy() == cluster.gather(tp["r"]).to_numpy()))
    tp = tp.join(setup.score(tp.select("l", "r")), on=["l", "r"])
    high = pl.col("probability") >= threshold
    part = (pl.when(pl.col("same")).then(pl.lit("found"))
            .when(pl.col("cand") & ~high).then(pl.lit("compared, below the threshold"))
            .when(pl.col("cand")).then(pl.lit("compared, above it, left apart"))
            .when(high).then(pl.lit("never compared, would score above"))
            .otherwise(pl.lit("never compared, would score below")))
    print(f"\n{n:,} records, seed {seed}: {wanted:,} true pairs, {cand.height:,} candidate pairs")
    for name, count in tp.group_by(part.alias("part")).len().sort("part").iter_rows():
        print(f"  {name:<36} {count:>7,}  {count / wanted:.4%}")
    never = tp.filter(~pl.col("cand"))
    for key in keys:
        kf = _key_frame(setup.features, key)
        share = never.join(kf.rename({IDX: "l"}), on="l").join(kf.rename({IDX: "r"}), on=["r", "block"]) \
            .unique(["l", "r"])
        if not share.height:
            continue
        why: pl.Expr = pl.lit("every refinement agrees (windowed apart)")
        for col in reversed([c for c in key.refine if isinstance(c, str)]):
            v = setup.features.get_column(col).cast(pl.String).fill_null("")
            a, b = v.gather(share["l"]), v.gather(share["r"])
            share = share.with_columns(a.alias(f"a_{col}"), b.alias(f"b_{col}"))
            blank = (pl.col(f"a_{col}") == "") | (pl.col(f"b_{col}") == "")
            why = pl.when(pl.col(f"a_{col}") != pl.col(f"b_{col}")).then(
                pl.when(blank).then(pl.lit(f"{col} blank on one side")).otherwise(pl.lit(f"{col} differs"))
            ).otherwise(why)
        rows = share.group_by(why.alias("why")).agg(pl.len(), high.sum().alias("high")).sort("len", descending=True)
        print(f"  never compared, sharing key {key.name}: " + "; ".join(
            f"{w} {c} ({h} would score above)" for w, c, h in rows.iter_rows()))
    s = scored.with_columns(pattern, pl.col("weight").round(0).alias("band"))
    missing = never.with_columns(truth=pl.lit(True)).select(s.drop("pat", "band").columns) \
        .with_columns(pattern, pl.col("weight").round(0).alias("band"))
    order = s.sort("probability", descending=True)
    best = 2 * order.get_column("truth").cum_sum() / (pl.int_range(1, s.height + 1, eager=True) + wanted)
    at = s.filter(high)
    figures = {
        "model at the threshold": 2 * at.get_column("truth").sum() / (at.height + wanted),
        "model, best threshold (truth)": float(best.max()),  # type: ignore[arg-type]
        "best per pattern (truth)": _ceiling(s, ["pat"], wanted),
        "per pattern and weight band (truth)": _ceiling(s, ["pat", "band"], wanted),
        "same, never-compared true pairs added": _ceiling(pl.concat([s, missing], how="vertical_relaxed"),
                                                          ["pat", "band"], wanted),
    }
    for name, f1 in figures.items():
        print(f"  pairwise F1, {name:<40} {f1:.4f}")
    per_pattern = s.group_by("pat").agg(t=pl.col("truth").sum(), n=pl.len(), w=pl.col("weight").mean())
    return figures, per_pattern


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    runs = [run(n, args.seed) for n in sizes]
    if len(runs) >= 2:
        (f1a, pa), (f1b, pb) = runs[0], runs[1]
        print(f"\n{sizes[0]:,} -> {sizes[1]:,}: pairwise F1 change")
        for name in f1a:
            print(f"  {name:<50} {f1b[name] - f1a[name]:+.4f}")
        j = pa.join(pb, on="pat", suffix="_b").filter(
            (pl.col("t") >= 10) & (pl.col("n") - pl.col("t") >= 5) & (pl.col("t_b") >= 10)
            & (pl.col("n_b") - pl.col("t_b") >= 5))
        if j.height:
            odds = lambda t, m: (pl.col(t) / (pl.col(m) - pl.col(t))).log(2)  # noqa: E731
            j = j.with_columns(truth=odds("t_b", "n_b") - odds("t", "n"), model=pl.col("w_b") - pl.col("w"))
            wt = j.get_column("t_b")
            print(f"  {j.height} ambiguous patterns ({int(wt.sum()):,} true pairs at {sizes[1]:,}): log2-odds of the "
                  f"truth {float((j['truth'] * wt).sum() / wt.sum()):+.2f} bits, model's mean weight "
                  f"{float((j['model'] * wt).sum() / wt.sum()):+.2f} bits, prior "
                  f"{-math.log2(sizes[1] / sizes[0]):+.2f} bits")


if __name__ == "__main__":
    main()
