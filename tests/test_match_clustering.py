"""Clustering does not chain strangers: a shared switchboard or A~B, B~C with A≠C never forces one cluster."""

from __future__ import annotations

import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.clustering import cluster_pairs
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
