"""The messy CRM data generator: deterministic, ground truth aligned, realistic headers and mess."""

from __future__ import annotations

import polars as pl

from crmclean.roles import detect_roles
from crmclean.testing.generate import (
    cluster_pairs,
    contact_headers,
    generate_companies,
    generate_contacts,
    pairwise_scores,
    true_pairs,
)


def test_deterministic_and_aligned() -> None:
    a, ta = generate_contacts(500, seed=1)
    b, tb = generate_contacts(500, seed=1)
    c, _ = generate_contacts(500, seed=2)
    assert a.equals(b) and ta.equals(tb) and not a.equals(c)
    assert a.height == 500 and ta.height == 500
    assert a["Id"].to_list() == ta["record_id"].to_list()
    assert all(dt == pl.String for dt in a.dtypes)
    dup_share = 1 - ta["entity_id"].n_unique() / ta.height
    assert 0.15 < dup_share < 0.35


def test_header_styles_are_recognized_by_role_detection() -> None:
    for style in ("ru", "en", "ru_split", "mixed"):
        frame, _ = generate_contacts(50, seed=3, headers=style)
        roles = detect_roles(frame.columns)
        wanted = contact_headers(style)
        for role, header in wanted.items():
            if role == "id":
                continue
            assert roles.get(header) in (role, {"email": "email2", "phone": "mobile"}.get(role)), (style, header)


def test_mess_is_present() -> None:
    frame, truth = generate_contacts(3000, seed=4)
    names = frame["ФИО"].drop_nulls()
    assert names.str.contains(r"^[A-Za-z]").any() and names.str.contains(r"^[А-ЯЁ]").any()  # RU and EN, translit
    assert names.str.contains(r"^[А-ЯЁ][а-яё]+ [А-ЯЁ]\.").any()  # "Иванов И.И."
    phones = frame["Телефон"].drop_nulls()
    assert phones.str.starts_with("8").any() and phones.str.starts_with("+7").any()
    # office switchboards shared by several people (different entities)
    shared = frame.with_columns(truth["entity_id"]).drop_nulls("Телефон").with_columns(
        pl.col("Телефон").str.replace_all(r"\D", "").str.slice(-10).alias("p")
    ).group_by("p").agg(pl.col("entity_id").n_unique().alias("people"))
    assert shared["people"].max() >= 5
    assert frame["Компания"].drop_nulls().str.contains("ООО").any()
    assert frame["Email"].drop_nulls().str.contains("gmail.com").any()


def test_truth_helpers() -> None:
    _, truth = generate_contacts(300, seed=5)
    pairs = true_pairs(truth)
    ids = truth["record_id"].to_list()
    perfect = cluster_pairs(ids, [str(e) for e in truth["entity_id"].to_list()])
    assert perfect == pairs
    assert pairwise_scores(perfect, pairs)["f1"] == 1.0
    assert pairwise_scores(set(), pairs)["recall"] == 0.0


def test_companies_generator() -> None:
    frame, truth = generate_companies(400, seed=6)
    assert frame.height == 400 and "ИНН" in frame.columns
    assert true_pairs(truth)
    en, _ = generate_companies(50, seed=6, headers="en")
    assert "Account Name" in en.columns


def test_companies_chain_locations_abroad() -> None:
    from crmclean.fields.taxid import registration_ids

    plain, plain_truth = generate_companies(600, seed=6)
    # chain_rate 0 is the classic set, byte for byte
    again, again_truth = generate_companies(600, seed=6, chain_rate=0.0)
    assert plain.equals(again) and plain_truth.equals(again_truth)
    frame, truth = generate_companies(600, seed=6, chain_rate=0.2)
    rows = frame.join(truth, left_on="Id", right_on="record_id")
    foreign = rows.filter(pl.col("ИНН").is_not_null() & ~pl.col("ИНН").str.contains(r"^\d{10}$"))
    assert foreign.height and registration_ids(foreign["ИНН"], pl.Series(["US"] * foreign.height)).null_count() \
        < foreign.height
    assert foreign.get_column("КПП").null_count() == foreign.height  # no KPP abroad
    # a location: its own entity, linked to the chain's first location, with the first's site and number
    locations = rows.filter(pl.col("parent_id").is_not_null() & pl.col("ИНН").str.contains("[A-Z-]"))
    assert locations.height
    firsts = rows.filter(pl.col("entity_id").is_in(locations["parent_id"].unique().implode()))
    assert set(firsts["ИНН"].drop_nulls().str.replace_all(r"[\s-]", "").str.replace("^[A-Z]{2}", "")) & set(
        locations["ИНН"].drop_nulls().str.replace_all(r"[\s-]", "").str.replace("^[A-Z]{2}", ""))
