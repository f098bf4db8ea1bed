"""Clustering without chaining: merge matched pairs strongest first, refusing a merge any cross pair contradicts.

Plain connected components would chain strangers together through one shared value (two
colleagues who share only the switchboard; A~B and B~C forcing A~C while A and C disagree).
Here matched pairs are merged in descending probability; before two clusters join, every
cross pair (x in one, y in the other) is scored, and the merge is refused when any of them
has net evidence against being the same entity, when a steward rejected one of them, or when
the merged cluster would exceed the size limit. Refused pairs go to the review queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl

ScoreFn = Callable[[list[tuple[int, int]]], dict[tuple[int, int], float]]


@dataclass
class ClusterResult:
    """cluster label per record position, and the matched pairs the clustering refused (with why)."""

    labels: list[int]  # representative record position per record
    refused: dict[tuple[int, int], str] = field(default_factory=dict)  # pair -> "conflict" | "size" | "rejected"
    merged: set[tuple[int, int]] = field(default_factory=set)  # pairs whose merge joined two clusters


class _UnionFind:
    """Union-find over the records that appear in edges only (most records never merge)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            nxt = parent[x]
            parent[x] = root
            x = nxt
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def cluster_pairs(
    n: int,
    edges: pl.DataFrame,
    evidence: dict[tuple[int, int], float],
    score_missing: ScoreFn,
    *,
    max_cluster_size: int = 25,
    min_cross_weight: float = -5.0,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    exhaustive_limit: int = 150,
) -> ClusterResult:
    """Cluster ``n`` records from matched ``edges`` (columns l, r, probability), strongest first.

    ``evidence`` holds the match weight (bits, prior included) of every already-scored pair;
    ``score_missing`` scores cross pairs nobody compared yet. Components larger than
    ``exhaustive_limit`` records check only the cross pairs already scored.
    """
    must = {_key(a, b) for a, b in must_link}
    cannot = {_key(a, b) for a, b in cannot_link}
    edge_rows = [(_key(int(a), int(b)), float(p)) for a, b, p in
                 edges.select("l", "r", "probability").iter_rows()]
    edge_rows = [(k, p) for k, p in edge_rows if k not in cannot]
    edge_rows += [(k, 2.0) for k in must]  # steward-accepted pairs go first
    edge_rows.sort(key=lambda kp: -kp[1])
    result = ClusterResult(labels=list(range(n)))
    for k in cannot:
        result.refused.setdefault(k, "rejected")

    # connected components of the matched graph bound the work
    comp = _UnionFind()
    for (a, b), _ in edge_rows:
        comp.union(a, b)
    members: dict[int, list[int]] = {}
    for x in {v for (a, b), _ in edge_rows for v in (a, b)}:
        members.setdefault(comp.find(x), []).append(x)
    # score every unscored within-component pair of small components in one batch
    todo: list[tuple[int, int]] = []
    for nodes in members.values():
        if 2 < len(nodes) <= exhaustive_limit:
            ordered = sorted(set(nodes))
            for i, a in enumerate(ordered):
                for b in ordered[i + 1:]:
                    if (a, b) not in evidence:
                        todo.append((a, b))
    if todo:
        evidence = dict(evidence)
        evidence.update(score_missing(todo))

    uf = _UnionFind()
    cluster_members: dict[int, list[int]] = {}
    for (a, b), _prob in edge_rows:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ma = cluster_members.get(ra, [ra])
        mb = cluster_members.get(rb, [rb])
        forced = (a, b) in must
        if not forced and len(ma) + len(mb) > max_cluster_size:
            result.refused[(a, b)] = "size"
            continue
        if not forced:
            conflict = None
            for x in ma:
                for y in mb:
                    k = _key(x, y)
                    if k in cannot:
                        conflict = "rejected"
                        break
                    ev = evidence.get(k)
                    if ev is not None and ev < min_cross_weight and k not in must:
                        conflict = "conflict"
                        break
                if conflict:
                    break
            if conflict:
                result.refused[(a, b)] = conflict
                continue
        uf.union(a, b)
        root = uf.find(a)
        cluster_members[root] = ma + mb
        for r in (ra, rb):
            if r != root:
                cluster_members.pop(r, None)
        result.merged.add((a, b))
    labels = list(range(n))
    for x in uf.parent:
        labels[x] = uf.find(x)
    result.labels = labels
    return result
