"""The matching engine: standardize → block → compare → score → cluster → survivorship, for dedupe and linking.

Declarations (comparison levels, blocking keys) come from ``crmclean.matching.library``;
every block, comparison and weight is executed by a :class:`~crmclean.matching.backend.MatchBackend`
(``polars`` by default), so this module never computes one itself.

``dedupe(table, rules)`` finds records of one table that are the same person or company;
``link(source, other, rules)`` finds which rows of a source already exist in another table
(the pre-import check); ``explain_pair(table, id1, id2, rules)`` shows why two records do
or do not match as a waterfall of per-field weights. Everything reads the normalized match
profile, never raw strings, and works column-wise in polars.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crmclean.config import RulesFile
from crmclean.config.dedupe import DedupeSettings
from crmclean.errors import ConfigError, SourceError, UsageError
from crmclean.fields.dates import date_digits_from_parts
from crmclean.matching.backend import CandidatePairs, MatchBackend, get_backend
from crmclean.matching.calibration import calibrated
from crmclean.matching.clustering import cluster_odds, cluster_pairs, connected_components, review_questions
from crmclean.matching.companies import company_features, conflict_keys
from crmclean.matching.explain import Explanation, explanation_from_row
from crmclean.matching.features import IDX, build_features, extra_column_values
from crmclean.matching.library import (
    BlockingKey,
    Comparison,
    companies_blocking_keys,
    companies_comparisons,
    contacts_blocking_keys,
    contacts_comparisons,
    generation_comparison,
    generic_comparison,
)
from crmclean.matching.scoring import (
    MatchModel,
    cross_weight,
    estimate_u,
    fit_disagreements,
    refuting_levels,
    train_from_labels,
    train_m_em,
)
from crmclean.matching.survivorship import golden_records
from crmclean.roles import COMPOSED_ROLES

Progress = Callable[[str, int, int | None], None]

# roles of the record table that get a comparison automatically when present (not in the profile)
# person-file columns compared whenever a file has them (FEBRL-like sets of names, birth dates and addresses)
_AUTO_COMPARISONS: dict[str, str] = {"birthdate": "date", "zip": "exact", "address": "jaro_winkler",
                                     "national_id": "levenshtein_digits", "street_number": "exact",
                                     "address2": "jaro_winkler"}
# blocking keys over those columns (feature ``x__<role>``), added to the defaults when the file has them
_AUTO_BLOCKING: tuple[BlockingKey, ...] = (
    BlockingKey("birthdate_initial", ("x__birthdate", "li"), refine=("fi",), min_length=6, max_block_size=20,
                window=6, description="birth date + surname initial"),
    BlockingKey("birthdate_zip", ("x__birthdate", "x__zip"), min_length=6, max_block_size=20, window=6,
                description="birth date + postcode"),
    BlockingKey("zip_surname", ("x__zip", "ln_ph"), refine=("fi",), min_length=3, max_block_size=20, window=6,
                description="postcode + surname sound"),
    BlockingKey("zip_given", ("x__zip", "fn_canon"), refine=("li",), min_length=3, max_block_size=20, window=6,
                description="postcode + given name (a surname typo)"),
    BlockingKey("national_id", ("x__national_id",), min_length=5, max_block_size=20, window=6,
                description="the same national id (SSN, СНИЛС)"),
    BlockingKey("address_given", ("x__address", "fn_canon"), min_length=4, max_block_size=20, window=6,
                description="street address + given name"),
)
_PEOPLE = ("contacts", "leads")


@dataclass
class MatchSetup:
    """Everything needed to score pairs of one record set: features, comparisons, model, term frequencies."""

    object_type: str  # "people" or "companies"
    features: pl.DataFrame
    comparisons: list[Comparison]
    model: MatchModel
    tf: Any  # the backend's term-frequency lookups
    settings: DedupeSettings
    record_ids: pl.Series
    backend: MatchBackend = field(default_factory=get_backend)

    def levels(self, pairs: pl.DataFrame) -> pl.DataFrame:
        return self.backend.compare(self.features, pairs, self.comparisons, self.tf)

    def score(self, pairs: pl.DataFrame) -> pl.DataFrame:
        return self.backend.weigh(self.levels(pairs), self.model)


@dataclass
class DedupeResult:
    """What ``dedupe`` found: clusters per record, scored pairs, golden records, review queue, statistics."""

    # record_id, cluster_id, cluster_role, match_score (input order); companies also parent_id (a branch's head)
    clusters: pl.DataFrame
    # left_id, right_id, score (the pair's own), match_weight, decision (the pair's own: match / review /
    # no-match), reason, same_cluster, left_cluster_id, right_cluster_id (where clustering put them), evidence
    pairs: pl.DataFrame
    golden: pl.DataFrame  # cluster_id, master_id, loser_ids, <golden columns>, reasons
    review: pl.DataFrame  # pairs a steward should decide, with both records side by side and a label column
    blocking_stats: list[dict[str, Any]]
    model: MatchModel
    summary: dict[str, Any] = field(default_factory=dict)
    setup: MatchSetup | None = None

    def annotated(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Every input row and column, in input order, plus cluster_id, cluster_role and match_score (and for
        companies parent_id: the cluster id of the head office a branch belongs to)."""
        extra = ["parent_id"] if "parent_id" in self.clusters.columns else []
        cols = self.clusters.select(
            pl.col("cluster_id"), pl.col("cluster_role"),
            pl.col("match_score").round(4).cast(pl.String).alias("match_score"), *extra,
        )
        data = frame.select([c for c in frame.columns if not c.startswith("__")])
        taken = [c for c in ("cluster_id", "cluster_role", "match_score", *extra) if c in data.columns]
        if taken:
            data = data.drop(taken)
        return pl.concat([data, cols], how="horizontal")


@dataclass
class LinkResult:
    """For each source row: the best match in the other table (if any) with its score and decision."""

    matches: pl.DataFrame  # source_id, other_id, score, decision, evidence
    blocking_stats: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)

    def annotated(self, frame: pl.DataFrame, id_column: str) -> pl.DataFrame:
        """Every source row plus match_id, match_score, match_decision (exists / review / new)."""
        best = self.matches.select(
            pl.col("source_id"), pl.col("other_id").alias("match_id"),
            pl.col("score").round(4).cast(pl.String).alias("match_score"),
            pl.col("decision").replace_strict({"match": "exists", "review": "review"}, default="new")
            .alias("match_decision"),
        )
        data = frame.select([c for c in frame.columns if not c.startswith("__") or c == id_column])
        out = data.join(best, left_on=id_column, right_on="source_id", how="left", maintain_order="left")
        out = out.with_columns(pl.col("match_decision").fill_null("new"))
        if id_column.startswith("__"):
            out = out.drop(id_column)
        return out


