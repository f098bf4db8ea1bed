"""Blocking: candidate pairs from several keys; oversized blocks (a switchboard) are split, not compared blindly."""

from __future__ import annotations

import polars as pl
from _match_helpers import table_from_frame, table_from_rows

from crmclean.matching.backends.polars import block_pairs
from crmclean.matching.engine import prepare
from crmclean.matching.features import IDX
from crmclean.matching.library import BlockingKey, contacts_blocking_keys
from crmclean.testing.generate import generate_contacts, true_pairs


def _office(n: int) -> list[dict[str, str]]:
    first = ["Иван", "Пётр", "Анна", "Мария", "Олег", "Ольга", "John", "Kate", "Robert", "Linda"]
    last = ["Смирнов", "Кузнецов", "Попова", "Лебедева", "Козлов", "Новикова", "Smith", "Brown", "Wilson", "Taylor"]
    return [{"Id": str(i), "First Name": first[i % 10], "Last Name": f"{last[(i // 10) % 10]}",
             "Phone": "+7 (495) 100-00-00", "Company": "ООО Ромашка"} for i in range(n)]


def test_switchboard_block_is_split_and_reported() -> None:
    setup = prepare(table_from_rows(_office(300)))
    keys = [k for k in contacts_blocking_keys() if k.name == "phone"]
    result = block_pairs(setup.features, keys, max_block_size=50)
    st = result.stats[0]
    assert st.oversized_blocks == 1 and st.split_blocks >= 1
    # all-pairs would be 300*299/2 = 44850; splitting by surname keeps it to colleagues with one surname
    assert result.pairs.height < 44850 / 5
    assert st.largest_block <= 50


def test_block_still_too_big_after_refinement_is_dropped_by_a_key_without_window() -> None:
    setup = prepare(table_from_rows(_office(120)))
    key = BlockingKey("phone_only", ("phones",), refine=(), min_length=7, window=0)
    result = block_pairs(setup.features, [key], max_block_size=50)
    assert result.pairs.height == 0
    assert result.stats[0].dropped_blocks == 1 and result.stats[0].dropped_records == 120


def test_default_keys_find_nearly_all_true_pairs_with_few_comparisons() -> None:
    frame, truth = generate_contacts(3000, seed=11)
    setup = prepare(table_from_frame(frame))
    result = block_pairs(setup.features, contacts_blocking_keys())
    ids = setup.record_ids
    got = {tuple(sorted(p)) for p in zip(ids.gather(result.pairs["l"]).to_list(),
                                        ids.gather(result.pairs["r"]).to_list(), strict=True)}
    wanted = true_pairs(truth)
    assert len(wanted & got) / len(wanted) > 0.98
    assert result.reduction_ratio > 0.99
    assert {s.key for s in result.stats} >= {"email", "phone", "name", "company_name"}


def test_link_mode_only_pairs_across_sources() -> None:
    setup = prepare(table_from_rows(_office(20)))
    result = block_pairs(setup.features, contacts_blocking_keys(), link_boundary=10)
    assert result.pairs.height > 0
    assert result.pairs.filter((pl.col("l") >= 10) | (pl.col("r") < 10)).height == 0


def test_block_too_big_after_refinement_is_windowed_not_dropped_by_default() -> None:
    setup = prepare(table_from_rows(_office(120)))
    key = BlockingKey("phone_only", ("phones",), refine=(), min_length=7)  # as a rules-file key: no window given
    result = block_pairs(setup.features, [key], max_block_size=50)
    st = result.stats[0]
    assert st.dropped_blocks == 0 and st.dropped_records == 0
    assert st.windowed_blocks == 1 and st.windowed_records == 120
    # every record is compared with its neighbours by name, and the pairs grow linearly, not 120*119/2
    compared = set(result.pairs.get_column("l").to_list()) | set(result.pairs.get_column("r").to_list())
    assert compared == set(range(120))
    assert result.pairs.height <= 120 * 6


def test_default_keys_have_windows_and_combine_company_surname_city_translit() -> None:
    keys = {k.name: k for k in contacts_blocking_keys()}
    assert {"company_surname", "surname_city", "translit_name"} <= set(keys)
    assert keys["company_surname"].columns == ("company_key", "ln_ph")
    assert all(k.window >= 2 for k in contacts_blocking_keys())


def test_run_summary_reports_blocking_recall() -> None:
    from crmclean.matching import dedupe

    frame, truth = generate_contacts(600, seed=5)
    table = table_from_frame(frame, object_type="contacts")
    wanted = sorted(true_pairs(truth))[:40]
    labels = pl.DataFrame({"left_id": [a for a, _ in wanted], "right_id": [b for _, b in wanted],
                           "accepted": [True] * len(wanted)})
    result = dedupe(table, None, labels=labels)
    b = result.summary["blocking"]
    assert 0.9 <= b["recall_in_clusters"] <= 1.0
    assert 0.9 <= b["recall_labelled"] <= 1.0
    assert b["dropped_records"] == 0
    assert b["records_without_candidates"] >= 0


