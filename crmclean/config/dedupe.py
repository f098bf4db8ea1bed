"""The ``dedupe:`` section of the rules file: thresholds, blocking, comparisons, clustering and survivorship."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MasterRuleName = Literal[
    "most_complete", "oldest", "newest", "most_recently_modified", "source_priority", "field_order", "first"
]
FieldRuleName = Literal[
    "master", "master_only", "first_non_empty", "most_recent", "most_frequent", "longest", "max", "min",
    "concat_unique", "keep_all",
]
ComparisonType = Literal["exact", "jaro_winkler", "levenshtein", "date"]


class ThresholdSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: float = Field(0.9, ge=0, le=1, description="Match probability (the model's `score`) at or above which a "
                                                       "pair is merged.")
    review: float = Field(
        0.5, ge=0, le=1,
        description="A pair that is not merged goes to the review queue when its calibrated odds as a pair the "
                    "clustering left apart (how often such a pair, not merged, is really one record: lower than its "
                    "`calibrated_score` in --pairs) are at least this, and so are the odds of the two records' "
                    "clusters as a whole when either holds other records (every cross pair's evidence counts: a "
                    "record that contradicts the cluster's other records is no question; review.csv "
                    "`review_score`); 0.5 = even odds.",
    )
    review_on: Literal["calibrated", "score"] = Field(
        "calibrated", description="Which score the review threshold reads: calibrated (default) or score (the "
                                  "model's probability: the review band of earlier versions).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdSettings:
        if self.review > self.match:
            raise ValueError("review must not exceed match")
        return self


class ComparisonSettings(BaseModel):
    """Override a built-in comparison (first_name, email, company ...) or add one on any column."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Set false to ignore this field when scoring.")
    column: str | None = Field(None, description="Source column for a custom comparison (not needed for built-ins).")
    type: ComparisonType | None = Field(
        None, description="Custom comparison: exact, jaro_winkler, levenshtein (digits/ids) or date."
    )
    thresholds: list[float] | None = Field(
        None, description="jaro_winkler similarity thresholds (e.g. [0.92, 0.8]) or levenshtein distances ([1, 2])."
    )
    m: dict[str, float] = Field(default_factory=dict, description="m probability per level name, e.g. {exact: 0.9}.")
    u: dict[str, float] = Field(default_factory=dict, description="u probability per level name (non-tf levels).")

    @model_validator(mode="after")
    def _custom_needs_both(self) -> ComparisonSettings:
        # a built-in override gives neither; a custom comparison needs both
        if (self.column is None) != (self.type is None):
            raise ValueError("a custom comparison needs both `column` and `type`")
        return self


class BlockingKeySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Built-in key name (email, phone, name ...) or a new name.")
    columns: list[str] | None = Field(
        None, description="Feature or source columns forming the key (new keys only)."
    )
    refine: list[str] = Field(default_factory=list, description="Columns that split an oversized block, in order.")
    max_block_size: int | None = Field(None, ge=2, description="Largest block compared all-pairs for this key.")


class SurvivorshipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    master: list[MasterRuleName] = Field(
        default=["most_complete", "oldest"],
        description="Master record rule and tie-breakers, in order (last resort: first in the file).",
    )
    source_column: str | None = Field(None, description="Column used by the source_priority master rule.")
    source_priority: list[str] = Field(
        default_factory=list, description="Values of source_column, best first (e.g. [Salesforce, Import])."
    )
    order_column: str | None = Field(None, description="Column used by the field_order master rule.")
    order_values: list[str] = Field(
        default_factory=list, description="Values of order_column, best first (e.g. [Customer, Prospect])."
    )
    fields: dict[str, FieldRuleName] = Field(
        default_factory=dict,
        description="Column -> rule: master, master_only, first_non_empty, most_recent, most_frequent, longest, "
                    "max, min, concat_unique (notes, tags), keep_all (phones, emails as extra values).",
    )
    default: FieldRuleName = Field("master", description="Rule for columns not listed in fields.")


class DedupeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object: Literal["contacts", "leads", "companies"] | None = Field(
        None, description="Compare as people (contacts, leads) or companies; detected from columns when absent."
    )
    thresholds: ThresholdSettings = Field(default_factory=ThresholdSettings)
    blocking: list[BlockingKeySettings] | None = Field(
        None, description="Blocking keys to use (default: the built-in keys for the object type)."
    )
    max_block_size: int = Field(200, ge=2, description="Blocks larger than this are split by refinement; what is still too big is compared as a "
                                "sorted neighbourhood (each record with its nearest neighbours by name), or dropped and "
                                "counted for a key with window: 0.")
    comparisons: dict[str, ComparisonSettings] = Field(
        default_factory=dict, description="Per-field comparison overrides and custom comparisons, by name."
    )
    duplicate_rate: float = Field(
        0.15, gt=0, le=5, description="Expected duplicate pairs per record: sets the prior match probability."
    )
    estimate_u: bool = Field(True, description="Refine u probabilities from random record pairs (no labels needed).")
    train: Literal["auto", "none", "em"] = Field(
        "auto", description="How m probabilities are fitted without labels. em: by EM on the candidate pairs, in "
                            "sessions (pairs agreeing on one field train the others), then how many fields a matching pair "
                            "gets wrong (a register typed with one error per copy: one field wrong is a duplicate, two "
                            "is not); none: the built-in values; auto: "
                            "em for a person file (no candidate pair has an e-mail, phone, company or INN to compare: "
                            "names, birth dates, addresses), the built-in values for a CRM export (fitted on labelled "
                            "RU/EN CRM data).")
    max_cluster_size: int = Field(25, ge=2, description="Merges that would grow a cluster past this go to review.")
    min_cross_weight: float = Field(
        -5.0, description="A merge is refused when any cross pair's match weight (bits, prior included) is below "
                          "this (-5 is a probability of about 3 %): no chaining of strangers. In a file of over 20,000 "
                          "records the bound moves down by what the prior lost to the file's size, so a large file "
                          "asks the same evidence of a cross pair as a small one.",
    )
    require_corroboration: bool = Field(
        True, description="Names alone never merge: a match also needs agreement on email, phone, company, INN or "
                          "another identifying field; name-only pairs go to review (but see uncontested_names).",
    )
    uncontested_names: bool = Field(
        True, description="With require_corroboration: a names-only pair above the match threshold still merges "
                          "when no field speaks against it (no other e-mail, phone, company, city, title or "
                          "patronymic): a rare full name nothing contradicts. false: such pairs go to review.",
    )
    pairs_min_score: float = Field(0.01, ge=0, le=1, description="Lowest probability written to --pairs.")
    labels: str | None = Field(None, description="Reviewed pairs CSV (left_id, right_id, label accept/reject).")
    survivorship: SurvivorshipSettings = Field(default_factory=SurvivorshipSettings)
