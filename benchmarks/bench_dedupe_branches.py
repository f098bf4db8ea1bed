"""Companies with branches (issue 13): pairwise P/R/F1, branch merges and blocking recall, zero configuration.

Data: crmclean.testing.generate.generate_companies(branch_rate=0.08, inn_clash_rate=0.02) — branches share
the INN (own KPP, city, phone, mostly the same website), sole traders carry an organization's INN by mistake.
A "branch merge" is a predicted same-cluster pair of two different entities of one INN family.

    /work/venv/bin/python benchmarks/bench_dedupe_branches.py [--size 5000] [--seeds 101,202,303]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmclean.matching import dedupe  # noqa: E402
from crmclean.table import finalize_table  # noqa: E402
from crmclean.testing.generate import cluster_pairs, generate_companies, pairwise_scores, true_pairs  # noqa: E402


def run(n: int, seed: int) -> dict[str, object]:
    frame, truth = generate_companies(n, seed=seed, branch_rate=0.08, inn_clash_rate=0.02)
    table = finalize_table(frame, source="companies", kind="csv", id_column=None, object_type="companies")
    t0 = time.perf_counter()
    result = dedupe(table, object_type="companies")
    seconds = time.perf_counter() - t0
    ids = result.clusters["record_id"].to_list()
    predicted = cluster_pairs(ids, result.clusters["cluster_id"].to_list())
    wanted = true_pairs(truth)
    scores = pairwise_scores(predicted, wanted)
    ent = dict(zip(truth["record_id"], truth["entity_id"], strict=True))
    parent = dict(zip(truth["entity_id"], truth["parent_id"], strict=True))

    def family(e: int) -> int:
        return parent.get(e) or e

    branch_merges = sum(1 for a, b in predicted if ent[a] != ent[b] and family(ent[a]) == family(ent[b]))
    assert result.setup is not None
    rid = result.setup.record_ids
    # blocking recall: true pairs that were candidate pairs at all (scored pairs kept in result.pairs are a
    # subset; recompute from the blocking keys)
    from crmclean.matching.engine import _blocking_keys

    keys = _blocking_keys("companies", result.setup.settings, result.setup.features)
    pairs = result.setup.backend.block(result.setup.features, keys,
                                       max_block_size=result.setup.settings.max_block_size).pairs
    got = {tuple(sorted((rid[a], rid[b]))) for a, b in pairs.iter_rows()}
    blocking_recall = len(got & wanted) / len(wanted) if wanted else 1.0
    return {"records": n, "seed": seed, **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
            "branch_merges": branch_merges, "blocking_recall": round(blocking_recall, 4),
            "seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--seeds", default="101,202,303")
    args = ap.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        print(run(args.size, seed))


if __name__ == "__main__":
    main()
