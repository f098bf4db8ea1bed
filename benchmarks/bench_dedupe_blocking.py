"""Blocking recall (issue 13): true pairs blocking makes candidates, and what the run reports about it.

Zero-config dedupe of generated contacts at held-out seeds: pairwise P/R/F1, the true blocking recall
(share of true duplicate pairs that were compared at all) beside the run's own estimate
(``summary["blocking"]["estimated_recall"]``, capture–recapture over the keys, see
``CandidatePairs.key_recall``) and its other figures (recall inside clusters, dropped / windowed records),
candidate pairs, seconds, and per key the share of true pairs it finds and that only it finds.

    /work/venv/bin/python benchmarks/bench_dedupe_blocking.py [--size 5000] [--seeds 101,202,303] [--companies]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from crmclean.matching import dedupe  # noqa: E402
from crmclean.table import finalize_table  # noqa: E402
from crmclean.testing.generate import (  # noqa: E402
    cluster_pairs,
    generate_companies,
    generate_contacts,
    pairwise_scores,
    true_pairs,
)


def run(n: int, seed: int, companies: bool = False) -> dict[str, object]:
    if companies:
        frame, truth = generate_companies(n, seed=seed, branch_rate=0.08, inn_clash_rate=0.02)
    else:
        frame, truth = generate_contacts(n, seed=seed)
    obj = "companies" if companies else "contacts"
    table = finalize_table(frame, source=obj, kind="csv", id_column=None, object_type=obj)
    t0 = time.perf_counter()
    result = dedupe(table, object_type=obj)
    seconds = time.perf_counter() - t0
    ids = result.clusters["record_id"].to_list()
    predicted = cluster_pairs(ids, result.clusters["cluster_id"].to_list())
    wanted = true_pairs(truth)
    scores = pairwise_scores(predicted, wanted)
    assert result.setup is not None
    from crmclean.matching.engine import _blocking_keys

    setup = result.setup
    keys = _blocking_keys(setup.object_type, setup.settings, setup.features)
    candidates = setup.backend.block(setup.features, keys, max_block_size=setup.settings.max_block_size)
    pairs = candidates.pairs
    rid = setup.record_ids
    got = {tuple(sorted((rid[a], rid[b]))) for a, b in pairs.iter_rows()}
    pos = {r: i for i, r in enumerate(rid)}
    true_lr = pl.DataFrame([sorted((pos[a], pos[b])) for a, b in wanted], schema={"l": pl.UInt32, "r": pl.UInt32},
                           orient="row")
    true_keys = candidates.key_recall(true_lr)["keys"]
    reported = dict(result.summary.get("blocking") or {})
    reported.pop("keys", None)
    return {"records": n, "seed": seed, **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
            "blocking_recall": round(len(got & wanted) / len(wanted), 4) if wanted else 1.0,
            "estimated_recall": reported.get("estimated_recall"), "recall_low": reported.get("recall_low"),
            "candidate_pairs": pairs.height, "reported": reported, "true_pairs_by_key": true_keys,
            "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--seeds", default="101,202,303")
    ap.add_argument("--companies", action="store_true")
    args = ap.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        print(json.dumps(run(args.size, seed, args.companies), default=str))


if __name__ == "__main__":
    main()