# ---------------------------------------------------------------- setup


def _settings(rules: RulesFile | None) -> DedupeSettings:
    return rules.dedupe if rules is not None else DedupeSettings()


def resolve_object(table: Any, settings: DedupeSettings, override: str | None = None) -> str:
    """'people' or 'companies' from --object, the rules file, or the table's detected object type."""
    chosen = override or settings.object or getattr(table, "object_type", None) or "contacts"
    if chosen in _PEOPLE:
        return "people"
    if chosen in ("companies", "accounts"):
        return "companies"
    raise UsageError(f"dedupe compares contacts, leads or companies, not {chosen!r}", hint="pass --object contacts")


def _extra_columns(table: Any, settings: DedupeSettings) -> tuple[dict[str, pl.Series], list[Comparison]]:
    """Normalized raw columns for custom comparisons (rules file) and auto ones (birthdate, zip, address)."""
    extra: dict[str, pl.Series] = {}
    comps: list[Comparison] = []
    for name, opts in settings.comparisons.items():
        if opts.column is None and opts.type is None:
            continue
        if opts.column is None or opts.type is None:
            raise ConfigError(f"comparison `{name}` needs both `column` and `type`", path=None)
        if not opts.enabled:
            continue
        key = f"x__{name}"
        # a role name is accepted too: `column: birthdate`
        values = (extra_column_values(table, opts.column, opts.type) if opts.column in table.frame.columns
                  else _role_values(table, opts.column, opts.type))
        if values is None:
            raise ConfigError(f"comparison `{name}`: column {opts.column!r} not in the source")
        extra[key] = values.alias(key)
        comp = generic_comparison(name, opts.type, key, thresholds=opts.thresholds)
        comps.append(comp.with_overrides(opts.m, opts.u))
    for role, kind in _AUTO_COMPARISONS.items():
        if role in settings.comparisons or any(c.name == role for c in comps) or _compared(table, settings, role):
            continue
        values = _role_values(table, role, kind)
        if values is None:
            continue
        key = f"x__{role}"
        extra[key] = values.alias(key)
        comps.append(generic_comparison(role, kind, key))
    return extra, comps


def _compared(table: Any, settings: DedupeSettings, role: str) -> bool:
    """A rules-file comparison already reads ``role``: by its name (`column: birthdate`), by a column of that role
    (`column: date_of_birth`) or by one of its parts (`column: by`). Comparing it again would count it twice."""
    columns = set(table.by_role.get(role) or ())
    for part in COMPOSED_ROLES.get(role, ()):
        columns.update(table.by_role.get(part) or ())
    return any(opts.enabled and opts.column is not None and (opts.column == role or opts.column in columns)
               for opts in settings.comparisons.values())


# how the parts of a composed role (roles.COMPOSED_ROLES) make one value, by comparison kind
_COMPOSE: dict[str, Callable[..., pl.Series]] = {"date": date_digits_from_parts}


def _role_values(table: Any, role: str, kind: str) -> pl.Series | None:
    """Normalized values of a role for a comparison of ``kind``: its column, or, where the file keeps the role in
    parts (roles.COMPOSED_ROLES: by, bm, bd), one value composed from all of them; None when the file has neither."""
    by_role = table.by_role
    if by_role.get(role):
        return extra_column_values(table, by_role[role][0], kind)
    parts = COMPOSED_ROLES.get(role, ())
    if parts and kind in _COMPOSE and all(by_role.get(p) for p in parts):
        return _COMPOSE[kind](*(table.frame.get_column(by_role[p][0]) for p in parts))
    return None


def _comparisons(object_type: str, settings: DedupeSettings, features: pl.DataFrame | None = None) -> list[Comparison]:
    base = contacts_comparisons() if object_type == "people" else companies_comparisons()
    if (object_type == "people" and features is not None and "generation" in features.columns
            and features.get_column("generation").null_count() < features.height):
        base.append(generation_comparison())  # a file where some record writes Sr. / Jr.
    out = []
    for comp in base:
        opts = settings.comparisons.get(comp.name)
        if opts is not None:
            if not opts.enabled:
                continue
            comp = comp.with_overrides(opts.m, opts.u)
        out.append(comp)
    return out


def _blocking_keys(object_type: str, settings: DedupeSettings, features: pl.DataFrame) -> list[BlockingKey]:
    defaults = contacts_blocking_keys() if object_type == "people" else companies_blocking_keys()
    if object_type == "people":
        defaults += [k for k in _AUTO_BLOCKING if all(c in features.columns for c in k.columns)]
    if settings.blocking is None:
        return defaults
    by_name = {k.name: k for k in defaults}
    keys = []
    for spec in settings.blocking:
        base = by_name.get(spec.name)
        if spec.columns:
            cols = tuple(c if c in features.columns else f"x__{c}" for c in spec.columns)
            missing = [c for c in cols if c not in features.columns]
            if missing:
                raise ConfigError(f"blocking key `{spec.name}`: unknown column(s) {', '.join(missing)}",
                                  hint=f"feature columns: {', '.join(c for c in features.columns if c != IDX)}")
            base = BlockingKey(spec.name, cols, refine=tuple(spec.refine), description="from the rules file")
        if base is None:
            raise ConfigError(f"unknown blocking key `{spec.name}`",
                              hint=f"built-in keys: {', '.join(by_name)}; or give `columns`")
        if spec.max_block_size is not None or spec.refine:
            base = dataclasses.replace(base, refine=tuple(spec.refine) or base.refine,
                                       max_block_size=spec.max_block_size or base.max_block_size)
        keys.append(base)
    return keys


def _profile(table: Any, rules: RulesFile | None, profile: pl.DataFrame | None) -> pl.DataFrame:
    if profile is not None:
        return profile
    from crmclean.profile import build_profile

    return build_profile(table, rules)


def _features(table: Any, profile: pl.DataFrame, extra: dict[str, pl.Series], object_type: str) -> pl.DataFrame:
    feats = build_features(profile, table)
    if object_type == "companies":
        feats = company_features(feats)
    if extra:
        feats = feats.with_columns(list(extra.values()))
    return feats


