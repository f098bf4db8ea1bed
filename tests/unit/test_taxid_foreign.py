"""fields.taxid.registration_id(s): foreign registration numbers (VAT, EIN, UID, SIREN ...) recognized with
python-stdnum and spelled "<CC>:<number>"; a Russian INN/KPP/OGRN is never one.

Vectors: python-stdnum's own tests (arthurdejong/python-stdnum `tests/test_eu_vat.doctest`,
`tests/test_gb_vat.doctest`, `tests/test_ch_uid.doctest`, the `stdnum/us/ein.py` docstring).
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.fields.taxid import registration_id, registration_ids

VALID = [  # (as written, country column, canonical)
    ("DE 129273398", None, "DE:129273398"),
    ("DE129273398", None, "DE:129273398"),
    ("VAT No: DE129273398", None, "DE:129273398"),
    ("USt-IdNr.: DE 129 273 398", None, "DE:129273398"),
    ("GB 980 7806 84", None, "GB:980780684"),
    ("GB980780684", None, "GB:980780684"),
    ("980780684", "GB", "GB:980780684"),
    ("XI980780684", None, "GB:980780684"),  # Northern Ireland traders: UK numbers
    ("GB 242338087388", None, "GB:242338087388"),  # branch trader
    ("ATU 142 43 102", None, "AT:U14243102"),
    ("BE 0202.239.951", None, "BE:0202239951"),
    ("DK 10 50 32 80", None, "DK:10503280"),
    ("EL094259216", None, "GR:094259216"),
    ("FR 40 303 265 045", None, "FR:303265045"),  # the VAT number's key comes from the SIREN
    ("303 265 045", "FR", "FR:303265045"),  # the SIREN itself
    ("NL004495445B01", None, "NL:004495445B01"),
    ("IE 6433435F", None, "IE:6433435F"),
    ("CHE-116.281.710 MWST", None, "CH:116281710"),
    ("CHE-116.281.710", None, "CH:116281710"),
    ("91-1144442", None, "US:911144442"),  # EIN by its shape
    ("04-2103594", None, "US:042103594"),
    ("EIN 91-1144442", None, "US:911144442"),
    ("911144442", "US", "US:911144442"),
]

NOT_FOREIGN = [  # (as written, country column)
    ("7707083893", None), ("7707083893", "DE"), ("7707083893", "US"),  # INN (Сбербанк)
    ("500100732259", None), ("1027700132195", None), ("1027700132195", "GB"),  # INN of a person, OGRN
    ("770701001", None), ("770701001", "RU"),  # KPP
    ("RU7707083893", None), ("ИНН 7707083893", None), ("INN 7707083893", None),
    ("911144442", None),  # nine digits and no country: not an EIN by shape
    ("91-1144442", "DE"),  # a country says otherwise
    ("07-1144442", None),  # EIN with a prefix the IRS never issued
    ("GB 802311781", None), ("DE 129273399", None), ("BE 0220,764.971", None),  # stdnum: checksum / format
    ("", None), ("   ", "DE"), ("n/a", "GB"), ("garbage", None), (None, None),
]


@pytest.mark.parametrize("value,country,canonical", VALID)
def test_valid_foreign_ids(value: str, country: str | None, canonical: str) -> None:
    assert registration_id(value, country) == canonical


@pytest.mark.parametrize("value,country", NOT_FOREIGN)
def test_not_foreign(value: str | None, country: str | None) -> None:
    assert registration_id(value, country) is None


def test_every_number_of_the_public_corpus_is_recognized() -> None:
    """tests/data/precision/taxids_foreign_public.tsv: python-stdnum's EU/GB/CH lists and EINs, as written there."""
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "precision" / "taxids_foreign_public.tsv"
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
    got = registration_ids(pl.Series([r["input"] for r in rows]))
    assert len(rows) == 841 and got.null_count() == 0
    assert got.str.contains(r"^[A-Z]{2}:[0-9A-Z]+$").all()


def test_prefix_decides_over_the_row_country() -> None:
    assert registration_id("DE129273398", "FR") == "DE:129273398"
    assert registration_id("GB980780684", "RU") == "GB:980780684"


def test_column_wise_equals_scalar() -> None:
    values = pl.Series("v", [v for v, _, _ in VALID] + [v for v, _ in NOT_FOREIGN])
    countries = pl.Series([c for _, c, _ in VALID] + [c for _, c in NOT_FOREIGN])
    got = registration_ids(values, countries)
    assert got.dtype == pl.String and got.name == "v" and len(got) == len(values)
    assert got.to_list() == [registration_id(v, c) for v, c in zip(values.to_list(), countries.to_list(), strict=True)]
    # without countries: the prefix and the EIN shape only
    assert registration_ids(pl.Series(["DE129273398", "980780684", None, "91-1144442"])).to_list() == [
        "DE:129273398", None, None, "US:911144442"]


def _inn10(body: str) -> str:
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10)


def _inn12(body: str) -> str:
    w1, w2 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    first = body + str(sum(int(d) * w for d, w in zip(body, w1, strict=True)) % 11 % 10)
    return first + str(sum(int(d) * w for d, w in zip(first, w2, strict=True)) % 11 % 10)


def _ogrn13(body: str) -> str:
    return body + str(int(body) % 11 % 10)


def _ogrnip15(body: str) -> str:
    return body + str(int(body) % 13 % 10)


_SPELL = st.sampled_from(["{}", " {} ", "'{}", "ИНН {}", "INN: {}", "№ {}", "RU{}", "RU {}"])


@settings(max_examples=25, deadline=None)
@given(st.text("0123456789", min_size=12, max_size=12), _SPELL,
       st.sampled_from([None, "RU", "DE", "GB", "US", "FR", "CH", "BE", "PL", "NL", "SE"]))
