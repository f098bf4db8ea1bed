"""Clustering does not chain strangers: a shared switchboard or A~B, B~C with A≠C never forces one cluster."""

from __future__ import annotations

import polars as pl
import pytest
from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.calibration import calibrated
from crmclean.matching.clustering import cluster_odds, cluster_pairs
from crmclean.matching.scoring import cross_weight


def _edges(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64}, orient="row")


def test_a_b_and_b_c_do_not_force_a_c_when_they_disagree() -> None:
    edges = _edges([(0, 1, 0.99), (1, 2, 0.97)])
    evidence = {(0, 1): 20.0, (1, 2): 18.0, (0, 2): -12.0}
    result = cluster_pairs(3, edges, evidence, lambda pairs: {})
    assert result.labels[0] == result.labels[1]
    assert result.labels[2] != result.labels[0]
    assert result.refused[(1, 2)] == "conflict"


def test_unscored_cross_pairs_are_scored_before_merging() -> None:
    edges = _edges([(0, 1, 0.99), (1, 2, 0.97)])
    asked: list[tuple[int, int]] = []

    def score(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        asked.extend(pairs)
        return dict.fromkeys(pairs, 5.0)

    result = cluster_pairs(3, edges, {(0, 1): 20.0, (1, 2): 18.0}, score)
    assert (0, 2) in asked
    assert len(set(result.labels)) == 1


def test_size_limit_and_steward_decisions() -> None:
    edges = _edges([(i, i + 1, 0.99) for i in range(5)])
    result = cluster_pairs(6, edges, {}, lambda p: dict.fromkeys(p, 5.0), max_cluster_size=3,
                           cannot_link=[(0, 1)], must_link=[(4, 5)])
    assert result.labels[0] != result.labels[1]  # rejected by a steward
    assert result.labels[4] == result.labels[5]  # accepted by a steward
    assert "size" in result.refused.values()
    assert max(result.labels.count(x) for x in set(result.labels)) <= 3


def test_colleagues_sharing_the_office_phone_stay_apart() -> None:
    office = "+7 (495) 926-11-00"
    rows = [
        {"Id": "1", "ФИО": "Петров Иван Сергеевич", "Телефон": office, "Компания": "ООО «Вектор»",
         "Email": "i.petrov@vector.ru"},
        {"Id": "2", "ФИО": "Сидорова Анна Павловна", "Телефон": office, "Компания": "Вектор",
         "Email": "a.sidorova@vector.ru"},
        {"Id": "3", "ФИО": "Козлов Олег Игоревич", "Телефон": "8 495 926 11 00", "Компания": "ООО Вектор"},
        {"Id": "4", "ФИО": "Petrov Ivan", "Телефон": "8 (495) 926-11-00", "Компания": "Vector LLC",
         "Email": "i.petrov@vector.ru"},
    ]
    result = dedupe(table_from_rows(rows))
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["4"]  # the same Ivan Petrov, transliterated
    assert len({cl["1"], cl["2"], cl["3"]}) == 3  # colleagues are not merged through the switchboard


def test_a_job_change_is_one_fact_in_a_cross_pair() -> None:
    # Людмила Светлина's records at her old employer (Енисей) and her new one (Экомаркет), tied by her own mobile and
    # personal address: between the old and the new company's records the company, office line, work address and
    # title all differ — another employer, counted once — so the cross pair does not refuse the merge
    person = {"ФИО": "Светлина Людмила", "Город": "Москва"}
    new = {"Компания": "ООО Экомаркет", "Должность": "Руководитель отдела закупок", "Телефон": "+7 495 748-33-46"}
    old = {"Компания": "АО Енисей", "Должность": "Генеральный директор", "Телефон": "+7 499 140-01-86"}
    rows = [
        {"Id": "1", **person, **new, "Email": "lsvetlina@ekomarket.ru", "Мобильный": "+7 985 495-65-59"},
        # the record that ties the two: the new company and mobile, and her personal address
        {"Id": "2", **person, "Компания": "Экомаркет", "Email": "svetlina.lyudmila@inbox.ru",
         "Мобильный": "+7 985 495-65-59"},
        {"Id": "3", **person, "Компания": "АО Енисей", "Должность": old["Должность"],
         "Email": "svetlina.lyudmila@inbox.ru"},
        {"Id": "4", **person, **old, "Email": "svetlina.lyudmila@inbox.ru"},
    ]
    filler = [{"Id": str(10 + i), "ФИО": f"Иванов{i} Пётр", "Компания": f"ООО Фирма{i}", "Город": "Казань"}
              for i in range(40)]
    result = dedupe(table_from_rows(rows + filler))
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["2"] == cl["3"] == cl["4"]
    # the cross pair counts only the strongest of the employer's levels against it; at one company (a namesake
    # colleague with another title and office line) every level counts
    assert result.setup is not None
    model = result.setup.model
    names = {c.name: [lv.name for lv in c.levels] for c in model.comparisons}
    levels = {"company": "different", "phone": "different", "job_title": "other_function", "email": "different"}
    same_company = {**levels, "company": "exact"}
    frame = pl.DataFrame([{**{f"lvl__{c}": names[c].index(lv) for c, lv in case.items()},
                           **{f"w__{c}": -float(i + 1) for i, c in enumerate(case)}, "weight": -20.0}
                          for case in (levels, same_company)]).with_columns(
        [pl.lit(None, pl.Int8).alias(f"lvl__{c}") for c in names if c not in levels]
        + [pl.lit(None, pl.Float64).alias(f"w__{c}") for c in names if c not in levels])
    assert frame.select(cross_weight(model)).to_series().to_list() == [-20.0 + 1 + 2 + 3, -20.0]



def test_a_cross_pair_in_two_cities_refutes_a_merge_unless_it_matches_on_its_own() -> None:
    # two cities, two countries, two patronymics, each their own mobile and none shared: one person's records
    # practically never show these (Level.refutes), so such a cross pair below even odds refuses the cluster merge
    # whatever its rare names add; one that clears even odds by itself (a shared personal address) does not
    from crmclean.matching.library.comparisons import contacts_comparisons
    from crmclean.matching.scoring import REFUTED_CROSS_WEIGHT, MatchModel

    model = MatchModel.default(contacts_comparisons(), 20_000)
    names = {c.name: [lv.name for lv in c.levels] for c in model.comparisons}
    refuting = {n: [lv.name for lv in c.levels if lv.refutes] for n, c in ((c.name, c) for c in model.comparisons)}
    assert refuting["city"] == ["different"] and refuting["country"] == ["different"]
    assert refuting["phone"] == ["other_lines"] and refuting["middle_name"] == ["colleague_patronymic", "different"]
    cases = [({"city": "different"}, -2.5), ({"phone": "other_lines"}, -0.1), ({"city": "different"}, 8.7),
             ({"city": "exact"}, -2.5), ({"middle_name": "different"}, -4.9)]
    frame = pl.DataFrame([{**{f"lvl__{c}": names[c].index(lv) for c, lv in case.items()}, "weight": w}
                          for case, w in cases]).with_columns(
        [pl.lit(None, pl.Int8).alias(f"lvl__{c}") for c in names if c not in ("city", "phone", "middle_name")]
        + [pl.lit(None, pl.Float64).alias(f"w__{c}") for c in names])
    frame = frame.with_columns(pl.col(f"lvl__{c}").cast(pl.Int8) for c in names)
    assert frame.select(cross_weight(model)).to_series().to_list() == [
        REFUTED_CROSS_WEIGHT, REFUTED_CROSS_WEIGHT, 8.7, -2.5, REFUTED_CROSS_WEIGHT]
    # --explain says so
    from crmclean.matching.explain import explanation_from_row

    row = {"lvl__city": names["city"].index("different"), "w__city": -5.5, "weight": -2.5, "probability": 0.15}
    expl = explanation_from_row(row, model.comparisons, {}, "a", "b", -17.0, match_threshold=0.9,
                                review_threshold=0.5)
    assert expl.refutes == ["city different"] and "refutes a cluster merge: city different" in expl.to_text()
    assert explanation_from_row({**row, "weight": 8.7, "probability": 0.998}, model.comparisons, {}, "a", "b", -17.0,
                                match_threshold=0.9, review_threshold=0.5).refutes == []

def test_cluster_odds_count_the_records_a_pair_would_bring_along() -> None:
    # 1 and 2 are one cluster; 0 fits 1 (own weight 6) but contradicts 2 (-12): the question "does 0 belong with
    # 1 — and so with 2?" has the two clusters' odds, 6 - 12; a pair of two lone records keeps its own weight
    labels = [0, 1, 1, 3]
    asked: list[tuple[int, int]] = []

    def score(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
        asked.extend(pairs)
        return dict.fromkeys(pairs, -12.0)

    odds = cluster_odds([(0, 1), (0, 3)], [6.0, 4.0], labels, {(1, 2): 20.0}, score)
    assert odds == [-6.0, 4.0]
    assert asked == [(0, 2)]


def test_a_refused_pair_whose_cluster_contradicts_it_is_not_asked() -> None:
    # 2 and 3 are one person (same mobile and mailbox); 1 shares 2's name and company but has another mobile and
    # patronymic and city than 3: the pair 1~2 is refused, and with 3's evidence against it is no even-odds question
    company, office = "ООО Вектор", "+7 495 555-12-34"
    rows = [
        {"Id": "1", "ФИО": "Смирнов Олег Петрович", "Компания": company, "Мобильный телефон": "+7 916 111-22-33",
         "Город": "Казань"},
        {"Id": "2", "ФИО": "Смирнов Олег", "Компания": company, "Телефон": office,
         "Email": "oleg.smirnov1975@mail.ru"},
        {"Id": "3", "ФИО": "Смирнов Олег Иванович", "Компания": company, "Телефон": office,
         "Мобильный телефон": "+7 903 777-88-99", "Email": "oleg.smirnov1975@mail.ru", "Город": "Москва"},
    ]
    rows += [{"Id": str(10 + i), "ФИО": f"Фамилия{i} Имя{i}", "Компания": f"Фирма {i}"} for i in range(40)]
    result = dedupe(table_from_rows(rows, object_type="contacts"))
    clusters = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert clusters["2"] == clusters["3"] != clusters["1"]
    pair = result.pairs.filter((pl.col("left_id") == "1") & (pl.col("right_id") == "2"))
    # by its own odds as a pair left apart it would be asked
    own = pair.select(calibrated(pl.col("match_weight"), "people", apart=True)).item()
    assert pair.get_column("reason").item() == "conflict" and own >= 0.5
    asked = {frozenset(p) for p in result.review.select("left_id", "right_id").iter_rows()}
    assert frozenset(("1", "2")) not in asked


def test_unchecked_components_cluster_as_the_checked_loop_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """cluster_pairs merges components where no check can refuse (_checked_components False) by union-find alone:
    on random graphs with random cross-pair evidence, steward pairs and size limits it gives the labels and
    refusals of the loop that checks every merge."""
    import random

    import numpy as np

    from crmclean.matching import clustering

    rng = random.Random(5)
    for _ in range(80):
        n = rng.randint(2, 14)
        pairs = {tuple(sorted(rng.sample(range(n), 2))) for _ in range(rng.randint(1, 20))}
        edges = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs],
                              "probability": [rng.choice([0.9, 0.95, 0.99, rng.random()]) for _ in pairs]})
        evidence = {(a, b): rng.choice([8.0, 3.0, -2.0, -9.0]) for a in range(n) for b in range(a + 1, n)
                    if rng.random() < 0.5}
        kwargs = {"max_cluster_size": rng.choice([2, 4, 25]), "min_cross_weight": -5.0,
                  "must_link": [p for p in pairs if rng.random() < 0.05],
                  "cannot_link": [p for p in pairs if rng.random() < 0.05],
                  "min_chain_weight": rng.choice([None, 1.0]), "exhaustive_limit": rng.choice([3, 150])}

        def score(todo: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
            return {p: float((p[0] * 7 + p[1] * 3) % 11 - 6) for p in todo}

        fast = clustering.cluster_pairs(n, edges, evidence, score, **kwargs)  # type: ignore[arg-type]
        with monkeypatch.context() as m:
            m.setattr(clustering, "_checked_components", lambda n, *a, **k: np.ones(n, dtype=bool))
            slow = clustering.cluster_pairs(n, edges, evidence, score, **kwargs)  # type: ignore[arg-type]
        assert (fast.labels, fast.refused) == (slow.labels, slow.refused)


def test_within_component_pairs_are_the_per_pair_loop() -> None:
    """_within_pairs (numpy per component size) lists the unscored pairs of components of 3 to ``limit`` records
    in the order the per-pair loop listed them: components by smallest member, each one's pairs in order."""
    import random

    import numpy as np

    from crmclean.matching import clustering

    rng = random.Random(11)
    for _ in range(40):
        n = rng.randint(3, 30)
        pairs = [tuple(sorted(rng.sample(range(n), 2))) for _ in range(rng.randint(1, 25))]
        lo = np.array([a for a, _ in pairs], dtype=np.int64)
        hi = np.array([b for _, b in pairs], dtype=np.int64)
        component = clustering.connected_components(n, lo, hi)
        size = np.bincount(component, minlength=n)
        evidence = {(a, b): 1.0 for a in range(n) for b in range(a + 1, n) if rng.random() < 0.3}
        limit = rng.choice([3, 5, 150])
        members: dict[int, list[int]] = {}
        for x in sorted(set(lo.tolist()) | set(hi.tolist())):
            members.setdefault(int(component[x]), []).append(x)
        want = [(a, b) for nodes in members.values() if 2 < len(nodes) <= limit
                for i, a in enumerate(nodes) for b in nodes[i + 1:] if (a, b) not in evidence]
        nodes = clustering._sorted_unique(np.concatenate([lo, hi]))
        known = clustering._evidence_codes(evidence, n)[0]
        assert clustering._within_pairs(nodes, component, size, limit, known, n) == want