def prepare(
    table: Any,
    rules: RulesFile | None = None,
    *,
    profile: pl.DataFrame | None = None,
    object_type: str | None = None,
    backend: MatchBackend | None = None,
) -> MatchSetup:
    """Profile, features, comparisons and an untrained model for one table."""
    backend = backend or get_backend()
    settings = _settings(rules)
    obj = resolve_object(table, settings, object_type)
    extra, custom = _extra_columns(table, settings)
    feats = _features(table, _profile(table, rules, profile), extra, obj)
    comps = _comparisons(obj, settings, feats) + custom
    model = MatchModel.default(comps, feats.height, duplicate_pairs_per_record=settings.duplicate_rate)
    tf = backend.term_frequencies(feats)
    return MatchSetup(obj, feats, comps, model, tf, settings, feats.get_column("record_id"), backend)


def _person_file(levels: pl.DataFrame) -> bool:
    """No candidate pair has an e-mail, phone, company or INN to compare (FEBRL, RLdata, registers): the built-in m
    values were fitted on CRM exports, so such a file's own pairs fit them (``train: auto``)."""
    crm = [c for c in ("lvl__email", "lvl__phone", "lvl__company", "lvl__inn") if c in levels.columns]
    return levels.height > 0 and bool(crm) and all(levels.get_column(c).null_count() == levels.height for c in crm)


def review_score(settings: DedupeSettings, *, apart: bool = False) -> pl.Expr:
    """What ``thresholds.review`` reads (over a scored frame): the calibrated probability that the pair is a true
    match (column ``calibrated``, the default: review means at least the threshold's odds; ``apart``: column
    ``calibrated_apart``, the probability of a pair the clustering left apart, which the review queue reads), or
    with ``review_on: score`` the model's probability."""
    if settings.thresholds.review_on == "score":
        return pl.col("probability")
    return pl.col("calibrated_apart") if apart else pl.col("calibrated")


def _supported(settings: DedupeSettings, comparisons: Sequence[Comparison]) -> pl.Expr:
    """Whether a pair may merge on its own score (over a scored frame): with ``require_corroboration``, when a
    field other than names speaks for it (``corroborated``) or, with ``uncontested_names``, when no field at all
    speaks against it (a rare full name and nothing contradicting it); without, always."""
    if not settings.require_corroboration:
        return pl.lit(True)
    supported = pl.col("corroborated")
    if settings.uncontested_names and comparisons:
        supported = supported | pl.all_horizontal([pl.col(f"w__{c.name}").fill_null(0.0) >= 0 for c in comparisons])
    return supported


# ---------------------------------------------------------------- labels (review round trip)

_ACCEPT = {"accept", "accepted", "yes", "y", "match", "same", "merge", "1", "true", "да", "дубль", "+"}
_REJECT = {"reject", "rejected", "no", "n", "no-match", "nomatch", "different", "0", "false", "нет", "-"}


