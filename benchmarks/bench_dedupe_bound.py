"""How far can any decision on dedupe's comparisons go? An out-of-sample bound for contacts F1 (issue 13).

A decision per cell of comparisons, fitted on some tuning seeds and tested on others: cells are (a) the level
pattern of every comparison, (b) the pattern and the name frequency (`nb` of `--patterns`: the first and last
name's mean match weight, rounded), (c) the pattern and the match weight in 1-bit bands. A cell is merged when its
true rate on the fit seeds reaches t, t chosen on the fit seeds for the best F1 at precision >= 0.995 (and, as a
ceiling, the best F1 at any precision); a cell the fit seeds never saw keeps the model's own decision (score >= the
match threshold, corroborated). True pairs the blocking never compared are misses for every decision. Five folds
over the ten tuning seeds (fit on 8, test on 2); pairwise scores, and the same decisions clustered by connected
components. Beside them dedupe's own pairwise decision and its clusters, on the same seeds.

Each seed's pair table (bench_dedupe_accuracy.contact_pairs) is cached as parquet, so re-analysis is cheap:

    /work/venv/bin/python benchmarks/bench_dedupe_bound.py [--size 20000] [--cache DIR] [--fresh] [--write]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dedupe_accuracy import RESULTS, contact_pairs, write_section

TUNING = (3, 4, 5, 6, 8, 9, 10, 11, 12, 13)
HELD_OUT = {7, 101, 202, 303, 404, 505}  # never read here
MIN_PRECISION = 0.995
ALPHAS = (0.0, 1.0, 3.0, 10.0)  # pseudo-pairs voting as the model (cross-fitted fits pick one)
META = ("left", "right", "nb", "weight", "cand", "own", "true", "pred", "seed")


def load(n: int, seeds: Sequence[int], cache: Path, fresh: bool) -> pl.DataFrame:
    """The pair tables of `seeds`, one dedupe run at a time (each cached as parquet)."""
    cache.mkdir(parents=True, exist_ok=True)
    frames = []
    for seed in seeds:
        path = cache / f"contacts-{n}-seed{seed}.parquet"
        if fresh or not path.exists():
            t0 = time.perf_counter()
            contact_pairs(n, seed).write_parquet(path)
            print(f"seed {seed}: pair table in {time.perf_counter() - t0:.1f} s -> {path}", flush=True)
        frames.append(pl.read_parquet(path))
    return pl.concat(frames, how="vertical_relaxed")


def scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def counts(rows: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Each cell's true (T) and other (F) candidate pairs in `rows`."""
    return rows.filter(pl.col("cand")).group_by(key).agg(
        pl.col("true").sum().alias("T"), (~pl.col("true")).sum().alias("F"))


def cell_scores(rows: pl.DataFrame, cells: pl.DataFrame, key: list[str], alpha: float) -> pl.DataFrame:
    """The candidate pairs of `rows` with `s`, their cell's true rate in `cells` with `alpha` pseudo-pairs that vote
    as the model decided the pair (alpha 0: the plain rate; a cell `cells` never saw: the model's decision, 0 or 1),
    and `n`, the cell's pairs in `cells`."""
    out = rows.filter(pl.col("cand")).join(cells, on=key, how="left", nulls_equal=True, maintain_order="left")
    n = (pl.col("T") + pl.col("F")).fill_null(0).cast(pl.Float64)
    own = pl.col("own").cast(pl.Float64)
    return out.with_columns(n.alias("n"), pl.when(n + alpha > 0).then((pl.col("T").fill_null(0) + alpha * own)
                                                                       / (n + alpha)).otherwise(own).alias("s"))


