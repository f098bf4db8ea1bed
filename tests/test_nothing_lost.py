"""Issue 11: nothing lost on write-back — multi-value cells, idempotent standardize, the fidelity guard."""

from __future__ import annotations

import polars as pl

from crmclean.model.multivalue import cell_separator, email_addresses, is_derived_column, join_cell, phone_keys
from crmclean.standardize import standardize_table
from crmclean.table import finalize_table
from tests._std_helpers import column, run

MESSY = {
    "ФИО": ["Dr. John Smith Jr.", "г-н Иванов Иван Иванович", "Петров Пётр, к.т.н.", None],
    "Телефон": ["8 (984) 388-32-73, 8 (981) 432-96-66", "8 495 123-45-67 доб. 123", "+7 916 123 45 67; 89161112233",
                "(212) 555-0142 ext 45"],
    "E-mail": ["Ivan@Mail.RU, petrov@gmail.com", "a@x.ru", "mailto:J.Smith@Acme.com; j@acme.com", None],
    "Страна": [None, None, None, "US"],
}


def test_multivalue_helpers():
    assert cell_separator("a, b") == ", " and cell_separator("a;b") == ";" and cell_separator("a") == ", "
    assert join_cell(["+7 1", None, "+7 2", "+7 1"], "; ") == "+7 1; +7 2"
    assert phone_keys("8 (495) 123-45-67 доб. 12") == {"4951234567", "ext:12"}
    assert email_addresses("Ivan@Mail.RU; b@y.com") == {"ivan@mail.ru", "b@y.com"}
    assert is_derived_column("Телефон__ext", ["Телефон", "Телефон__ext"])
    assert not is_derived_column("Телефон__ext", ["Phone"])


def test_every_phone_and_address_of_a_cell_is_kept_normalized():
    result = run(MESSY)
    assert column(result, "Телефон") == ["+79843883273, +79814329666", "+74951234567 доб. 123",
                                          "+79161234567; +79161112233", "+12125550142 ext. 45"]
    assert column(result, "E-mail") == ["ivan@mail.ru, petrov@gmail.com", "a@x.ru", "j.smith@acme.com; j@acme.com",
                                        None]
    # two valid addresses in one cell are not an error
    assert result.findings.filter(pl.col("rule") == "EMAIL002").height == 0


def _roundtrip(columns: dict[str, list[str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    first = run(columns)
    frame = first.table.frame  # with the carried derived columns (Name__suffix …), as a file would hold it
    again = finalize_table(frame.select(pl.all().cast(pl.String)), source="t.csv", kind="csv", id_column="id")
    second = standardize_table(again)
    return first.table.frame, second


def test_derived_columns_are_not_read_as_inputs():
    frame, _ = _roundtrip(MESSY)
    derived = [c for c in frame.columns if "__" in c and not c.startswith("__")]
    assert derived, "salutation/suffix columns are carried"
    table = finalize_table(frame.select(pl.all().cast(pl.String)), source="t.csv", kind="csv", id_column="id")
    assert not set(derived) & set(table.roles)


def test_standardize_twice_logs_no_fix():
    frame, second = _roundtrip(MESSY)
    fixes = second.changes.filter(pl.col("confidence") == "fix")
    assert fixes.height == 0, fixes.to_dicts()
    assert second.table.frame.select(frame.columns).equals(frame)


# ---------------------------------------------------------------- the fidelity guard

def test_fidelity_guard_flags_a_dropped_number_extension_and_address():
    from crmclean.writeback.fidelity import fidelity_problem, lost_values

    two = "8 (984) 388-32-73, 8 (981) 432-96-66"
    assert lost_values({"Телефон": (two, "+79843883273, +79814329666")}) == []
    assert lost_values({"Телефон": (two, "+79843883273")}) == ["Телефон: phone …9814329666"]
    assert lost_values({"Phone": ("8 495 123-45-67 доб. 123", "+74951234567")}) == ["Phone: extension 123"]
    assert lost_values({"Email": ("a@x.ru; B@y.ru", "a@x.ru")}) == ["Email: e-mail b@y.ru"]
    # kept in another field of the record: nothing lost
    assert lost_values({"Phone": ("+79843883273, +79814329666", "+79843883273")},
                       {"Phone": "+79843883273, +79814329666", "MobilePhone": "+79814329666"}) == []
    # a filler removed by a rule with a change row is not a loss; dates are not phones
    assert lost_values({"Email": ("noemail@noemail.com", None)}, rules={"Email": "PLACEHOLDER001"}) == []
    assert lost_values({"Дата рождения": ("15.01.1980", "1980-01-15")}) == []
    reason = fidelity_problem({"Phone": (two, "+79843883273")})
    assert reason is not None and "fidelity guard" in reason and "9814329666" in reason
