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


# ---------------------------------------------------------------- survivorship safe by default

def _golden(rows: list[dict[str, str]], clusters: list[str]) -> dict[str, object]:
    from crmclean.config.dedupe import SurvivorshipSettings
    from crmclean.matching.survivorship import golden_records

    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    table = finalize_table(frame, source="t.csv", kind="csv", id_column="Id", object_type="contacts")
    g = golden_records(table.frame, pl.Series(clusters), id_column="Id", data_columns=table.data_columns,
                       roles=table.by_role, settings=SurvivorshipSettings())
    return g.frame.row(0, named=True)


OPTED = [
    {"Id": "1", "FirstName": "Алексей", "LastName": "Жуков", "Email": "a.zhukov@romashka.ru", "Phone": "+74951112233",
     "HasOptedOutOfEmail": "false", "DoNotCall": "false", "Согласие на обработку ПД": "да",
     "Title": "Директор", "Department": "Продажи"},
    {"Id": "2", "FirstName": "Алексей", "LastName": "Жуков", "Email": "zhukov@gmail.com", "Phone": "+79161112233",
     "HasOptedOutOfEmail": "true", "DoNotCall": "true", "Согласие на обработку ПД": "нет",
     "Title": "", "Department": ""},
]


def test_only_a_loser_opted_out_golden_keeps_the_opt_out_and_every_phone_and_address():
    g = _golden(OPTED, ["A", "A"])
    assert g["master_id"] == "1"  # the most complete record
    assert g["HasOptedOutOfEmail"] == "true" and g["DoNotCall"] == "true"
    assert g["Согласие на обработку ПД"] == "нет"
    assert g["Phone"] == "+74951112233, +79161112233"
    assert g["Email"] == "a.zhukov@romashka.ru, zhukov@gmail.com"
    reasons = __import__("json").loads(g["reasons"])
    assert reasons["DoNotCall"] == {"rule": "most_restrictive:opt_out", "from": "2"}


def test_fuller_name_beats_its_abbreviation():
    rows = [{"Id": "1", "ФИО": "Жуков А.В.", "Email": "a@x.ru", "Телефон": "+74951112233", "Компания": "ООО Ромашка"},
            {"Id": "2", "ФИО": "Жуков Алексей Викторович", "Email": "", "Телефон": "", "Компания": ""}]
    g = _golden(rows, ["A", "A"])
    assert g["master_id"] == "1" and g["ФИО"] == "Жуков Алексей Викторович"


def test_merge_plan_writes_the_losers_opt_out_to_the_master():
    from crmclean.writeback.plan import plan_from_results

    frame = pl.DataFrame(OPTED, schema={k: pl.String for k in OPTED[0]})
    table = finalize_table(frame, source="t.csv", kind="csv", id_column="Id", object_type="contacts")
    g = _golden(OPTED, ["A", "A"])
    plan = plan_from_results(table, None, pl.DataFrame([g]))
    (merge,) = plan.merges
    assert merge.values["HasOptedOutOfEmail"] == "true" and merge.values["DoNotCall"] == "true"
    assert merge.values["Согласие на обработку ПД"] == "нет"
    assert merge.values["Phone"] == "+74951112233, +79161112233"


# ---------------------------------------------------------------- the plan maps every kept value

def _plan(rows: list[dict[str, str]], kind: str):
    from crmclean.writeback.plan import build_plan

    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    table = finalize_table(frame, source=f"{kind}:Contact", kind=kind, id_column="Id", object_type="contacts")
    return build_plan(table, None, steps=("standardize",))


def test_salesforce_extra_phones_go_to_empty_phone_fields_extension_in_salesforce_convention():
    plan = _plan([
        {"Id": "1", "LastName": "Петров", "Phone": "8 (984) 388-32-73, 8 (981) 432-96-66", "MobilePhone": "",
         "OtherPhone": "", "HomePhone": "", "Email": "a@x.ru"},
        {"Id": "2", "LastName": "Жуков", "Phone": "8 495 123-45-67 доб. 123", "MobilePhone": "", "OtherPhone": "",
         "HomePhone": "", "Email": "b@x.ru"},
        {"Id": "3", "LastName": "Смирнов", "Phone": "8 (984) 388-32-73, 8 (981) 432-96-66", "MobilePhone": "+79160000001",
         "OtherPhone": "+79160000002", "HomePhone": "+79160000003", "Email": "c@x.ru"},
    ], "salesforce")
    got = {(u.record_id, u.field): u.after for u in plan.updates}
    assert got[("1", "Phone")] == "+79843883273" and got[("1", "MobilePhone")] == "+79814329666"
    assert got[("2", "Phone")] == "+74951234567 x123"
    assert ("3", "Phone") not in got  # no empty phone field left: kept as is, said so
    (kept,) = [k for k in plan.kept if k.record_id == "3"]
    assert kept.field == "Phone" and "the target has no field for +79814329666" in kept.reason
    from crmclean.writeback.plan import render_plan_diff

    assert "kept as is: the target has no field for +79814329666" in render_plan_diff(plan)


def test_hubspot_extra_emails_go_to_hs_additional_emails():
    plan = _plan([{"Id": "1", "lastname": "Петров", "email": "Ivan@Mail.ru; petrov@gmail.com",
                   "hs_additional_emails": "old@x.ru"}], "hubspot")
    got = {(u.record_id, u.field): u.after for u in plan.updates}
    assert got[("1", "email")] == "ivan@mail.ru"
    assert got[("1", "hs_additional_emails")] == "old@x.ru;petrov@gmail.com"


def test_a_value_moved_to_a_column_the_target_lacks_is_kept_as_is():
    plan = _plan([{"Id": "1", "Full Name": "John Smith Jr.", "Email": "J@X.RU"}], "csv")
    assert [u.field for u in plan.updates] == ["Email"]
    (kept,) = plan.kept
    assert kept.field == "Full Name" and "Full Name__suffix" in kept.reason


def test_salesforce_second_plan_on_written_values_is_empty():
    plan = _plan([{"Id": "1", "LastName": "Петров", "Phone": "+74951234567 x123", "MobilePhone": "+79814329666",
                   "OtherPhone": "", "HomePhone": "", "Email": "a@x.ru"}], "salesforce")
    assert plan.updates == [] and plan.kept == []
