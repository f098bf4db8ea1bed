"""Clustering without chaining: merge matched pairs strongest first, refusing a merge any cross pair contradicts.

Plain connected components would chain strangers together through one shared value (two
colleagues who share only the switchboard; A~B and B~C forcing A~C while A and C disagree).
Here matched pairs are merged in descending probability; before two clusters join, every
cross pair (x in one, y in the other) is scored, and the merge is refused when any of them
has net evidence against being the same entity, when a steward rejected one of them, or when
the merged cluster would exceed the size limit. Refused pairs go to the review queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

ScoreFn = Callable[[list[tuple[int, int]]], dict[tuple[int, int], float]]


@dataclass
class ClusterResult:
    """cluster label per record position, and the matched pairs the clustering refused (with why)."""

    labels: list[int]  # representative record position per record
    # pair -> "conflict" | "size" | "rejected" | "chain" | "cannot-link"
    refused: dict[tuple[int, int], str] = field(default_factory=dict)


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


# a cannot-link rule over record attributes: (group code, value code) per record position, -1 for missing;
# two records of one group with different values never end in one cluster, whatever path links them
ConflictKey = tuple[np.ndarray, np.ndarray]


def _conflicts(keys: Sequence[ConflictKey], left: list[int], right: list[int]) -> bool:
    """True when a record of ``left`` and one of ``right`` share a group of some key with different values."""
    for groups, values in keys:
        seen: dict[int, int] = {}
        for x in left:
            g, v = int(groups[x]), int(values[x])
            if g >= 0 and v >= 0:
                seen[g] = v
        if not seen:
            continue
        for y in right:
            g, v = int(groups[y]), int(values[y])
            if g >= 0 and v >= 0 and seen.get(g, v) != v:
                return True
    return False


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
    min_chain_weight: float | None = None,
    conflict_keys: Sequence[ConflictKey] = (),
) -> ClusterResult:
    """Cluster ``n`` records from matched ``edges`` (columns l, r, probability), strongest first.

    ``evidence`` holds the match weight (bits, prior included) of every already-scored pair;
    ``score_missing`` scores cross pairs nobody compared yet. Components larger than
    ``exhaustive_limit`` records check only the cross pairs already scored.

    ``min_chain_weight`` (the match threshold as a weight): a merge that would put two records in one
    cluster only through a chain is refused ("chain") unless their own pairwise weight clears it: the
    end records of a chain must agree themselves, or the link goes to review.

    ``conflict_keys``: cannot-link rules over record attributes (one INN with two KPPs: a head office and its
    branch; an organization and a sole trader): a merge that would put two records of one group with different
    values in one cluster is refused ("cannot-link") and goes to review, unless a steward accepted that very pair.
    """
    must = {_key(a, b) for a, b in must_link}
    cannot = {_key(a, b) for a, b in cannot_link}
    left = edges.get_column("l").to_numpy().astype(np.int64)
    right = edges.get_column("r").to_numpy().astype(np.int64)
    prob = edges.get_column("probability").to_numpy().astype(np.float64)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    keep = lo != hi
    if cannot:
        keep &= ~np.fromiter(((int(a), int(b)) in cannot for a, b in zip(lo, hi, strict=True)), dtype=bool,
                             count=len(lo))
    lo, hi, prob = lo[keep], hi[keep], prob[keep]
    if must:
        # steward-accepted pairs go first
        must_lo = np.array([a for a, _ in must], dtype=np.int64)
        must_hi = np.array([b for _, b in must], dtype=np.int64)
        lo, hi = np.concatenate([lo, must_lo]), np.concatenate([hi, must_hi])
        prob = np.concatenate([prob, np.full(len(must_lo), 2.0)])
    result = ClusterResult(labels=list(range(n)))
    for k in cannot:
        result.refused.setdefault(k, "rejected")
    labels = np.arange(n, dtype=np.int64)

    # connected components of the matched graph bound the work
    component = connected_components(n, lo, hi)
    comp_size = np.bincount(component, minlength=n)
    pair_comp = comp_size[component[lo]]
    # a component of two records has one pair and no cross pair to check: merge it without the loop below
    two = pair_comp == 2
    codes, weights = _evidence_codes(evidence, n)
    pair = _sorted_unique(lo[two] * n + hi[two])  # (a pair may come twice: a steward's and the scored one)
    two_ev = _lookup(codes, weights, pair)
    two_forced = np.isin(pair, np.array([a * n + b for a, b in must], dtype=np.int64))
    refuse = np.full(len(pair), "", dtype=object)
    if max_cluster_size < 2:
        refuse[~two_forced] = "size"
    elif conflict_keys:
        for i in np.flatnonzero(~two_forced).tolist():
            if _conflicts(conflict_keys, [int(pair[i] // n)], [int(pair[i] % n)]):
                refuse[i] = "cannot-link"
    refuse[(refuse == "") & ~two_forced & (two_ev < min_cross_weight)] = "conflict"  # (NaN: no evidence)
    for k, why in zip(pair[refuse != ""].tolist(), refuse[refuse != ""].tolist(), strict=True):
        result.refused[(k // n, k % n)] = why
    merge = pair[refuse == ""]
    labels[merge % n] = merge // n
    many = ~two
    # score every unscored within-component pair of small components in one batch
    todo = _within_pairs(_sorted_unique(np.concatenate([lo[many], hi[many]])), component, comp_size,
                         exhaustive_limit, codes, n)
    if todo:
        evidence = dict(evidence)
        evidence.update(score_missing(todo))

    dirty = _checked_components(n, component, comp_size, evidence, must, cannot, max_cluster_size=max_cluster_size,
                                bound=min_cross_weight if min_chain_weight is None else max(min_cross_weight,
                                                                                             min_chain_weight),
                                conflict_keys=bool(conflict_keys))
    # a component nothing can refuse a merge in (most of them) merges every edge: it ends as one cluster labelled
    # by its smallest member, as union-find would leave it; only the others are walked edge by edge
    clean = many & ~dirty[component[lo]]
    labels[lo[clean]] = component[lo[clean]]
    labels[hi[clean]] = component[hi[clean]]
    checked = many & ~clean
    order = np.argsort(-prob[checked], kind="stable")
    edge_rows = [((int(a), int(b)), float(p)) for a, b, p in
                 zip(lo[checked][order], hi[checked][order], prob[checked][order], strict=True)]
    uf = _UnionFind()
    find = uf.find
    cluster_members: dict[int, list[int]] = {}
    for (a, b), _prob in edge_rows:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ma = cluster_members.get(ra, [ra])
        mb = cluster_members.get(rb, [rb])
        forced = (a, b) in must
        if not forced and len(ma) + len(mb) > max_cluster_size:
            result.refused[(a, b)] = "size"
            continue
        if not forced and conflict_keys and _conflicts(conflict_keys, ma, mb):
            result.refused[(a, b)] = "cannot-link"
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
                    if (min_chain_weight is not None and ev is not None and ev < min_chain_weight
                            and k not in must and k != (a, b)):
                        conflict = "chain"
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
    for x in uf.parent:
        labels[x] = uf.find(x)
    result.labels = labels.tolist()
    return result


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (np.unique hashes in numpy 2.4: 30 times slower than a sort here)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _evidence_codes(evidence: dict[tuple[int, int], float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``evidence`` as sorted pair codes (a * n + b) and their weights, for :func:`_lookup`."""
    if not evidence:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    keys = np.array(list(evidence.keys()), dtype=np.int64).reshape(-1, 2)
    codes = keys[:, 0] * n + keys[:, 1]
    order = np.argsort(codes, kind="stable")
    return codes[order], np.fromiter(evidence.values(), dtype=np.float64, count=len(evidence))[order]