def thresholds(scored: pl.DataFrame, positives: int) -> tuple[float, float, float, float]:
    """The thresholds on `s` (merge iff s >= t) with the best F1 at precision >= MIN_PRECISION and at any precision,
    and those F1 (every true pair counts, compared or not: `positives`)."""
    steps = scored.group_by("s").agg(pl.col("true").sum().alias("T"), (~pl.col("true")).sum().alias("F")).sort(
        "s", descending=True)
    tp = steps.get_column("T").cum_sum().to_numpy().astype(float)
    fp = steps.get_column("F").cum_sum().to_numpy().astype(float)
    p = tp / np.maximum(tp + fp, 1)
    r = tp / max(positives, 1)
    f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    rates = steps.get_column("s").to_numpy()
    ok = np.flatnonzero(p >= MIN_PRECISION)
    i_p = int(ok[int(np.argmax(f1[ok]))]) if ok.size else -1
    i_any = int(np.argmax(f1))
    return (float(rates[i_p]) if i_p >= 0 else float("inf"), float(f1[i_p]) if i_p >= 0 else 0.0,
            float(rates[i_any]), float(f1[i_any]))


def cross_fitted(rows: pl.DataFrame, key: list[str], alpha: float) -> pl.DataFrame:
    """Every candidate pair of `rows` scored by the cells of the other seeds only (inner folds of two seeds)."""
    seeds = sorted(rows.get_column("seed").unique().to_list())
    parts = []
    for i in range(0, len(seeds), 2):
        inner = seeds[i:i + 2]
        parts.append(cell_scores(rows.filter(pl.col("seed").is_in(inner)),
                                 counts(rows.filter(~pl.col("seed").is_in(inner)), key), key, alpha))
    return pl.concat(parts)


def fit(rows: pl.DataFrame, key: list[str], *, honest: bool, components_too: bool = True
        ) -> tuple[pl.DataFrame, float, float, float, float, tuple[float, bool]]:
    """The cells of the fit seeds `rows`, and alpha and the thresholds for precision >= MIN_PRECISION and for any
    precision. honest=False (the plain fit): alpha 0, t chosen on the fit seeds' own cell rates (in sample, so
    small cells look pure); honest=True: alpha and t chosen on cross-fitted scores (each fit seed's pairs scored by
    the other fit seeds' cells), so t is set for rates read out of sample. Last, the threshold for the best F1 of
    the connected components at precision >= MIN_PRECISION (at the first alpha), and whether it reached it."""
    positives = int(rows.get_column("true").sum())
    cells = counts(rows, key)
    if not honest:
        scored = cell_scores(rows, cells, key, 0.0)
        t_p, _, t_any, _ = thresholds(scored, positives)
        return cells, 0.0, t_p, 0.0, t_any, (component_threshold(rows, scored) if components_too else (0.0, False))
    best_p = best_any = (-1.0, 0.0, 0.0)
    for alpha in ALPHAS:
        t_p, f1_p, t_any, f1_any = thresholds(cross_fitted(rows, key, alpha), positives)
        best_p = max(best_p, (f1_p, alpha, t_p))
        best_any = max(best_any, (f1_any, alpha, t_any))
    return cells, best_p[1], best_p[2], best_any[1], best_any[2], (
        component_threshold(rows, cross_fitted(rows, key, best_p[1])) if components_too else (0.0, False))


def decide(rows: pl.DataFrame, cells: pl.DataFrame, key: list[str], alpha: float, t: float) -> pl.DataFrame:
    """The candidate pairs of `rows` with `merge` (s >= t) and `seen` (the cell has fit pairs)."""
    return cell_scores(rows, cells, key, alpha).with_columns((pl.col("s") >= t).alias("merge"),
                                                             (pl.col("n") > 0).alias("seen"))


def with_index(d: pl.DataFrame) -> pl.DataFrame:
    """li / ri: each pair's records as small integers within its seed (for the connected components)."""
    ids = pl.concat([d.select("seed", pl.col("left").alias("id")), d.select("seed", pl.col("right").alias("id"))])
    ids = ids.unique().sort("seed", "id").with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("seed").alias("i"))
    return (d.join(ids.rename({"id": "left", "i": "li"}), on=["seed", "left"], how="left", maintain_order="left")
            .join(ids.rename({"id": "right", "i": "ri"}), on=["seed", "right"], how="left", maintain_order="left"))


