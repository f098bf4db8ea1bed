"""Issue 11 property: for generated records with multi-value cells, extensions, salutations/suffixes and
consent flags, under each rule pack, plan → apply → re-read loses no phone number, extension, e-mail,
salutation, suffix or restrictive consent value, and standardize is idempotent."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.config import parse_rules
from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.model.multivalue import email_addresses, phone_keys
from crmclean.sources import SourceOptions, open_source
from crmclean.standardize import standardize_table
from crmclean.writeback.apply import apply_plan
from crmclean.writeback.plan import build_plan
from crmclean.writeback.store import Journal

HEADER = ["Id", "ФИО", "Телефон", "E-mail", "Согласие на обработку ПД", "Не звонить"]
PACKS = {
    "built-in": "version: 1\n",
    "international": "version: 1\nstandardize:\n  rules:\n    PHONE001: {format: INTERNATIONAL}\n",
    "national": "version: 1\nstandardize:\n  rules:\n    PHONE001: {format: NATIONAL}\n",
    "derived-all": "version: 1\nstandardize:\n  derived: all\n",
}

mobile = st.tuples(st.sampled_from(["916", "903", "926", "985"]), st.integers(1_000_000, 9_999_999))
spelling = st.sampled_from(["8 ({a}) {b3}-{b2}-{b2b}", "+7 {a} {b3} {b2} {b2b}", "8{a}{b}", "+7({a}){b}"])
ext = st.one_of(st.none(), st.sampled_from(["доб. {}", "ext {}", "доб.{}"]).flatmap(
    lambda f: st.integers(1, 9999).map(lambda n: f.format(n))))
sep = st.sampled_from([", ", "; ", ","])
local = st.text(alphabet="abcxyz019", min_size=1, max_size=8)
domain = st.sampled_from(["romashka.ru", "Mail.RU", "gmail.com", "lutik.ru"])
name = st.tuples(st.sampled_from(["", "Dr. ", "г-н ", "Mr. "]), st.sampled_from(["Иванов Иван", "John Smith"]),
                 st.sampled_from(["", " Jr.", ", к.т.н.", " PhD"]))


def _phone(parts: tuple[str, int], form: str) -> str:
    a, b = parts
    s = str(b)
    return form.format(a=a, b=s, b3=s[:3], b2=s[3:5], b2b=s[5:])


@st.composite
def phone_lists(draw: Any, most: int) -> list[str]:
    """0..``most`` mobiles in mixed spellings, the first with an extension sometimes."""
    phones = [_phone(draw(mobile), draw(spelling)) for _ in range(draw(st.integers(0, most)))]
    x = draw(ext)
    if phones and x:
        phones[0] += " " + x
    return phones


@st.composite
def records(draw: Any) -> list[list[str]]:
    rows = []
    for i in range(draw(st.integers(1, 5))):
        phones = draw(phone_lists(3))
        emails = [f"{draw(local)}@{draw(domain)}" for _ in range(draw(st.integers(0, 2)))]
        s = draw(sep)
        sal, base, suf = draw(name)
        rows.append([f"R{i}", sal + base + suf, s.join(phones), s.join(emails),
                     draw(st.sampled_from(["да", "нет", ""])), draw(st.sampled_from(["true", "false", ""]))])
    return rows


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(buf.getvalue().encode("cp1251"))


def _read(path: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(path.read_bytes().decode("cp1251")), delimiter=";")
    return {r["Id"]: r for r in rows}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=records(), pack=st.sampled_from(sorted(PACKS)))
def test_plan_apply_reread_loses_nothing_and_standardize_is_idempotent(rows: list[list[str]], pack: str) -> None:
    rules = parse_rules(PACKS[pack])
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "contacts.csv"
        _write(src, rows)
        before = _read(src)
        table, settings_, connector = open_source(str(src), rules, SourceOptions(id_column="Id"))
        plan = build_plan(table, settings_, version_of=connector.version_of, steps=("standardize",),
                          source_options={"id_column": "Id"})
        target = open_connector(str(src), ConnectorOptions(id_column="Id"))
        target.describe()
        out = d / "out.csv"
        target.output = out  # type: ignore[attr-defined]
        target.resume_output = False  # type: ignore[attr-defined]
        report = apply_plan(plan, target, Journal(d / "runs.duckdb"))
        assert report.counts["failed"] == 0 and report.counts["conflict"] == 0, report.problems
        assert report.counts["skipped"] == 0, report.problems  # the plan itself loses nothing: no guard trip
        after = _read(out if out.exists() else src)
        for rid, old in before.items():
            new = after[rid]
            assert phone_keys(old["Телефон"]) <= phone_keys(new["Телефон"]), (old, new)
            assert email_addresses(old["E-mail"]) <= email_addresses(new["E-mail"]), (old, new)
            for token in ("Dr.", "г-н", "Mr.", "Jr.", "к.т.н.", "PhD"):
                if token in old["ФИО"]:
                    assert token in new["ФИО"], (old, new)  # the target has no salutation/suffix field
            assert new["Согласие на обработку ПД"] == old["Согласие на обработку ПД"]
            assert new["Не звонить"] == old["Не звонить"]

        first = standardize_table(table, settings_)
        again = standardize_table(first.table.with_frame(first.table.frame.select(table.frame.columns)), settings_)
        fixes = again.changes.filter(pl.col("confidence") == "fix")
        assert fixes.height == 0, fixes.to_dicts()


# ---------------------------------------------------------------- merges: the golden record loses nothing either

person = st.sampled_from(["a.zhukov", "zhukov", "alex"])


@st.composite
def clusters(draw: Any) -> list[dict[str, str]]:
    """2–4 records of one person, each with its own phones (extensions too), e-mails and consent flags."""
    rows = []
    for i in range(draw(st.integers(2, 4))):
        phones = draw(phone_lists(2))
        s = draw(sep)
        rows.append({"Id": str(i + 1), "FirstName": "Алексей", "LastName": "Жуков",
                     "Email": s.join(f"{draw(person)}{draw(local)}@{draw(domain)}"  # not a filler such as 0@…
                                     for _ in range(draw(st.integers(0, 2)))),
                     "Phone": s.join(phones),
                     "HasOptedOutOfEmail": draw(st.sampled_from(["true", "false", ""])),
                     "DoNotCall": draw(st.sampled_from(["true", "false", ""])),
                     "Согласие на обработку ПД": draw(st.sampled_from(["да", "нет", ""]))})
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=clusters())
def test_a_merge_keeps_every_phone_extension_address_and_the_most_restrictive_consent(
        rows: list[dict[str, str]]) -> None:
    from crmclean.config.dedupe import SurvivorshipSettings
    from crmclean.matching.survivorship import golden_records
    from crmclean.table import finalize_table
    from crmclean.writeback.plan import plan_from_results

    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    table = finalize_table(frame, source="t.csv", kind="csv", id_column="Id", object_type="contacts")
    golden = golden_records(table.frame, pl.Series(["A"] * len(rows)), id_column="Id",
                            data_columns=table.data_columns, roles=table.by_role, settings=SurvivorshipSettings())
    plan = plan_from_results(table, None, golden.frame)
    (merge,) = plan.merges
    master = next(r for r in rows if r["Id"] == merge.master_id)
    final = {k: merge.values.get(k, master[k]) for k in master}  # the master's fields after the merge
    assert set().union(*(phone_keys(r["Phone"]) for r in rows)) <= phone_keys(final["Phone"]), (rows, final)
    assert set().union(*(email_addresses(r["Email"]) for r in rows)) <= email_addresses(final["Email"]), (rows, final)
    for flag in ("HasOptedOutOfEmail", "DoNotCall"):
        if any(r[flag] == "true" for r in rows):
            assert final[flag] == "true", (flag, rows, final)
    if any(r["Согласие на обработку ПД"] == "нет" for r in rows):
        assert final["Согласие на обработку ПД"] == "нет", (rows, final)