def _lookup(codes: np.ndarray, weights: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The weight of each ``wanted`` pair code, NaN where there is none."""
    if len(codes) == 0:
        return np.full(len(wanted), np.nan)
    at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
    return np.where(codes[at] == wanted, weights[at], np.nan)


def _within_pairs(nodes: np.ndarray, component: np.ndarray, comp_size: np.ndarray, limit: int,
                  known: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Every pair (a < b) of ``nodes`` in one component of 3 to ``limit`` records whose code is not ``known``: the
    components in the order of their smallest member, each one's pairs in order (numpy per component size, not a
    Python loop per pair)."""
    comp = component[nodes]
    size = comp_size[comp]
    inside = (size > 2) & (size <= limit)
    nodes, comp, size = nodes[inside], comp[inside], size[inside]
    order = np.lexsort((nodes, comp))  # a component's members together, ascending (components by label)
    nodes, comp, size = nodes[order], comp[order], size[order]
    firsts, heads, codes = [], [], []
    for s in _sorted_unique(size).tolist():
        block = nodes[size == s].reshape(-1, s)  # one row per component of s records
        i, j = np.triu_indices(s, 1)
        firsts.append(block[:, i].ravel())
        codes.append(block[:, j].ravel())
        heads.append(np.repeat(block[:, 0], len(i)))
    if not firsts:
        return []
    a, b, head = np.concatenate(firsts), np.concatenate(codes), np.concatenate(heads)
    order = np.argsort(head, kind="stable")  # components in the order of their smallest member
    a, b = a[order], b[order]
    if len(known):
        at = np.minimum(np.searchsorted(known, a * n + b), len(known) - 1)
        missing = known[at] != a * n + b
        a, b = a[missing], b[missing]
    return list(zip(a.tolist(), b.tolist(), strict=True))


def _checked_components(n: int, component: np.ndarray, comp_size: np.ndarray, evidence: dict[tuple[int, int], float],
                        must: set[tuple[int, int]], cannot: set[tuple[int, int]], *, max_cluster_size: int,
                        bound: float, conflict_keys: bool) -> np.ndarray:
    """Per component id: True where :func:`cluster_pairs` must check each merge — the component exceeds the size
    limit, holds a pair a steward (or a cannot-link) decided, or a scored pair below ``bound`` (the cross-pair and
    chain bounds); with conflict keys, every component. Elsewhere no check can refuse a merge: every edge that
    joins two clusters merges, as the checked loop would merge it."""
    if conflict_keys:
        return np.ones(n, dtype=bool)
    dirty = comp_size > max_cluster_size
    for a, b in must | cannot:
        dirty[component[a]] = dirty[component[b]] = True
    if evidence:
        pairs = np.array(list(evidence.keys()), dtype=np.int64).reshape(-1, 2)
        weights = np.fromiter(evidence.values(), dtype=np.float64, count=len(evidence))
        low = pairs[~(weights >= bound)]  # (a NaN weight too: checked as before)
        dirty[component[low[:, 0]]] = True
        dirty[component[low[:, 1]]] = True
    return dirty


def cluster_odds(
    pairs: Sequence[tuple[int, int]],
    own: Sequence[float],
    labels: np.ndarray | Sequence[int],
    evidence: dict[tuple[int, int], float],
    score_missing: ScoreFn,
) -> list[float]:
    """The weight (bits) that the clusters of ``a`` and ``b`` are one entity, for pairs the clustering left apart.

    A pair refused because ``b``'s cluster holds a record ``c`` that contradicts ``a`` asks "does ``a`` belong
    with ``b`` — and so with ``c``?": its own weight does not answer it. Under the model's pairwise evidence the
    odds that two clusters are one entity (against two) multiply over every cross pair, so the weight is the
    pair's own weight (``own``, in the order of ``pairs``) plus the cross-pair weight of every other record pair
    across the two clusters (``evidence``, the merge check's cross weights; pairs it lacks are scored by
    ``score_missing``). For two records on their own it is the pair's own weight. ``labels``: every record's
    cluster (representative position).
    """
    roots = np.asarray(labels, dtype=np.int64)
    wanted = {int(roots[a]) for a, b in pairs} | {int(roots[b]) for a, b in pairs}
    members: dict[int, list[int]] = {r: [] for r in wanted}
    for x in np.flatnonzero(np.isin(roots, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))).tolist():
        members[int(roots[x])].append(x)
    crosses = [[_key(x, y) for x in members[int(roots[a])] for y in members[int(roots[b])] if _key(x, y) != _key(a, b)]
               for a, b in pairs]
    missing = sorted({k for ks in crosses for k in ks if k not in evidence})
    known = dict(evidence)
    if missing:
        known.update(score_missing(missing))
    return [w + sum(known[k] for k in ks) for w, ks in zip(own, crosses, strict=True)]


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Smallest member position of every record's connected component over the edges ``left[i]``–``right[i]``.

    Min-label propagation with pointer jumping in numpy: a handful of vectorized passes (match
    components are small and shallow) instead of a Python union-find over every edge.
    """
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    while True:
        low = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        # pointer jumping: follow labels to their own labels until stable
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def review_questions(left: np.ndarray, right: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """One question id (1, 2, ...) per review pair: the pairs that ask where one record belongs are one question.

    A record nothing places (a company record without KPP, city or phone beside a head office and its branch)
    yields one review pair per cluster it might join, and at most one of them can be right; a steward answers one
    question — "which of these is it, or none?" — not several independent ones. ``left`` / ``right`` are the
    pairs' record positions, ``roots`` every record's cluster. Each pair belongs to the question of one of its
    two clusters (the centre): the one that comes first when clusters are ordered smallest first (the record in
    doubt, not the registration it may join), then by most candidate clusters, then by position. Ids follow the
    pairs' order (the first pair opens question 1).
    """
    k = len(left)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    cl, cr = roots[left].astype(np.int64), roots[right].astype(np.int64)
    size = np.bincount(roots.astype(np.int64), minlength=len(roots))
    neighbours: dict[int, set[int]] = {}
    for a, b in zip(cl.tolist(), cr.tolist(), strict=True):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    centre_rank = {c: i for i, c in enumerate(sorted(neighbours, key=lambda c: (size[c], -len(neighbours[c]), c)))}
    centre = [a if centre_rank[a] <= centre_rank[b] else b for a, b in zip(cl.tolist(), cr.tolist(), strict=True)]
    ids: dict[int, int] = {}
    return np.array([ids.setdefault(c, len(ids) + 1) for c in centre], dtype=np.int64)