def components(rows: pl.DataFrame, edges: pl.DataFrame) -> tuple[int, int, int]:
    """Pairwise tp / fp / fn of the connected components of `edges` (merged pairs of one seed; `rows`: that seed's
    pairs, every true pair among them, compared or not)."""
    n = int(rows.select(pl.max_horizontal(pl.col("li").max(), pl.col("ri").max())).item()) + 1
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(edges.get_column("li").to_list(), edges.get_column("ri").to_list(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    label = np.fromiter((root(i) for i in range(n)), dtype=np.int64, count=n)
    size = np.bincount(label, minlength=n)
    predicted = int((size * (size - 1) // 2).sum())
    truth = rows.filter(pl.col("true"))
    tp = int((label[truth.get_column("li").to_numpy()] == label[truth.get_column("ri").to_numpy()]).sum())
    return tp, predicted - tp, truth.height - tp


def component_threshold(rows: pl.DataFrame, scored: pl.DataFrame) -> tuple[float, bool]:
    """The threshold on `s` whose connected components over the seeds of `rows` (pooled) have the best F1 at
    precision >= MIN_PRECISION (a grid of 0.025), and whether one reached it (if none: the most precise one)."""
    best, sharpest = (0.0, float("inf")), (0.0, 0.0, 1.0)
    seeds = rows.partition_by("seed", as_dict=True)
    by_seed = scored.partition_by("seed", as_dict=True)
    for t in np.round(np.arange(0.3, 1.0001, 0.025), 3):
        tp = fp = fn = 0
        for seed, own in seeds.items():
            a, b, c = components(own, by_seed[seed].filter(pl.col("s") >= t))
            tp, fp, fn = tp + a, fp + b, fn + c
        p, _, f1 = scores(tp, fp, fn)
        if p >= MIN_PRECISION and f1 > best[0]:
            best = (f1, float(t))
        sharpest = max(sharpest, (p, f1, float(t)))
    return (best[1], True) if best[1] < float("inf") else (sharpest[2], False)


def evaluate(rows: pl.DataFrame, cand: pl.DataFrame) -> dict[str, float]:
    """One test seed: pairwise and connected-component scores of a decision on its candidate pairs `cand` (a
    boolean `merge`, and `seen` when the decision is fitted)."""
    positives = int(rows.get_column("true").sum())
    m = cand.get_column("merge")
    t = cand.get_column("true")
    tp, fp = int((m & t).sum()), int((m & ~t).sum())
    out: dict[str, float] = dict(zip(("P", "R", "F1"), scores(tp, fp, positives - tp), strict=True))
    out |= {"fp": fp, "fn": positives - tp, "blocked": positives - int(t.sum())}
    if "seen" in cand.columns:
        unseen = ~cand.get_column("seen")
        out |= {"unseen_fp": int((m & ~t & unseen).sum()), "unseen_fn": int((~m & t & unseen).sum()),
                "unseen_pairs": int(unseen.sum())}
    # true pairs never compared can still fall in one component
    ctp, cfp, cfn = components(rows, cand.filter(pl.col("merge")))
    out |= dict(zip(("cP", "cR", "cF1"), scores(ctp, cfp, cfn), strict=True))
    return out


def losses(decided: dict[str, list[pl.DataFrame]], blocked: dict[str, int], labels: list[str]) -> str:
    """Where the out-of-sample errors of `labels` are: by how many fit pairs the cell held."""
    names = ["0 (unseen: the model decides)", "1–9", "10–99", "100+"]
    band = (pl.when(pl.col("n") == 0).then(0).when(pl.col("n") < 10).then(1).when(pl.col("n") < 100).then(2)
            .otherwise(3).alias("band"))
    out = ["| decision | fit pairs in the cell | test pairs (true) | false | missed |", "|---|---|---:|---:|---:|"]
    for label in labels:
        g = pl.concat([c.select("n", "true", "merge") for c in decided[label]]).group_by(band).agg(
            pl.len().alias("pairs"), pl.col("true").sum().alias("T"),
            (pl.col("merge") & ~pl.col("true")).sum().alias("fp"),
            (~pl.col("merge") & pl.col("true")).sum().alias("fn")).sort("band")
        for r in g.iter_rows(named=True):
            out.append(f"| {label} | {names[r['band']]} | {r['pairs']:,} ({r['T']:,}) | {r['fp']} | "
                       f"{r['fn']} |")
        out.append(f"| {label} | never compared (blocking) | | | {blocked[label]} |")
    return "\n".join(out)


def worst_cells(decided: list[pl.DataFrame], fields: list[str], top: int = 12) -> str:
    """The level patterns with the most out-of-sample errors of one decision."""
    g = pl.concat([c.select(*fields, "true", "merge") for c in decided]).group_by(fields).agg(
        pl.col("true").sum().alias("T"), (~pl.col("true")).sum().alias("F"),
        (pl.col("merge") & ~pl.col("true")).sum().alias("fp"), (~pl.col("merge") & pl.col("true")).sum().alias("fn"))
    g = g.with_columns((pl.col("fp") + pl.col("fn")).alias("err")).sort(["err", *fields],
                                                                         descending=[True] + [False] * len(fields))
    out = ["| " + ", ".join(fields) + " | true / other pairs | false | missed |", "|---|---:|---:|---:|"]
    out += [f"| {', '.join(str(r[f]) for f in fields)} | {r['T']} / {r['F']} | {r['fp']} | {r['fn']} |"
            for r in g.head(top).iter_rows(named=True)]
    return "\n".join(out)


def learning_curve(d: pl.DataFrame, keys: dict[str, list[str]], folds: list[list[int]]) -> str:
    """Out-of-sample scores (cross-fitted, t for pairs at P >= MIN_PRECISION) as the fit grows from 2 to 8 seeds:
    a curve still rising at 8 says more data would lift the decision toward its in-sample figure."""
    sizes = (4, 6, 8)
    out = ["| decision | " + " | ".join(f"fit on {k} seeds: pairs P / F1, components F1" for k in sizes) + " |",
           "|---|" + "---|" * len(sizes)]
    for name, key in keys.items():
        cells_out = []
        for k in sizes:
            got: list[dict[str, float]] = []
            for test in folds:
                train_seeds = [s for f in folds if f != test for s in f][:k]
                cells, a_p, t_p, _, _, _ = fit(d.filter(pl.col("seed").is_in(train_seeds)), key, honest=True,
                                               components_too=False)
                got += [evaluate(d.filter(pl.col("seed") == s), decide(d.filter(pl.col("seed") == s), cells, key,
                                                                        a_p, t_p)) for s in test]
            cells_out.append(" / ".join(f"{sum(r[m] for r in got) / len(got):.4f}" for m in ("P", "F1")) + ", "
                             + f"{sum(r['cF1'] for r in got) / len(got):.4f}")
        out.append(f"| {name} | " + " | ".join(cells_out) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--seeds", default=",".join(map(str, TUNING)), help="tuning seeds, an even number")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "crmclean-bound",
                        help="where the per-seed pair tables are kept")
    parser.add_argument("--fresh", action="store_true", help="recompute the pair tables (after a code change)")
    parser.add_argument("--write", action="store_true", help="write the section `bound` of dedupe.md")
    parser.add_argument("--curve", action="store_true", help="also the learning curve: fit on 4, 6 and 8 seeds")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if HELD_OUT & set(seeds):
        sys.exit(f"error: held-out seeds {sorted(HELD_OUT & set(seeds))} are never read here")
    if len(seeds) % 2 or len(seeds) < 4:
        sys.exit("error: --seeds needs an even number (at least 4) of tuning seeds")
    t0 = time.perf_counter()
    d = load(args.size, seeds, args.cache, args.fresh)
    fields = [c for c in d.columns if c not in META]
    d = with_index(d.with_columns(pl.col("weight").floor().alias("wb")))
    keys = {"(0) the model: weight band × its decision": ["wb", "own"], "(a) pattern": fields, "(b) pattern × name frequency": [*fields, "nb"],
            "(c) pattern × weight band": [*fields, "wb"]}
    folds = [seeds[i:i + 2] for i in range(0, len(seeds), 2)]
    by_seed = {s: d.filter(pl.col("seed") == s) for s in seeds}

    results: dict[str, dict[int, dict[str, float]]] = {}
    results["dedupe: own pairwise decision"] = {
        s: evaluate(by_seed[s], by_seed[s].filter(pl.col("cand")).with_columns(pl.col("own").alias("merge")))
        for s in seeds}
    clustered = {}
    for s in seeds:
        r = by_seed[s]
        tp = int((r["pred"] & r["true"]).sum())
        clustered[s] = dict(zip(("P", "R", "F1"), scores(tp, int((r["pred"] & ~r["true"]).sum()),
                                                         int((~r["pred"] & r["true"]).sum())), strict=True))
    fitted: dict[str, list[str]] = {}  # per decision, the alpha and threshold of each fold
    decided: dict[str, list[pl.DataFrame]] = {}  # per decision, the test seeds' decided candidate pairs
    pairs_p, pairs_any, comps_p = "t for pairs at P ≥ 0.995", "t for pairs, any P", "t for components at P ≥ 0.995"
    for name, key in keys.items():
        for honest, how in ((False, "plain fit"), (True, "cross-fitted")):
            chosen = (pairs_p, pairs_any) if not honest else (pairs_p, pairs_any, comps_p)
            for which in chosen:
                label = f"{name}: {how}, {which}"
                results[label], fitted[label], decided[label] = {}, [], []
            for test in folds:
                cells, a_p, t_p, a_any, t_any, (t_c, reached) = fit(
                    d.filter(~pl.col("seed").is_in(test)), key, honest=honest, components_too=honest)
                for which, alpha, t in ((pairs_p, a_p, t_p), (pairs_any, a_any, t_any), (comps_p, a_p, t_c)):
                    label = f"{name}: {how}, {which}"
                    if which not in chosen:
                        continue
                    mark = "" if which != comps_p or reached else "*"
                    fitted[label].append(f"{alpha:g}/{t:.3f}{mark}" if honest else f"{t:.3f}")
                    for s in test:
                        cand = decide(by_seed[s], cells, key, alpha, t)
                        results[label][s] = evaluate(by_seed[s], cand)
                        decided[label].append(cand)
        # in sample, for contrast: fitted on all ten seeds (plain), tested on the same
        cells, _, t_p, _, _, (t_c, reached) = fit(d, key, honest=False)
        for which, t in ((pairs_p, t_p), (comps_p, t_c)):
            results[f"{name}: in sample, {which}"] = {
                s: evaluate(by_seed[s], decide(by_seed[s], cells, key, 0.0, t)) for s in seeds}
            fitted[f"{name}: in sample, {which}"] = [f"{t:.3f}" + ("" if which != comps_p or reached else "*")]
        print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)

    def mean(rs: dict[int, dict[str, float]], k: str) -> float:
        return sum(r[k] for r in rs.values()) / len(rs)

    def hits(rs: dict[int, dict[str, float]], p: str, f: str) -> int:
        return sum(r[p] >= MIN_PRECISION and r[f] >= 0.99 for r in rs.values())

    lines = ["| decision | pairs: P | R | F1 | components: P | R | F1 | components F1 min–max | seeds at P ≥ 0.995 "
             "and F1 ≥ 0.99 (pairs / components) | pairs false / missed (never compared; in unseen cells) |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|---|"]
    cf1 = [r["F1"] for r in clustered.values()]
    lines.append(f"| dedupe: its clusters | | | | {mean(clustered, 'P'):.4f} | {mean(clustered, 'R'):.4f} | "
                 f"**{mean(clustered, 'F1'):.4f}** | {min(cf1):.4f}–{max(cf1):.4f} | – / "
                 f"{hits(clustered, 'P', 'F1')} | |")
    for name, rs in results.items():
        f1s = [r["cF1"] for r in rs.values()]
        errs = (f"{sum(r['fp'] for r in rs.values())} / {sum(r['fn'] for r in rs.values())} "
                f"({sum(r['blocked'] for r in rs.values())}")
        errs += (f"; {sum(r['unseen_fp'] for r in rs.values())} / {sum(r['unseen_fn'] for r in rs.values())})"
                 if "unseen_fp" in next(iter(rs.values())) else ")")
        lines.append(f"| {name} | {mean(rs, 'P'):.4f} | {mean(rs, 'R'):.4f} | {mean(rs, 'F1'):.4f} | "
                     f"{mean(rs, 'cP'):.4f} | {mean(rs, 'cR'):.4f} | **{mean(rs, 'cF1'):.4f}** | "
                     f"{min(f1s):.4f}–{max(f1s):.4f} | {hits(rs, 'P', 'F1')} / {hits(rs, 'cP', 'cF1')} | {errs} |")
    table = "\n".join(lines)
    per_seed = ["| decision | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---:|" * len(seeds)]
    per_seed.append("| dedupe: its clusters | " + " | ".join(
        f"{clustered[s]['P']:.4f} / {clustered[s]['F1']:.4f}" for s in seeds) + " |")
    for name, rs in results.items():
        if "in sample" in name:
            continue
        per_seed.append(f"| {name} | " + " | ".join(f"{rs[s]['cP']:.4f} / {rs[s]['cF1']:.4f}" for s in seeds) + " |")
    cells_line = "; ".join(f"{name}: {d.filter(pl.col('cand')).select(key).n_unique():,} cells"
                           for name, key in keys.items())
    cells_line += (". Fitted per fold (alpha/threshold; * no threshold reached P ≥ 0.995 on the fit seeds' components:"
                   " the most precise one): ") + "; ".join(
        f"{label}: {', '.join(v)}" for label, v in fitted.items())
    shown = ["first_name", "last_name", "middle_name", "email", "phone", "company", "city", "job_title"]
    chosen_labels = [f"{name}: cross-fitted, {pairs_p}" for name in keys]
    blocked = {label: sum(int(r["blocked"]) for r in results[label].values()) for label in chosen_labels}
    loss = losses(decided, blocked, chosen_labels)
    worst = worst_cells(decided[f"(a) pattern: cross-fitted, {pairs_p}"], [f for f in shown if f in fields])
    curve = learning_curve(d, keys, folds) if args.curve else ""
    seconds = time.perf_counter() - t0
    print(table + "\n\nper seed, components (dedupe: clusters) precision / F1:\n" + "\n".join(per_seed) + "\n\n"
          + cells_line + "\n\n" + loss + "\n\n" + worst + "\n\n" + curve + f"\n\n{seconds:.0f} s")
    if args.write:
        body = (
            f"## Out-of-sample bound for contacts (issue 13; tuning seeds {', '.join(map(str, seeds))}, "
            f"{args.size:,} contacts each)\n\n"
            f"`python benchmarks/bench_dedupe_bound.py --write{' --curve' if args.curve else ''}`: a decision per "
            f"cell fitted on {len(seeds) - 2} tuning seeds and tested on the other 2 ({len(folds)} folds; each seed "
            "tested once). Mean over the test seeds of pairwise scores; "
            "true pairs the blocking never compared count as misses for every decision; a cell the fit seeds never "
            "saw keeps the model's decision; components = the merged pairs clustered by connected components.\n\n"
            + table + "\n\nPer seed, components (dedupe: its clusters) precision / F1:\n\n" + "\n".join(per_seed)
            + "\n\n"
            + cells_line + ".\n\nWhere the out-of-sample errors are (cross-fitted, t for pairs at P ≥ 0.995; test "
            "seeds pooled):\n\n" + loss + "\n\nThe level patterns with the most out-of-sample errors of (a), "
            "cross-fitted, t for pairs at P ≥ 0.995 (INN and country left out):\n\n" + worst + "\n"
            + ("\nLearning curve (`--curve`; the same test seeds, the fit on the first 4, 6 or 8 of the other "
               "seeds):\n\n" + curve + "\n" if curve else "")
        )
        write_section("bound", body)
        print(f"wrote {RESULTS} (bound)")


if __name__ == "__main__":
    main()