def test_no_russian_inn_or_ogrn_is_ever_foreign(digits: str, spelling: str, country: str | None) -> None:
    for number in (_inn10(digits[:9]), _inn12(digits[:10]), _ogrn13("1" + digits[:11]), _ogrnip15("30" + digits)):
        assert registration_id(spelling.format(number), country) is None
    # a KPP (no checksum: its shape is the rule) in a Russian record or one with no country
    kpp = digits[:4] + "01" + digits[4:7]
    assert registration_id(spelling.format(kpp), country if country in (None, "RU") else None) is None


# ---------------------------------------------------------------- the rules: INN001, INN002, INN005


def _run(rows: dict[str, list[str | None]], codes: str):  # type: ignore[no-untyped-def]
    from crmclean.config import parse_rules
    from crmclean.standardize import standardize_table
    from crmclean.table import finalize_table

    data = {"Id": [str(i) for i in range(len(next(iter(rows.values()))))], **rows}
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    table = finalize_table(frame, source="test.csv", kind="csv", id_column="Id")
    return standardize_table(table, parse_rules(f"standardize:\n  select: [{codes}]\n"))


def test_inn001_leaves_foreign_ids_as_written_and_still_cleans_inns() -> None:
    values = ["91-1144442", "DE 129 273 398", "GB 980 7806 84", "911144442", "ИНН 7707-083-893", "274062111",
              "07-1144442", "GB 802 3117 81"]  # the last two: invalid, still foreign-looking (INN002 flags them)
    result = _run({"Tax ID": values, "Country": ["", "", "", "USA", "Россия", "", "", ""]}, "INN001, INN005")
    after = result.table.frame.get_column("Tax ID").to_list()
    assert after == [*values[:4], "7707083893", "274062111", *values[6:]]  # the lost zero is only suggested
    # no foreign id is "a KPP in the INN column"; a bare 9-digit number with no country still is (as before)
    assert result.findings.filter(pl.col("rule") == "INN005").get_column("record_id").to_list() == ["5"]


def test_inn002_no_error_for_valid_foreign_ids_and_a_country_message_for_invalid_ones() -> None:
    values = ["91-1144442", "DE129273398", "980780684", "GB 802311781", "8034971", "7707083894", "7707083893", "n/a?"]
    countries = ["", "", "United Kingdom", "", "Germany", "", "", ""]
    found = _run({"Tax ID": values, "Country": countries}, "INN002").findings
    flagged = dict(zip(found.get_column("record_id").to_list(), found.get_column("message").to_list(), strict=True))
    assert set(flagged) == {"3", "4", "5", "7"}  # fail closed: an unreadable value is still a finding
    assert flagged["3"] == "invalid tax id: not a valid United Kingdom VAT or registration number"
    assert flagged["4"] == "invalid tax id: not a valid Germany VAT or registration number"
    assert flagged["5"].startswith("invalid INN: ")  # no country: judged as an INN, as before


def test_inn002_a_country_without_a_validator_is_not_checked_and_says_so() -> None:
    # Kazakhstan's BIN has no python-stdnum module: an info finding, never "invalid"; Belarus' УНП is validated
    values = ["040340008429", "200988541", "200988542", "7707083894"]
    countries = ["Казахстан", "Беларусь", "Беларусь", "Россия"]
    found = _run({"ИНН": values, "Страна": countries}, "INN002").findings
    got = {r: (s, m) for r, s, m in found.select("record_id", "severity", "message").iter_rows()}
    assert set(got) == {"0", "2", "3"}
    assert got["0"][0] == "info" and got["0"][1].startswith("not checked: no validator for Kazakhstan")
    assert got["2"][0] == "error" and "Belarus" in got["2"][1]
    assert got["3"][0] == "error" and got["3"][1].startswith("invalid INN: ")
    # the unchecked number is no invalid tax id in the audit's KPI
    from crmclean.rules.standardizers.taxids import InnChecksum

    assert set(found.filter(InnChecksum.kpi_findings()).get_column("record_id").to_list()) == {"2", "3"}


def test_validate_cli_gates_only_the_bad_russian_inn_of_an_eu_us_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One CLI run (each costs a whole audit): the EU/US rows raise no INN finding, the bad INN still fails the gate."""
    import json

    from typer.testing import CliRunner

    from crmclean.cli import app

    rules = tmp_path / "rules.yaml"  # the tax-id rules only
    rules.write_text("standardize:\n  select: [INN001, INN002, INN005]\nvalidate:\n  select: [INN002]\n",
                     encoding="utf-8")
    src = tmp_path / "accounts.csv"
    src.write_text("Account ID,Account Name,VAT Number,Billing City,Billing Country\n"
                   "1,Acme UK Ltd,GB 980 7806 84,London,United Kingdom\n2,Acme UK Ltd,GB980780684,Leeds,\n"
                   "3,Siemens AG,DE 129273398,Berlin,Germany\n4,Acme Inc,91-1144442,Seattle,\n"
                   "5,Acme Inc,04-2103594,Boston,USA\n6,ООО Ромашка,7707083893,Москва,Россия\n"
                   "7,ООО Лютик,7707083894,Москва,Россия\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(src), "--rules", str(rules), "--json"])
    assert res.exit_code == 1, res.output
    checks = {c["code"]: c["records"] for c in json.loads(res.stdout)["checks"]}
    assert checks == {"INN002": 1}


@pytest.mark.parametrize("header", ["VAT Number", "VAT ID", "VAT No.", "VAT Registration Number", "EIN",
                                    "Federal Tax ID", "Tax ID", "TIN", "USt-IdNr.", "Tax Number"])
def test_foreign_tax_id_headers_are_the_inn_role(header: str) -> None:
    from crmclean.roles import detect_role

    assert detect_role(header) == "inn"
