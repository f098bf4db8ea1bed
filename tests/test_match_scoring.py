"""Fellegi–Sunter scoring: missing is neutral, common values prove little, labels and EM retune weights."""

from __future__ import annotations

import random

import polars as pl
import pytest
from _match_helpers import table_from_rows

from crmclean.matching.backends.polars import compute_levels, weigh_levels
from crmclean.matching.engine import prepare
from crmclean.matching.scoring import random_below, train_from_labels, train_m_em


def _score(rows: list[dict[str, str]], pairs: list[tuple[int, int]]) -> pl.DataFrame:
    setup = prepare(table_from_rows(rows))
    frame = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    levels, _ = compute_levels(setup.features, frame, setup.comparisons, setup.tf)
    return weigh_levels(levels, setup.model)


BASE = [
    {"Id": "1", "First Name": "Olga", "Last Name": "Sokolova", "Email": "olga.sokolova@vector.ru", "City": "Москва"},
    {"Id": "2", "First Name": "Olga", "Last Name": "Sokolova", "Email": "olga.sokolova@vector.ru", "City": ""},
    {"Id": "3", "First Name": "Olga", "Last Name": "Sokolova", "Email": "olga.sokolova@vector.ru", "City": "Казань"},
]


def test_missing_value_is_neutral_not_negative() -> None:
    scored = _score(BASE, [(0, 1), (0, 2)])
    assert scored.get_column("lvl__city")[0] is None
    assert scored.get_column("w__city")[0] == 0.0
    assert scored.get_column("w__city")[1] < 0  # a different city is (weak) evidence against
    assert scored.get_column("weight")[0] > scored.get_column("weight")[1]


def test_shared_switchboard_weighs_less_than_a_personal_number() -> None:
    rows = [{"Id": str(i), "First Name": n, "Last Name": s, "Phone": "+7 495 100-00-00"}
            for i, (n, s) in enumerate([("Иван", "Петров"), ("Анна", "Смирнова"), ("Олег", "Козлов"),
                                        ("Мария", "Волкова"), ("Пётр", "Зайцев"), ("Нина", "Орлова")])]
    rows += [{"Id": "a", "First Name": "Павел", "Last Name": "Белов", "Phone": "+7 916 123-45-67"},
             {"Id": "b", "First Name": "Павел", "Last Name": "Белов", "Phone": "8 916 123 45 67"}]
    scored = _score(rows, [(0, 1), (6, 7)])
    switchboard, personal = scored.get_column("w__phone").to_list()
    assert personal > switchboard + 3
    assert scored.get_column("probability")[0] < 0.05  # colleagues sharing only the office phone


def test_common_surname_proves_less_than_a_rare_one() -> None:
    rows = [{"Id": str(i), "First Name": f"Имя{i}", "Last Name": "Иванов"} for i in range(30)]
    rows += [{"Id": "x", "First Name": "Глеб", "Last Name": "Щукин"}, {"Id": "y", "First Name": "Глеб", "Last Name": "Shchukin"}]
    scored = _score(rows, [(0, 1), (30, 31)])
    common, rare = scored.get_column("w__last_name").to_list()
    assert rare > common + 2


def test_labels_retune_m_and_em_runs() -> None:
    rows = [dict(r, Id=f"{r['Id']}-{k}") for k in range(4) for r in BASE]
    setup = prepare(table_from_rows(rows))
    pairs = pl.DataFrame({"l": [0, 0, 1, 3, 4, 5], "r": [1, 2, 2, 4, 5, 6]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    levels, _ = compute_levels(setup.features, pairs, setup.comparisons, setup.tf)
    before = setup.model.params["email"][0].m
    used = train_from_labels(setup.model, levels, pl.Series([True] * 6))
    assert used == 6 and "labels" in setup.model.trained
    assert setup.model.params["email"][0].m > before
    train_m_em(setup.model, levels, iterations=3)
    assert "m:em" in setup.model.trained


@pytest.mark.parametrize(("seed", "n"), [(42, 300_000), (42, 50), (7, 1 << 20), (0, 65_537), (1, 1), (3, 1 << 32)])
def test_random_below_is_pythons_randrange(seed: int, n: int) -> None:
    """estimate_u's record sample drawn by numpy is the one random.Random(seed).randrange gave (same u)."""
    rng = random.Random(seed)
    count = 5_000 if n < 1 << 32 else 50
    assert random_below(seed, n, count).to_list() == [rng.randrange(n) for _ in range(count)]