def read_labels(path: str | Path) -> pl.DataFrame:
    """A reviewed pairs CSV -> left_id, right_id, accepted (bool); rows without a verdict are skipped."""
    p = Path(path)
    if not p.exists():
        raise SourceError("labels file not found", path=str(p))
    with p.open(encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if "left_id" not in fields or "right_id" not in fields or "label" not in fields:
            raise SourceError("labels file needs columns left_id, right_id, label", path=str(p), line=1)
        rows = []
        for line_no, row in enumerate(reader, start=2):
            norm = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            verdict = norm.get("label", "").casefold()
            if not verdict:
                continue
            if verdict in _ACCEPT:
                accepted = True
            elif verdict in _REJECT:
                accepted = False
            else:
                raise SourceError(f"label {norm.get('label')!r} is neither accept nor reject", path=str(p),
                                  line=line_no, column="label")
            # our own CSV writer defuses formula-like cells with a leading apostrophe: undo it for ids
            rows.append((norm["left_id"].removeprefix("'"), norm["right_id"].removeprefix("'"), accepted))
    return pl.DataFrame(rows, schema={"left_id": pl.String, "right_id": pl.String, "accepted": pl.Boolean},
                        orient="row")


def _label_positions(labels: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    index = pl.DataFrame({"id": ids, "pos": pl.int_range(0, len(ids), dtype=pl.UInt32, eager=True)})
    # in the labels' order (a pair labelled twice: the last label wins, whatever order a join would give)
    out = (labels.join(index.rename({"id": "left_id", "pos": "a"}), on="left_id", maintain_order="left")
           .join(index.rename({"id": "right_id", "pos": "b"}), on="right_id", maintain_order="left")
           .select(pl.min_horizontal("a", "b").alias("l"), pl.max_horizontal("a", "b").alias("r"), "accepted")
           .filter(pl.col("l") != pl.col("r")).unique(subset=["l", "r"], keep="last", maintain_order=True))
    return out


# ---------------------------------------------------------------- dedupe


def _level_names_expr(comps: Sequence[Comparison]) -> list[pl.Expr]:
    parts = []
    for c in comps:
        names = {i: lv.name for i, lv in enumerate(c.levels)}
        parts.append(
            pl.struct(
                pl.col(f"lvl__{c.name}").replace_strict(names, default=None, return_dtype=pl.String).alias("level"),
                pl.col(f"w__{c.name}").round(2).alias("weight"),
            ).alias(c.name)
        )
    return parts


def _evidence_json(scored: pl.DataFrame, comps: Sequence[Comparison], prior_weight: float) -> pl.Series:
    """Per-pair evidence as a JSON object: {field: {level, weight}, ..., prior, correlated_adjustment}."""
    # a person file's adjustment for how many fields disagree (scoring.fit_disagreements)
    counted = ([pl.col("disagreement_adjust").round(2).alias("disagreements_adjustment")]
               if "disagreement_adjust" in scored.columns else [])
    return scored.select(
        pl.struct(
            *_level_names_expr(comps),
            pl.col("swapped").alias("names_swapped"),
            pl.col("group_adjust").round(2).alias("correlated_adjustment"),
            *counted,
            pl.lit(round(prior_weight, 2)).alias("prior"),
        ).struct.json_encode().alias("evidence")
    ).to_series()


def dedupe(
    table: Any,
    rules: RulesFile | None = None,
    *,
    profile: pl.DataFrame | None = None,
    labels: str | Path | pl.DataFrame | None = None,
    object_type: str | None = None,
    progress: Progress | None = None,
    backend: MatchBackend | None = None,
    chain_threshold: float | None = None,
) -> DedupeResult:
    """Find duplicate records in ``table``: clusters, scored pairs, golden records and a review queue.

    ``chain_threshold``: when given, two records end in one cluster only if their own pair scores at
    least this probability (chains whose end records disagree are refused and go to review).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        t0 = now
        if progress:
            progress(name, 0, None)

    setup = prepare(table, rules, profile=profile, object_type=object_type, backend=backend)
    settings = setup.settings
    step("standardize")
    feats, model, tf = setup.features, setup.model, setup.tf
    n = feats.height
    backend = setup.backend
    keys = _blocking_keys(setup.object_type, settings, feats)
    # u from random pairs (which builds the encoding and tables every compared chunk reads) on the other core while
    # blocking runs: both only read the features ("block" times the two side by side, "estimate" the wait after)
    with ThreadPoolExecutor(max_workers=1) as pool:
        estimating = pool.submit(estimate_u, model, feats, tf, backend) if settings.estimate_u else None
        candidates = backend.block(feats, keys, max_block_size=settings.max_block_size)
        step("block")
        if estimating is not None:
            estimating.result()
    step("estimate")
    levels = setup.levels(candidates.pairs)
    step("compare")

    label_frame: pl.DataFrame | None = None
    labels = labels if labels is not None else settings.labels
    if labels is not None:
        raw = labels if isinstance(labels, pl.DataFrame) else read_labels(labels)
        label_frame = _label_positions(raw, setup.record_ids)
        if label_frame.height:
            # labelled pairs the blocking missed are compared too
            extra_pairs = label_frame.select("l", "r").join(candidates.pairs, on=["l", "r"], how="anti",
                                                            maintain_order="left")
            if extra_pairs.height:
                more = setup.levels(extra_pairs)
                levels = pl.concat([levels, more], how="vertical_relaxed")
            labelled = levels.join(label_frame, on=["l", "r"], how="inner")
            train_from_labels(model, labelled.drop("accepted"), labelled.get_column("accepted"))
    if settings.train == "em" or (settings.train == "auto" and _person_file(levels)):
        train_m_em(model, levels)
        fit_disagreements(model, backend.weigh(levels, model))
    scored = backend.weigh(levels, model).with_columns(
        calibrated(pl.col("weight"), setup.object_type).alias("calibrated"),
        _supported(settings, setup.comparisons).alias("supported"))
    step("score")

    # ---- clustering without chaining
    match_t, review_t = settings.thresholds.match, settings.thresholds.review
    if review_t > match_t:
        raise ConfigError("dedupe.thresholds.review must not exceed dedupe.thresholds.match")
    reviewable = review_score(settings) >= review_t
    mergeable = (pl.col("probability") >= match_t) & ~pl.col("review_only")
    mergeable = mergeable & pl.col("supported")
    edges = scored.filter(mergeable).select("l", "r", "probability")
    # cross-pair checks read the match weight of scored pairs inside components of 3+ records (in a
    # component of two there is no cross pair to check)
    component = _components(n, edges)
    comp_size = component.value_counts().filter(pl.col("count") >= 3).get_column(component.name)
    # (the weight as a cross pair, scoring.cross_weight, computed on those pairs only)
    cl = component.gather(scored.get_column("l"))
    inside = (cl == component.gather(scored.get_column("r"))) & cl.is_in(comp_size.implode())
    relevant = scored.filter(inside).select("l", "r", cross_weight(model).alias("weight"))
    evidence = _weights_by_pair(relevant)
    # the cross-pair bound asks the same evidence whatever the file's size (MatchModel.size_shift)
    min_cross = settings.min_cross_weight + model.size_shift()

    def score_missing(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        frame = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                             schema={"l": pl.UInt32, "r": pl.UInt32})
        s = setup.score(frame)
        # a pair only a steward may join (a branch question) is no cross pair to merge across either
        below = pl.min_horizontal("weight", pl.lit(min_cross - 1.0))
        s = s.with_columns(pl.when(pl.col("review_only")).then(below).otherwise(cross_weight(model)).alias("weight"))
        return _weights_by_pair(s)

    must = cannot = []
    if label_frame is not None and label_frame.height:
        must = [(int(a), int(b)) for a, b in label_frame.filter(pl.col("accepted")).select("l", "r").iter_rows()]
        cannot = [(int(a), int(b)) for a, b in label_frame.filter(~pl.col("accepted")).select("l", "r").iter_rows()]
    # a pair only a steward may join (a branch question) is not joined through a chain either, unless labelled
    steward_pairs = set(must) | set(cannot)
    waiting = [(int(a), int(b)) for a, b in scored.filter(pl.col("review_only")).select("l", "r").iter_rows()
               if (int(a), int(b)) not in steward_pairs]
    cannot = cannot + waiting
    # chain links whose end records disagree are refused: every pair in a cluster must clear the match
    # threshold by its own score (the record pair's weight, prior included)
    chain_weight = math.log2(chain_threshold / (1 - chain_threshold)) if chain_threshold and 0 < chain_threshold < 1 else None
    clustering = cluster_pairs(n, edges, evidence, score_missing, max_cluster_size=settings.max_cluster_size,
                               min_cross_weight=min_cross, must_link=must, cannot_link=cannot,
                               min_chain_weight=chain_weight, conflict_keys=(
                                   conflict_keys(setup.features) if setup.object_type == "companies" else []))
    step("cluster")

    label = pl.Series("root", clustering.labels, dtype=pl.UInt32)

    # ---- pair decisions
    same_cluster = (label.gather(scored.get_column("l")) == label.gather(scored.get_column("r"))).alias(
        "same_cluster")
    # the decisions and reasons are read only for the pairs written (a pair in one cluster, decision "match", is
    # written whatever its score): computed on those, not as text columns over every candidate pair
    written = (scored.get_column("probability") >= settings.pairs_min_score) | same_cluster
    keep = scored.filter(written)
    # every candidate pair's levels and weights are released here (the peak of a run: ~0.8 GB at 1M); what follows
    # reads the written pairs (keep), the columns below over every candidate pair, and the summary these columns
    scored = scored.select("l", "r", "weight", "probability", same_cluster)
    del levels
    # the golden records read only the table and the clusters: built on the other core while this thread decides
    # and writes out the pairs (polars releases the GIL; the pipeline otherwise leaves a core idle here). Started
    # once the candidate pairs' levels are released, so its memory does not add to that peak (+0.1 GB at 300k)
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        golden_job = pool.submit(
            golden_records, table.frame, label.cast(pl.String), id_column=table.id_column,
            data_columns=table.data_columns, roles=table.by_role, settings=settings.survivorship,
            region=rules.defaults.region if rules is not None else None)

        # a pair only a steward may join (a branch question) that no steward labelled is not "rejected": it waits
        waits = set(waiting)
        refused_reasons = ["a steward decides" if why == "rejected" and pair in waits else why
                           for pair, why in clustering.refused.items()]
        refused = pl.DataFrame(
            {"l": [a for a, _ in clustering.refused], "r": [b for _, b in clustering.refused],
             "reason": refused_reasons},
            schema={"l": pl.UInt32, "r": pl.UInt32, "reason": pl.String},
        )
        # the refusal's reason joined on the pair columns alone
        reason = scored.select("l", "r").join(refused, on=["l", "r"], how="left", maintain_order="left")
        # a pair left apart goes to review when its odds as a pair the clustering left apart reach the threshold
        scored = scored.with_columns(
            reason.get_column("reason"),
            calibrated(pl.col("weight"), setup.object_type, apart=True).alias("calibrated_apart"))
        if settings.thresholds.review_on != "score":
            scored = _cluster_review_odds(scored, label, evidence, score_missing, setup.object_type, review_t)
        # the written pairs' columns of these, in the same rows (a filter keeps the order)
        keep = keep.hstack(scored.filter(written).drop("l", "r", "weight", "probability"))
        scored = scored.select("l", "r", "probability", "same_cluster")

        keep = keep.with_columns(
            pl.when(pl.col("same_cluster")).then(pl.lit("match"))
            .when(review_score(settings, apart=True) >= review_t).then(pl.lit("review"))
            .when(pl.col("reason") == "rejected").then(pl.lit("no-match"))
            .otherwise(pl.lit("no-match")).alias("decision"),
        ).with_columns(
            pl.when(pl.col("decision") == "match").then(None)
            .when(pl.col("reason").is_not_null()).then(pl.col("reason"))
            .when((pl.col("probability") >= match_t) & pl.col("review_only")).then(pl.lit("a steward decides"))
            .when((pl.col("probability") >= match_t) & ~pl.col("supported")).then(pl.lit("names only"))
            .when(pl.col("probability") >= match_t).then(pl.lit("conflict"))
            .when(pl.col("decision") == "review").then(pl.lit("between thresholds"))
            .otherwise(None).alias("reason"),
        )
        # match score per record: its strongest link inside its cluster
        in_cluster = scored.filter(pl.col("same_cluster"))
        best = pl.concat([
            in_cluster.select(pl.col("l").alias(IDX), "probability"),
            in_cluster.select(pl.col("r").alias(IDX), "probability"),
        ]).group_by(IDX).agg(pl.col("probability").max().alias("match_score"))
        ids = setup.record_ids
        # the pair's own verdict (its own score, corroboration, vetoes) beside the cluster it ended in
        require = pl.col("supported")
        keep = keep.with_columns(
            pl.when(pl.col("vetoed")).then(pl.lit("no-match"))
            .when(pl.col("review_only") & reviewable).then(pl.lit("review"))
            .when((pl.col("probability") >= match_t) & require).then(pl.lit("match"))
            .when(reviewable).then(pl.lit("review"))
            .otherwise(pl.lit("no-match")).alias("pair_decision"),
        )
        # strongest first, ties in record order (the left, then the right record's position): a total order, so two
        # runs of one file write the pairs in one order
        keep = keep.sort("probability", "l", "r", descending=[True, False, False])
        # the written pairs' evidence (one polars select) beside the review and the blocking summary: this thread
        # is the longer one here, the golden records' may be done
        evidence_job = pool.submit(_evidence_json, keep, setup.comparisons, model.prior_weight)
        review = _review_frame(keep.filter(pl.col("decision") == "review"), setup, table, roots=label)
        blocking = _blocking_summary(candidates, label, label_frame,
                                     scored.filter(pl.col("probability") >= match_t).select("l", "r"))
        evidence_json = evidence_job.result()

        # ---- masters and golden records (cluster id = the master's record id)
        golden = golden_job.result()
    finally:  # on an error or Ctrl-C, do not wait for the golden records before the message
        pool.shutdown(wait=False, cancel_futures=True)
    # golden.masters: record_id, cluster_id (root as str), rank of every record, in the table's order (golden_records
    # keeps it): each record's master and cluster size read by position, not by joins on the text ids
    ranks = golden.masters
    rank = ranks.get_column("rank")
    roots = label.to_numpy().astype(np.int64)
    size = np.bincount(roots, minlength=n)
    master = np.zeros(n, dtype=np.int64)
    first = (rank == 0).to_numpy()
    master[roots[first]] = np.flatnonzero(first)  # the rank-0 record of each cluster, at its root
    match_score = pl.repeat(None, n, dtype=pl.Float64, eager=True).scatter(
        best.get_column(IDX), best.get_column("match_score"))
    clusters = pl.DataFrame({
        "record_id": setup.record_ids, "master_id": ranks.get_column("record_id").gather(master[roots]),
        "size": size[roots], "rank": rank, "match_score": match_score})
    golden_frame = golden.frame.with_columns(pl.col("master_id").alias("cluster_id"))
    clusters = clusters.with_columns(
        pl.when(pl.col("size") > 1).then(pl.col("master_id")).otherwise(pl.col("record_id")).alias("cluster_id"),
        pl.when(pl.col("size") <= 1).then(pl.lit("single"))
        .when(pl.col("rank") == 0).then(pl.lit("master")).otherwise(pl.lit("duplicate")).alias("cluster_role"),
    ).with_columns(
        pl.when(pl.col("cluster_role") == "single").then(None).otherwise(pl.col("match_score")).alias("match_score")
    ).select("record_id", "cluster_id", "cluster_role", "match_score")
    if setup.object_type == "companies":
        clusters = clusters.with_columns(_parent_ids(clusters.get_column("cluster_id"), feats))

    cluster_of = clusters.get_column("cluster_id")
    pairs_out = keep.select(
        ids.gather(keep.get_column("l")).alias("left_id"),
        ids.gather(keep.get_column("r")).alias("right_id"),
        pl.col("probability").round(4).alias("score"),
        pl.col("calibrated").round(4).alias("calibrated_score"),
        pl.col("weight").round(2).alias("match_weight"),
        pl.col("pair_decision").alias("decision"),
        pl.when(pl.col("same_cluster") & (pl.col("pair_decision") != "match"))
        .then(pl.lit("same cluster through other records")).otherwise(pl.col("reason")).alias("reason"),
        pl.col("same_cluster"),
        cluster_of.gather(keep.get_column("l")).alias("left_cluster_id"),
        cluster_of.gather(keep.get_column("r")).alias("right_cluster_id"),
        evidence_json,
    )
    step("write")

    multi = clusters.filter(pl.col("cluster_role") != "single")
    at_limit = int(((size > 0) & (size >= settings.max_cluster_size)).sum())  # clusters (by root) at the limit
    compared = candidates.pairs.height
    compare_seconds = timings.get("compare", 0) + timings.get("score", 0)
    summary = {
        "object": setup.object_type,
        "records": n,
        "clusters": multi.get_column("cluster_id").n_unique() if multi.height else 0,
        "duplicates": multi.filter(pl.col("cluster_role") == "duplicate").height,
        "records_in_clusters": multi.height,
        "candidate_pairs": compared,
        "possible_pairs": candidates.total_possible,
        "reduction_ratio": round(candidates.reduction_ratio, 8),
        "comparisons_per_second": round(compared / compare_seconds) if compare_seconds else None,
        "matched_pairs": int(scored.get_column("same_cluster").sum()),
        "review_pairs": review.height,
        "refused_merges": len(clustering.refused),
        "blocking": blocking,
        "clusters_at_size_limit": at_limit,
        "thresholds": {"match": match_t, "review": review_t},
        "trained": list(model.trained),
        "timings": timings,
    }
    return DedupeResult(clusters, pairs_out, golden_frame, review, [s.as_dict() for s in candidates.stats], model,
                        summary, setup)


def _weights_by_pair(frame: pl.DataFrame) -> dict[tuple[int, int], float]:
    """{(l, r): weight} of a frame's pairs, read as whole columns (not row by row: 71k pairs at 300k took ~1 s)."""
    pairs = zip(frame.get_column("l").to_list(), frame.get_column("r").to_list(), strict=True)
    return dict(zip(pairs, frame.get_column("weight").cast(pl.Float64).to_list(), strict=True))


def _cluster_review_odds(scored: pl.DataFrame, roots: pl.Series, evidence: dict[tuple[int, int], float],
                         score_missing: Callable[[list[tuple[int, int]]], dict[tuple[int, int], float]],
                         object_type: str, review_t: float) -> pl.DataFrame:
    """The review's odds of a pair left apart whose records' clusters hold other records: the two clusters'.

    A pair (a, b) refused because b's cluster holds a record c that contradicts a asks whether a belongs with b
    and c, so c's evidence counts (``clustering.cluster_odds``: the own weight plus every other cross pair's).
    Only pairs whose own odds reach the review threshold are read again (``calibrated_apart``, replaced by the
    clusters' odds, ``cluster_weight`` beside it): a pair is asked when it and its two clusters as a whole are
    both at least the threshold's odds. Two records on their own keep their own odds.
    """
    size = np.bincount(roots.to_numpy().astype(np.int64), minlength=roots.len())
    root_l, root_r = roots.gather(scored.get_column("l")), roots.gather(scored.get_column("r"))
    grouped = pl.Series(size[root_l.to_numpy()] + size[root_r.to_numpy()] > 2)
    ask = (~scored.get_column("same_cluster") & (scored.get_column("calibrated_apart") >= review_t) & grouped)
    rows = scored.select("l", "r", "weight").with_row_index("__row").filter(ask)
    if rows.height == 0:
        return scored.with_columns(pl.lit(None, dtype=pl.Float64).alias("cluster_weight"))
    pairs = [(int(a), int(b)) for a, b in rows.select("l", "r").iter_rows()]
    odds = cluster_odds(pairs, rows.get_column("weight").to_list(), roots.to_numpy(), evidence, score_missing)
    weight = pl.repeat(None, scored.height, dtype=pl.Float64, eager=True).alias("cluster_weight").scatter(
        rows.get_column("__row"), pl.Series(odds, dtype=pl.Float64))
    return scored.with_columns(weight).with_columns(
        pl.when(pl.col("cluster_weight").is_not_null())
        .then(calibrated(pl.col("cluster_weight"), object_type, apart=True))
        .otherwise(pl.col("calibrated_apart")).alias("calibrated_apart"))


def _blocking_summary(candidates: CandidatePairs, roots: pl.Series,
                      label_frame: pl.DataFrame | None, matched: pl.DataFrame) -> dict[str, Any]:
    """Blocking recall, per run: what the blocking could not have found.

    ``recall_labelled``: of the pairs a steward labelled as the same record, the share blocking made a
    candidate (None without labels). ``recall_in_clusters``: of the record pairs that ended in one
    cluster, the share compared directly (a pair joined only through a chain was never compared, a
    blocking miss the chain happened to repair). ``dropped_records`` / ``windowed_records``: records
    of oversized blocks not compared / compared only with their nearest neighbours by name.
    ``estimated_recall`` and ``keys``: from the pairs scored as matches (``matched``), which keys find them
    and a capture–recapture estimate of the pairs no key found (:meth:`CandidatePairs.key_recall`).
    """
    pairs = candidates.pairs
    recall_labelled = None
    if label_frame is not None and label_frame.height:
        acc = label_frame.filter(pl.col("accepted")).select("l", "r")
        if acc.height:
            hit = acc.join(pairs, on=["l", "r"], how="semi").height
            recall_labelled = round(hit / acc.height, 4)
    sizes = np.bincount(roots.to_numpy().astype(np.int64), minlength=roots.len())  # records per cluster, by root
    in_cluster = int((sizes * (sizes - 1) // 2).sum())
    compared_in = int((roots.gather(pairs.get_column("l")) == roots.gather(pairs.get_column("r"))).sum()) \
        if pairs.height else 0
    # records in some candidate pair: marked by position (hashing every pair's two ends for n_unique: ~8x the CPU)
    candidate = np.zeros(roots.len(), dtype=bool)
    candidate[pairs.get_column("l").to_numpy()] = True
    candidate[pairs.get_column("r").to_numpy()] = True
    return {
        "recall_labelled": recall_labelled,
        "recall_in_clusters": round(compared_in / in_cluster, 4) if in_cluster else None,
        "records_without_candidates": int(roots.len() - candidate.sum()),
        "dropped_records": sum(s.dropped_records for s in candidates.stats),
        "windowed_records": sum(s.windowed_records for s in candidates.stats),
        **candidates.key_recall(matched),
    }


def _parent_ids(cluster_ids: pl.Series, feats: pl.DataFrame) -> pl.Series:
    """Branch hierarchy: for clusters of one legal entity (branches kept apart), the head's id.

    A legal entity is its INN, else its family (``companies.registration_features``: a record without INN on a
    domain only that INN's records use), so a branch record that lost its INN is linked too. The head cluster is
    the one holding a head-office KPP (reason code 01), else one with no KPP at all, else the first; every other
    cluster of that entity gets ``parent_id`` = the head's cluster id. Pairs of two registrations (``registration``
    levels other_*) are not review questions: this link is where they show.
    """
    inn = feats.select(pl.coalesce(["inn", "family"]) if "family" in feats.columns else pl.col("inn")).to_series()
    frame = pl.DataFrame({"cluster_id": cluster_ids, "inn": inn, "kpp": feats.get_column("kpp")})
    per = (frame.drop_nulls("inn").group_by("inn", "cluster_id", maintain_order=True)
           .agg((pl.col("kpp").str.slice(4, 2) == "01").any().alias("head_kpp"),
                pl.col("kpp").is_null().all().alias("no_kpp")))
    multi = per.filter(pl.col("cluster_id").n_unique().over("inn") >= 2)
    if multi.height == 0:
        return pl.Series("parent_id", [None] * len(cluster_ids), dtype=pl.String)
    heads = (multi.sort(["head_kpp", "no_kpp"], descending=True, maintain_order=True)
             .group_by("inn", maintain_order=True).agg(pl.col("cluster_id").first().alias("head")))
    links = (multi.join(heads, on="inn", maintain_order="left").filter(pl.col("cluster_id") != pl.col("head"))
             .group_by("cluster_id").agg(pl.col("head").first().alias("parent_id")))
    return (pl.DataFrame({"cluster_id": cluster_ids})
            .join(links, on="cluster_id", how="left", maintain_order="left").get_column("parent_id"))


def _components(n: int, edges: pl.DataFrame) -> pl.Series:
    """Connected component (smallest member position) of every record over the matched edges."""
    labels = connected_components(n, edges.get_column("l").to_numpy(), edges.get_column("r").to_numpy())
    return pl.Series("component", labels, dtype=pl.UInt32)


_REVIEW_FIELDS = (("name", "name_display"), ("email", "email"), ("phone", "phones"), ("company", "company_text"),
                  ("city", "city"))


# the roles whose values a steward typed, per review field / comparison (shown beside the match keys)
_ORIGINAL_ROLES: dict[str, tuple[str, ...]] = {
    "name": ("full_name", "last_name", "first_name", "middle_name"), "first_name": ("first_name",),
    "last_name": ("last_name",), "middle_name": ("middle_name",), "email": ("email", "email2"),
    "phone": ("phone", "mobile", "phone2"), "company": ("company",), "city": ("city",), "job_title": ("job_title",),
    "inn": ("inn",), "kpp": ("kpp",), "domain": ("website", "email"), "entity_type": ("legal_form",),
    "branch": ("company", "kpp"),
}


def original_values(table: Any, field_name: str, rows: pl.Series | None = None) -> pl.Series | None:
    """The values as typed in the source for a review field or comparison (several columns joined), or None.

    A name shows the full-name column when there is one, else last, first and middle name as written; an
    auto comparison on a raw column (birthdate, zip, address ...) shows that column. ``rows``: of these record
    positions only, in their order (the review's few pairs, not the whole table).
    """
    if table is None or not hasattr(table, "by_role"):
        return None
    by_role = table.by_role
    roles = _ORIGINAL_ROLES.get(field_name, (field_name,))
    cols = [c for role in roles for c in by_role.get(role, [])]
    if field_name == "name" and by_role.get("full_name"):
        cols = by_role["full_name"][:1]
    cols = [c for c in dict.fromkeys(cols) if c in table.frame.columns]
    if not cols:
        return None
    source = table.frame.select(cols)
    frame = (source if rows is None else source[rows]).select(pl.concat_str(
        [pl.col(c).cast(pl.String).str.strip_chars() for c in cols], separator=" ", ignore_nulls=True).alias(field_name))
    values = frame.to_series()
    return values.replace("", None)


def _review_frame(rows: pl.DataFrame, setup: MatchSetup, table: Any = None,
                  roots: pl.Series | None = None) -> pl.DataFrame:
    """Review queue: question, pair, score (and ``review_score``, the odds the queue read), why, both records'
    fields side by side (as typed, and the match keys beside them as ``*_key``), and an empty label column.

    ``question_id`` (with the clusters ``roots``): the pairs that ask where one record belongs are one question
    (``clustering.review_questions``), listed together, the question with the strongest pair first."""
    ids = setup.record_ids
    feats = setup.features
    if roots is not None:
        question = review_questions(rows.get_column("l").to_numpy(), rows.get_column("r").to_numpy(),
                                    roots.to_numpy())
        rows = (rows.with_columns(pl.Series("question_id", question, dtype=pl.Int64))
                .with_row_index("__order").sort("question_id", "__order").drop("__order"))
    cols: list[pl.Series] = [
        *([rows.get_column("question_id")] if "question_id" in rows.columns else []),
        ids.gather(rows.get_column("l")).alias("left_id"),
        ids.gather(rows.get_column("r")).alias("right_id"),
        rows.get_column("probability").round(4).alias("score"),
        rows.get_column("calibrated").round(4).alias("calibrated_score"),
        # the odds the queue read: the pair's own as a pair left apart, or its two clusters' (_cluster_review_odds)
        *([rows.get_column("calibrated_apart").round(4).alias("review_score")] if "calibrated_apart" in rows.columns
          else []),
        rows.get_column("reason").alias("reason"),
        pl.Series("label", [""] * rows.height, dtype=pl.String),
    ]
    for name, col in _REVIEW_FIELDS:
        for side in ("l", "r"):
            s = feats.get_column(col).gather(rows.get_column(side))
            if s.dtype == pl.List(pl.String):
                s = s.list.join(", ")
            prefix = f"{'left' if side == 'l' else 'right'}_{name}"
            typed = original_values(table, name, rows.get_column(side))
            if typed is not None:
                cols.append(typed.alias(prefix))
                cols.append(s.alias(f"{prefix}_key"))
            else:
                cols.append(s.alias(prefix))
    summary = rows.select(pl.concat_str([
        pl.when(pl.col(f"lvl__{c.name}").is_not_null()).then(
            pl.lit(c.name + "=") + pl.col(f"lvl__{c.name}").replace_strict(
                {i: lv.name for i, lv in enumerate(c.levels)}, default="?", return_dtype=pl.String)
            + pl.lit("(") + pl.col(f"w__{c.name}").round(1).cast(pl.String) + pl.lit(")"))
        for c in setup.comparisons
    ], separator=" ", ignore_nulls=True).alias("evidence")).to_series()
    cols.append(summary)
    return pl.DataFrame(cols)


# ---------------------------------------------------------------- link (pre-import check)


def link(
    source_table: Any,
    other_table: Any,
    rules: RulesFile | None = None,
    *,
    source_profile: pl.DataFrame | None = None,
    other_profile: pl.DataFrame | None = None,
    object_type: str | None = None,
    backend: MatchBackend | None = None,
) -> LinkResult:
    """Which rows of ``source_table`` already exist in ``other_table`` (best match per source row)."""
    backend = backend or get_backend()
    settings = _settings(rules)
    obj = resolve_object(source_table, settings, object_type)
    extra_s, custom = _extra_columns(source_table, settings)
    extra_o, _ = _extra_columns(other_table, settings)
    fs = _features(source_table, _profile(source_table, rules, source_profile), extra_s, obj)
    fo = _features(other_table, _profile(other_table, rules, other_profile), extra_o, obj)
    n_source = fs.height
    feats = pl.concat([fs, fo], how="diagonal_relaxed").with_columns(
        pl.int_range(0, fs.height + fo.height, dtype=pl.UInt32).alias(IDX))
    comps = _comparisons(obj, settings, feats) + custom
    # prior: each source row has at most one counterpart among the other table's rows
    prior = min(0.5, settings.duplicate_rate * 2 / max(fo.height, 1))
    model = MatchModel.default(comps, feats.height, prior=prior)
    tf = backend.term_frequencies(feats)
    if settings.estimate_u:
        estimate_u(model, feats, tf, backend)
    keys = _blocking_keys(obj, settings, feats)
    candidates = backend.block(feats, keys, max_block_size=settings.max_block_size, link_boundary=n_source)
    scored = backend.weigh(backend.compare(feats, candidates.pairs, comps, tf), model).with_columns(
        calibrated(pl.col("weight"), obj).alias("calibrated"))
    match_t, review_t = settings.thresholds.match, settings.thresholds.review
    ids = feats.get_column("record_id")
    # per source row its strongest pair, of tied ones the other table's first record (a total order: the same pick
    # on every run)
    best = scored.sort("probability", "l", "r", descending=[True, False, False]).unique(
        subset=["l"], keep="first", maintain_order=True)
    best = best.filter((pl.col("probability") >= settings.pairs_min_score) | (review_score(settings) >= review_t))
    matches = best.select(
        ids.gather(best.get_column("l")).alias("source_id"),
        ids.gather(best.get_column("r")).alias("other_id"),
        pl.col("probability").round(4).alias("score"),
        pl.col("calibrated").round(4).alias("calibrated_score"),
        pl.when(pl.col("probability") >= match_t).then(pl.lit("match"))
        .when(review_score(settings) >= review_t).then(pl.lit("review")).otherwise(pl.lit("no-match"))
        .alias("decision"),
    ).with_columns(_evidence_json(best, comps, model.prior_weight))
    existing = int((matches.get_column("decision") == "match").sum())
    to_review = int((matches.get_column("decision") == "review").sum())
    summary = {
        "object": obj,
        "source_records": n_source,
        "other_records": fo.height,
        "candidate_pairs": candidates.pairs.height,
        "existing": existing,
        "review": to_review,
        "new": n_source - existing - to_review,
    }
    return LinkResult(matches, [s.as_dict() for s in candidates.stats], summary)


# ---------------------------------------------------------------- explain


def explain_pair(
    table: Any,
    id1: str,
    id2: str,
    rules: RulesFile | None = None,
    *,
    profile: pl.DataFrame | None = None,
    object_type: str | None = None,
    setup: MatchSetup | None = None,
) -> Explanation:
    """The per-field evidence for two records as a waterfall (prior + each field = match weight)."""
    setup = setup or prepare(table, rules, profile=profile, object_type=object_type)
    if setup.settings.estimate_u and "u:random-pairs" not in setup.model.trained:
        estimate_u(setup.model, setup.features, setup.tf, setup.backend)
    ids = setup.record_ids
    positions = []
    for rid in (id1, id2):
        hits = (ids == rid).arg_true()
        if len(hits) == 0:
            raise UsageError(f"record id {rid!r} not found in {getattr(table, 'source', 'the source')}",
                             hint=f"ids come from column {getattr(table, 'id_column', 'id')!r}")
        positions.append(int(hits[0]))
    a, b = positions
    if a == b:
        raise UsageError("--explain needs two different record ids")
    pairs = pl.DataFrame({"l": [a], "r": [b]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    levels, values = setup.backend.explain(setup.features, pairs, setup.comparisons, setup.tf)
    scored = setup.backend.weigh(levels, setup.model)
    row = scored.row(0, named=True)
    shown = {name: (left[0], right[0]) for name, (left, right) in values.items()}
    typed: dict[str, tuple[Any, Any]] = {}
    for comp in setup.comparisons:
        orig = original_values(table, comp.name, pl.Series([a, b], dtype=pl.UInt32))
        if orig is not None:
            typed[comp.name] = (orig[0], orig[1])
    th = setup.settings.thresholds
    cal = calibrated(pl.lit(float(row["weight"])), setup.object_type)
    apart = calibrated(pl.lit(float(row["weight"])), setup.object_type, apart=True)
    return explanation_from_row(row, setup.comparisons, shown, id1, id2, setup.model.prior_weight,
                                match_threshold=th.match, review_threshold=th.review, original=typed,
                                calibrated=float(pl.select(cal).item()), review_on=th.review_on,
                                calibrated_apart=float(pl.select(apart).item()),
                                refuting=refuting_levels(setup.model))