def test_key_recall_shares_and_capture_recapture_estimate() -> None:
    from crmclean.matching.backend import CandidatePairs

    def codes(pairs: list[tuple[int, int]]) -> pl.Series:
        return pl.Series([a * (1 << 32) + b for a, b in pairs], dtype=pl.UInt64)

    # six matched pairs: (0,1) (2,3) found by both keys, (4,5) (6,7) by a only, (8,9) by b only, (10,11) by none
    found = pl.DataFrame({"l": [0, 2, 4, 6, 8, 10], "r": [1, 3, 5, 7, 9, 11]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    cands = CandidatePairs(pl.DataFrame(), key_codes={"a": codes([(0, 1), (2, 3), (4, 5), (6, 7), (20, 21)]),
                                                      "b": codes([(0, 1), (2, 3), (8, 9)])})
    out = cands.key_recall(found)
    assert out["keys"]["a"] == {"found": round(4 / 6, 4), "only": round(2 / 6, 4)}
    assert out["keys"]["b"] == {"found": round(3 / 6, 4), "only": round(1 / 6, 4)}
    assert (out["found_by_one_key"], out["found_by_two_keys"]) == (3, 2)
    # Chao: unseen = (t-1)/t * f1^2 / (2 f2) = 1/2 * 9/4 = 1.125; recall = 5 / 6.125
    assert out["estimated_recall"] == round(5 / 6.125, 4)
    assert out["recall_low"] == round(5 / (5 + 3 / 2), 4)  # jackknife: f1 * (t-1)/t = 1.5 unseen
    assert CandidatePairs(pl.DataFrame()).key_recall(found)["estimated_recall"] is None



def test_office_line_split_by_any_name_sound_keeps_typos_and_swapped_names_together() -> None:
    # 40 colleagues on one office line (10 given names x 4 surnames), then three records of people already there:
    # a surname typo (Смирнов -> Смирнок), given and family name swapped, a new surname (Анна Смирнова -> Жукова)
    line = "+7 (495) 100-00-00"
    rows = [
        *_office(40),
        {"Id": "typo", "First Name": "Иван", "Last Name": "Смирнок", "Phone": line},
        {"Id": "swap", "First Name": "Смирнов", "Last Name": "Иван", "Phone": line},
        {"Id": "new", "First Name": "Анна", "Last Name": "Жукова", "Phone": line},
    ]
    setup = prepare(table_from_rows(rows))
    ids = setup.record_ids.to_list()
    phone = next(k for k in contacts_blocking_keys() if k.name == "phone")
    assert isinstance(phone.refine[0], tuple)  # the default splits a shared line by any of the names' sounds
    by_surname = BlockingKey("phone", ("phones",), refine=("ln_ph", "fn_canon"), min_length=7, max_block_size=6)

    def pairs(key: BlockingKey) -> set[tuple[str, str]]:
        result = block_pairs(setup.features, [key])
        return {(min(ids[a], ids[b]), max(ids[a], ids[b])) for a, b in result.pairs.select("l", "r").iter_rows()}

    got, old = pairs(phone), pairs(by_surname)
    same_person = {("0", "typo"), ("0", "swap"), ("2", "new")}
    assert same_person <= got
    assert not {("0", "typo"), ("2", "new")} & old  # splitting by surname alone loses them
    assert len(got) < 903 / 3  # far fewer than all 43 * 42 / 2 pairs of the line


def test_refine_by_any_of_several_columns_across_columns_and_blanks() -> None:
    feats = pl.DataFrame({
        IDX: pl.Series([0, 1, 2, 3, 4], dtype=pl.UInt32),
        "k": ["same"] * 5,
        "a": ["x", "y", None, None, "q"],
        "b": ["y", "z", None, None, None],
    })
    key = BlockingKey("t", ("k",), refine=(("a", "b"),), max_block_size=2, window=0)
    result = block_pairs(feats, [key])
    # 0 and 1 share "y" (in a on one side, b on the other); 2 and 3 have neither and keep a sub-block of their own
    assert sorted(result.pairs.select("l", "r").iter_rows()) == [(0, 1), (2, 3)]
    assert result.stats[0].dropped_blocks == 0


def test_pairs_within_blocks_by_index_arithmetic_equal_the_filtered_self_join() -> None:
    """_later_pairs (sorted rows, each paired with the later members of its block) gives the multiset of pairs the
    self-join on the block filtered to l < r gives, records repeated in a block and singleton blocks included."""
    import random

    from crmclean.matching.backends.polars.blocking import _later_pairs
    from crmclean.matching.features import IDX

    rng = random.Random(3)
    for _ in range(40):
        rows = rng.randint(0, 30)
        blocks = pl.DataFrame({IDX: [rng.randint(0, 12) for _ in range(rows)],
                               "block": [rng.randint(0, 6) for _ in range(rows)]},
                              schema={IDX: pl.UInt32, "block": pl.UInt64})
        joined = blocks.rename({IDX: "l"}).join(blocks.rename({IDX: "r"}), on="block").filter(pl.col("l") < pl.col("r"))
        got = _later_pairs(blocks)
        assert got.schema == {"l": pl.UInt32, "r": pl.UInt32}
        assert got.sort("l", "r").equals(joined.select("l", "r").sort("l", "r"))
