"""Issue 15 leftovers, Salesforce side: each behaviour against the emulator in its default (official) mode.

Sforce-Limit-Info followed through the run, duplicate rules, a create behind a gateway error found instead of
made twice, merge previews of re-parented children, Person Accounts and record types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.connectors.salesforce.emulator import SalesforceEmulator
from crmclean.errors import ConnectorError


def _contacts(n: int) -> list[dict[str, str]]:
    return [{"FirstName": f"Ann{i}", "LastName": f"Lee{i}", "Email": f"ann{i}@example.com"} for i in range(n)]


def _connect(e: SalesforceEmulator, obj: str = "Contact", **options: object) -> SalesforceConnector:
    conn = SalesforceConnector(obj, ConnectorOptions(**options), env=e.env(),  # type: ignore[arg-type]
                               sleep=lambda _s: None)
    conn.bulk_poll_seconds = 0
    return conn


@pytest.fixture
def env_of(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def point(e: SalesforceEmulator) -> None:
        for key, value in e.env().items():
            monkeypatch.setenv(key, value)
    yield point


# -- item 4: Sforce-Limit-Info moves the budget during the whole run ---------------------------------------------


def test_other_clients_usage_from_sforce_limit_info_stops_the_run() -> None:
    """The org's usage in each answer's Sforce-Limit-Info counts: other integrations spending the day's requests
    during the run stop it at its api_share, not only at the start."""
    with SalesforceEmulator(objects={"Contact": _contacts(5)}, daily_api_limit=1000) as e:
        conn = _connect(e, bulk="never", api_share=0.5)  # 500 of the org's 1000
        assert conn.count() == 5
        e.api_used += 498  # another integration spends requests meanwhile
        assert conn.count() == 5  # this answer says api-usage=500/1000
        sent = e.request_count()
        with pytest.raises(ConnectorError, match="API budget of 500 requests") as err:
            conn.count()
        assert "other clients" in str(err.value) and "--resume" in str(err.value)
        assert e.request_count() == sent  # stopped before sending


def test_apply_stops_on_the_header_budget_and_resume_continues(tmp_path: Path, env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.store import RunStore
    from crmclean.writeback.plan import save_plan

    rows = [{"FirstName": f" ann{i} ", "LastName": f"LEE{i}", "Email": f"ANN{i}@Example.COM "} for i in range(450)]
    with SalesforceEmulator(objects={"Contact": rows}, daily_api_limit=400) as e:
        env_of(e)
        plan = api.plan("salesforce:Contact")
        assert plan.summary()["updates"] >= 400
        save_plan(plan, tmp_path / "plan.json")
        store = tmp_path / "runs.duckdb"
        e.api_used = 190  # the org spent 190 of its 400 today; this run may use half of what is left
        original = e.api_used
        e.on_request = lambda: setattr(e, "api_used", e.api_used + 30)  # others spend 30 per one of ours
        with pytest.raises(ConnectorError, match="other clients"):
            api.apply(tmp_path / "plan.json", store=store, batch_size=100)
        assert e.api_used - original <= 200 + 31  # within this run's share (the last answer's usage included)
        with RunStore(store) as st:
            run = st.list_runs()[0]
        assert run.status == "interrupted"
        e.on_request = None
        e.api_used = 0  # the 24-hour window rolled over
        report = api.resume(run.run_id, store=store)
        assert isinstance(report, api.RunReport)
        assert report.counts["failed"] == 0 and report.counts["conflict"] == 0, report.problems
        first = {r["Id"]: r for r in e.records("Contact")}
        for op in plan.updates:
            assert first[op.record_id][op.field] == op.after


# -- item 1: duplicate rules -------------------------------------------------------------------------------------


def _shared_email_rows() -> list[dict[str, str]]:
    return [{"FirstName": "Ann", "LastName": "Lee", "Email": "family@example.com"},
            {"FirstName": "Bob", "LastName": "Stone", "Email": " FAMILY@Example.com "},
            {"FirstName": "Cy", "LastName": "Park", "Email": "cy@example.com"}]


def test_duplicate_rule_fails_the_record_with_the_rule_name_and_allow_save_saves_it() -> None:
    from crmclean.connectors.base import FieldUpdate
    from crmclean.connectors.salesforce.emulator import DuplicateRule

    rule = DuplicateRule("Contact", name="Contact_Email_Rule")
    with SalesforceEmulator(objects={"Contact": _shared_email_rows()}, duplicate_rules=[rule]) as e:
        ann, bob, cy = (str(r["Id"]) for r in e.records("Contact"))
        conn = _connect(e, bulk="never")
        out = conn.update([FieldUpdate(bob, {"Email": "family@example.com"}), FieldUpdate(cy, {"FirstName": "Cyrus"})])
        assert out[0].status == "failed" and out[1].status == "ok"  # per record, not the whole batch
        assert "DUPLICATES_DETECTED" in (out[0].error or "") and "Contact_Email_Rule" in (out[0].error or "")
        assert ann[:15] in (out[0].error or "") and "duplicate_rule_allow_save" in (out[0].error or "")
        assert e.record("Contact", bob)["Email"] == " FAMILY@Example.com "  # type: ignore[index]
        # create() re-creates merged-away records (rollback): it always sends allowSave=true, an alert lets it in
        created = conn.create([{"LastName": "Twin", "Email": "cy@example.com"}])[0]
        assert created.status == "ok"

        allowed = _connect(e, bulk="never", duplicate_rule_allow_save=True)
        assert allowed.update([FieldUpdate(bob, {"Email": "family@example.com"})])[0].status == "ok"
        assert e.record("Contact", bob)["Email"] == "family@example.com"  # type: ignore[index]
        assert allowed.create([{"LastName": "Twin", "Email": "cy@example.com"}])[0].status == "ok"
        assert any(r.method == "PATCH" for r in e.request_log)


def test_blocking_duplicate_rule_refuses_even_with_allow_save() -> None:
    from crmclean.connectors.base import FieldUpdate
    from crmclean.connectors.salesforce.emulator import DuplicateRule

    rule = DuplicateRule("Contact", name="No_Shared_Emails", action="block")
    with SalesforceEmulator(objects={"Contact": _shared_email_rows()}, duplicate_rules=[rule]) as e:
        bob = str(e.records("Contact")[1]["Id"])
        conn = _connect(e, bulk="never", duplicate_rule_allow_save=True)
        out = conn.update([FieldUpdate(bob, {"Email": "family@example.com"})])[0]
        assert out.status == "failed" and "No_Shared_Emails" in (out.error or "") and "blocks" in (out.error or "")


def _twins() -> list[dict[str, str]]:
    # Ann Lee twice with one e-mail (already in the org), and Bob Lee on the same family mailbox: no duplicate under
    # the standard matching rule (it compares first and last name with the e-mail) until an edit renames him Ann
    return [{"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com", "Department": "Sales"},
            {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com", "Department": "Sales"},
            {"FirstName": "Bob", "LastName": "Lee", "Email": "ann@example.com", "Department": "Sales"}]


def test_standard_duplicate_rules_are_active_by_default_and_run_on_edits_of_compared_fields() -> None:
    from crmclean.connectors.base import FieldUpdate

    with SalesforceEmulator(objects={"Contact": _twins()}) as e:  # no duplicate_rules: a new org's standard rules
        ann, ann2, bob = (str(r["Id"]) for r in e.records("Contact"))
        conn = _connect(e, bulk="never")
        out = conn.update([FieldUpdate(bob, {"FirstName": "Ann"}), FieldUpdate(ann2, {"Department": "Support"})])
        assert out[0].status == "failed" and "Standard_Contact_Duplicate_Rule" in (out[0].error or "")
        assert ann[:15] in (out[0].error or "") and "duplicate_rule_allow_save" in (out[0].error or "")
        assert out[1].status == "ok"  # an edit of a field no matching rule compares runs no rule, twins or not
        assert e.record("Contact", bob)["FirstName"] == "Bob"  # type: ignore[index]
        allowed = _connect(e, bulk="never", duplicate_rule_allow_save=True)
        assert allowed.update([FieldUpdate(bob, {"FirstName": "Ann"})])[0].status == "ok"
    with SalesforceEmulator(objects={"Contact": _twins()}, duplicate_rules=[]) as e:
        bob = str(e.records("Contact")[2]["Id"])
        assert _connect(e, bulk="never").update([FieldUpdate(bob, {"FirstName": "Ann"})])[0].status == "ok"


def test_bulk_ingest_runs_duplicate_rules_without_a_header_and_allow_save_writes_through_rest() -> None:
    from crmclean.connectors.base import FieldUpdate

    with SalesforceEmulator(objects={"Contact": _twins()}) as e:
        _, ann2, bob = (str(r["Id"]) for r in e.records("Contact"))
        out = _connect(e, bulk="always").update([FieldUpdate(bob, {"FirstName": "Ann"}),
                                                 FieldUpdate(ann2, {"Department": "Support"})])
        assert e.request_count("/jobs/ingest") > 0
        # Bulk API 2.0 has no Duplicate Rule Header: the row fails in failedResults, the other row is written
        assert out[0].status == "failed" and "DUPLICATES_DETECTED" in (out[0].error or "")
        assert out[1].status == "ok"
        before = e.request_count("/jobs/ingest")
        out = _connect(e, bulk="always", duplicate_rule_allow_save=True).update(
            [FieldUpdate(bob, {"FirstName": "Ann"})])
        assert out[0].status == "ok" and e.request_count("/jobs/ingest") == before  # sObject Collections carry it


def test_merge_runs_no_duplicate_rule() -> None:
    from crmclean.connectors.base import MergeRequest

    with SalesforceEmulator(objects={"Contact": _twins()}) as e:
        ann, ann2, _ = (str(r["Id"]) for r in e.records("Contact"))
        out = _connect(e).merge(MergeRequest(ann, [ann2], {"Department": "Support"}))
        assert [o.status for o in out] == ["ok", "ok"]


def test_apply_on_a_default_org_reports_the_standard_rule_per_record(tmp_path: Path, env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.writeback.plan import save_plan

    rows = [{"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com"},
            {"FirstName": "Ann", "LastName": "Lee", "Email": " ANN@Example.com "},  # the cleanup makes it Ann's twin
            {"FirstName": "Cy", "LastName": "Park", "Email": " CY@Example.com "}]
    with SalesforceEmulator(objects={"Contact": rows}) as e:
        env_of(e)
        _, twin, cy = (str(r["Id"]) for r in e.records("Contact"))
        plan = api.plan("salesforce:Contact", steps=["standardize"])
        assert {op.record_id for op in plan.updates if op.field == "Email"} >= {twin, cy}
        save_plan(plan, tmp_path / "plan.json")
        report = api.apply(tmp_path / "plan.json", store=tmp_path / "runs.duckdb")
        assert isinstance(report, api.RunReport)
        assert [(p["record_id"], p["status"]) for p in report.problems] == [(twin, "failed")]
        assert "Standard_Contact_Duplicate_Rule" in str(report.problems[0]["error"])
        after = next(op.after for op in plan.updates if op.record_id == cy and op.field == "Email")
        assert e.record("Contact", cy)["Email"] == after  # type: ignore[index]


def test_apply_reports_duplicates_detected_per_record_and_the_rules_file_opt_in(tmp_path: Path, env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.connectors.salesforce.emulator import DuplicateRule
    from crmclean.writeback.plan import save_plan

    rule = DuplicateRule("Contact", name="Contact_Email_Rule")
    with SalesforceEmulator(objects={"Contact": _shared_email_rows()}, duplicate_rules=[rule]) as e:
        env_of(e)
        bob = str(e.records("Contact")[1]["Id"])
        plan = api.plan("salesforce:Contact", steps=["standardize"])
        assert any(op.record_id == bob and op.field == "Email" for op in plan.updates)
        save_plan(plan, tmp_path / "plan.json")
        report = api.apply(tmp_path / "plan.json", store=tmp_path / "runs.duckdb")
        assert isinstance(report, api.RunReport)
        problems = [p for p in report.problems if p["record_id"] == bob]
        assert problems and "Contact_Email_Rule" in str(problems[0]["error"])

        rules = tmp_path / "rules.yaml"
        rules.write_text("source:\n  duplicate_rule_allow_save: true\n")
        plan = api.plan("salesforce:Contact", rules=str(rules), steps=["standardize"])
        assert plan.source.options.get("duplicate_rule_allow_save") == "true"
        save_plan(plan, tmp_path / "plan2.json")
        report = api.apply(tmp_path / "plan2.json", store=tmp_path / "runs.duckdb")
        assert isinstance(report, api.RunReport) and report.counts["failed"] == 0, report.problems
        after = next(op.after for op in plan.updates if op.record_id == bob and op.field == "Email")
        assert e.record("Contact", bob)["Email"] == after  # type: ignore[index]


# -- item 5: a create behind a gateway error or a timeout is found, never made twice ----------------------------


def test_landed_create_is_found_with_its_new_id_and_not_sent_twice() -> None:
    with SalesforceEmulator(objects={"Contact": _contacts(3)}, timeout_seconds=0.5) as e:
        conn = SalesforceConnector("Contact", ConnectorOptions(bulk="never"), env=e.env(), sleep=lambda _s: None,
                                   timeout=0.3)
        e.inject("landed_504", path_contains="/composite/sobjects")
        out = conn.create([{"LastName": "Once", "Email": "once@example.com"},
                           {"LastName": "Twice", "FirstName": "Ann0", "Email": "t@example.com"}])
        live = e.records("Contact")
        assert [r["LastName"] for r in live[3:]] == ["Once", "Twice"]  # each landed once
        assert [o.status for o in out] == ["ok", "ok"]
        assert [o.new_id for o in out] == [live[3]["Id"], live[4]["Id"]]
        assert e.request_count("/composite/sobjects", method="POST") == 1  # never resent

        # not landed (503 refusals): nothing found, reported failed, nothing created
        e.inject("503", count=10, path_contains="/composite/sobjects")
        refused = conn.create([{"LastName": "Never"}])[0]
        assert refused.status == "failed" and len(e.records("Contact")) == 5


def test_find_created_matches_values_and_time() -> None:
    import datetime as dt

    with SalesforceEmulator(objects={"Contact": _contacts(3)}) as e:
        conn = _connect(e, bulk="never")
        before = dt.datetime.now(dt.UTC)
        made = conn.create([{"LastName": "Lee0", "FirstName": "Ann0", "Email": "ann0@example.com"}])[0]
        assert made.status == "ok"
        # the loaded Ann0 holds the same values but was created before; only the new copy is found
        assert conn.find_created({"LastName": "Lee0", "FirstName": "Ann0", "Email": "ann0@example.com"},
                                 before) in ([made.new_id], [str(e.records("Contact")[0]["Id"]), made.new_id])
        assert conn.find_created({"LastName": "Lee0", "Email": "other@example.com"}, before) == []


def test_rollback_finds_the_landed_recreate(tmp_path: Path, env_of) -> None:  # type: ignore[no-untyped-def]
    """A rollback's re-create answered 504 after it landed is journaled with its new id, not reported failed or
    made twice (the same find_created answers the engine when it resumes an in-doubt re-create)."""
    from crmclean import api
    from crmclean.writeback.plan import save_plan

    rows = [{"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com", "Phone": "+4790000001"},
            {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com", "Phone": "+4790000001"},
            {"FirstName": "Bob", "LastName": "Stone", "Email": "bob@example.com", "Phone": "+4790000002"}]
    with SalesforceEmulator(objects={"Contact": rows}) as e:
        env_of(e)
        plan = api.plan("salesforce:Contact")
        assert plan.summary()["merges"] == 1
        save_plan(plan, tmp_path / "plan.json")
        store = tmp_path / "runs.duckdb"
        first = api.apply(tmp_path / "plan.json", store=store)
        assert isinstance(first, api.RunReport) and len(e.records("Contact")) == 2
        e.inject("landed_504", path_contains="/composite/sobjects")
        undo = api.rollback(str(first.run_id), store=store)
        assert isinstance(undo, api.RunReport)
        assert undo.counts["failed"] == 0, undo.problems  # found by find_created, not reported failed
        assert len(e.records("Contact")) == 3  # re-created once
        assert sum(1 for r in e.request_log if r.method == "POST" and r.path.endswith("/composite/sobjects")) == 1


# -- item 2: merge preview: child records the merge re-parents --------------------------------------------------


def _org_with_children() -> SalesforceEmulator:
    accounts = [{"Name": "Acme Trading LLC", "Phone": "+47 22 00 00 01", "Website": "acme.example.com",
                 "BillingCity": "Oslo"},
                {"Name": "ACME Trading, LLC", "Phone": "+4722000001", "Website": "https://acme.example.com",
                 "BillingCity": "Oslo"},
                {"Name": "Nordic Paper AS", "Phone": "+47 22 00 00 09", "Website": "nordicpaper.example.com",
                 "BillingCity": "Bergen"}]
    e = SalesforceEmulator(objects={"Account": accounts})
    acme, acme2, paper = (str(r["Id"]) for r in e.records("Account"))
    e.load("Contact", [{"LastName": "A", "AccountId": acme}, {"LastName": "B", "AccountId": acme2},
                       {"LastName": "C", "AccountId": acme2}, {"LastName": "D", "AccountId": paper}])
    e.load("Opportunity", [{"Name": "Deal", "StageName": "Prospecting", "AccountId": acme2}])
    e.load("Case", [{"Subject": "Help", "AccountId": acme}])
    return e


def test_merge_preview_counts_children_and_the_merge_moves_them() -> None:
    from crmclean.connectors.base import MergeRequest

    with _org_with_children() as e:
        acme, acme2, paper = (str(r["Id"]) for r in e.records("Account"))
        conn = _connect(e, "Account")
        preview = conn.merge_preview([MergeRequest(acme, (acme2,)), MergeRequest(paper, ())])
        assert preview == {acme: {"Contact": 2, "Opportunity": 1, "Case": 0},
                           paper: {"Contact": 0, "Opportunity": 0, "Case": 0}}
        assert e.request_count("/query") == 3  # one aggregate query per child object
        assert conn.merge(MergeRequest(acme, (acme2,)))[0].status == "ok"
        assert sorted(str(r["AccountId"]) for r in e.records("Contact")) == sorted([acme, acme, acme, paper])
        assert e.records("Opportunity")[0]["AccountId"] == acme


def test_plan_shows_the_children_each_account_merge_moves(env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.writeback.plan import plan_json, render_plan_diff

    with _org_with_children() as e:
        env_of(e)
        acme2 = str(e.records("Account")[1]["Id"])
        plan = api.plan("salesforce:Account")
        merges = plan.merges
        assert len(merges) == 1 and acme2 in [merges[0].master_id, *merges[0].loser_ids]
        moved = merges[0].preview
        assert moved and sum(moved.values()) in (3, 1)  # the loser's children: 2 contacts + 1 deal, or 1 + 1 case
        assert '"preview"' in plan_json(plan)
        assert "moves to the master: " in render_plan_diff(plan)


# -- item 3: Person Accounts and record types -------------------------------------------------------------------


def _accounts() -> list[dict[str, str]]:
    return [{"Name": "Acme Trading LLC", "Phone": "+47 22 00 00 01", "Website": "acme.example.com", "BillingCity": "Oslo"},
            {"Name": "ACME Trading, LLC", "Phone": "+4722000001", "Website": "https://acme.example.com",
             "BillingCity": "Oslo"},
            {"Name": "Kari Nordmann", "Phone": "+47 22 00 00 07", "BillingCity": "Bergen", "IsPersonAccount": "true"}]


def test_person_accounts_are_left_out_of_account_reads_unless_named(env_of) -> None:  # type: ignore[no-untyped-def]
    with SalesforceEmulator(objects={"Account": _accounts()}, person_accounts=True) as e:
        conn = _connect(e, "Account", bulk="never")
        names = [r for f in conn.read_pages(["Name"]) for r in f.get_column("Name").to_list()]
        assert "Kari Nordmann" not in names and len(names) == 2
        assert conn.count("IsPersonAccount = true") == 1  # opted in by naming the field
        field = next(f for f in conn.describe() if f.name == "IsPersonAccount")
        assert not field.updateable


def test_records_of_different_record_types_are_never_merged(env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.writeback.plan import render_plan_diff

    rows = _accounts()[:2]
    with SalesforceEmulator(objects={}, record_types={"Account": ["Customer", "Partner"]}) as e:
        rows[1]["RecordTypeId"] = e.record_type_id("Account", "Partner")
        e.load("Account", rows)
        env_of(e)
        assert e.records("Account")[0]["RecordTypeId"] == e.record_type_id("Account", "Customer")
        plan = api.plan("salesforce:Account")
        assert plan.merges == []
        note = next(n for n in plan.notes if "record types" in n)
        assert "Customer" in note and "Partner" in note and "never merges" in note
        assert "not planned" in render_plan_diff(plan)

        e.human_edit("Account", str(e.records("Account")[1]["Id"]),
                     {"RecordTypeId": e.record_type_id("Account", "Customer")})
        assert len(api.plan("salesforce:Account").merges) == 1  # the same type: merged as before


# -- picklist values per record type ----------------------------------------------------------------------------


def test_a_picklist_value_the_record_type_does_not_allow_is_kept_as_is(tmp_path: Path, env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.writeback.plan import render_plan_diff, save_plan

    country = {"type": "picklist", "picklist": ["RU", "US", "russia", "Russia"], "restricted": True}
    with SalesforceEmulator(objects={}, record_types={"Contact": ["Customer", "Partner"]},
                            record_type_picklists={"Contact": {"Partner": {"BillingCountry": ["US", "russia"]}}}) as e:
        partner = e.record_type_id("Contact", "Partner")
        e.load("Contact", [{"FirstName": "Ann", "LastName": "Lee", "BillingCountry": "russia", "RecordTypeId": partner},
                           {"FirstName": "Bob", "LastName": "Stone", "BillingCountry": "Russia"}],
               field_types={"BillingCountry": country})
        ann, bob = (str(r["Id"]) for r in e.records("Contact"))
        env_of(e)
        # the emulator answers the UI API resource, and refuses the value on a write (a restricted picklist)
        conn = _connect(e, bulk="never")
        from crmclean.connectors.base import FieldUpdate

        out = conn.update([FieldUpdate(ann, {"BillingCountry": "RU"})])[0]
        assert out.status == "failed" and "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in (out.error or "")

        plan = api.plan("salesforce:Contact", steps=["standardize"])
        assert [(op.record_id, op.after) for op in plan.updates if op.field == "BillingCountry"] == [(bob, "RU")]
        kept = [k for k in plan.kept if k.field == "BillingCountry"]
        assert [k.record_id for k in kept] == [ann] and "Partner" in kept[0].reason
        assert e.request_count("/ui-api/object-info/Contact/picklist-values/") == 2  # once per record type
        assert "kept as is" in render_plan_diff(plan)
        save_plan(plan, tmp_path / "plan.json")
        report = api.apply(tmp_path / "plan.json", store=tmp_path / "runs.duckdb")
        assert isinstance(report, api.RunReport) and report.counts["failed"] == 0, report.problems
        assert e.record("Contact", ann)["BillingCountry"] == "russia"  # type: ignore[index]
        assert e.record("Contact", bob)["BillingCountry"] == "RU"  # type: ignore[index]


def test_an_object_without_record_types_asks_no_picklist_values(env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api

    with SalesforceEmulator(objects={"Contact": [{"FirstName": "Ann", "LastName": "Lee", "BillingCountry": "russia"}]},
                            field_types={"Contact": {"BillingCountry": {"type": "picklist",
                                                                        "picklist": ["RU", "russia"]}}}) as e:
        env_of(e)
        plan = api.plan("salesforce:Contact", steps=["standardize"])
        assert [op.after for op in plan.updates] == ["RU"] and plan.kept == []
        assert e.request_count("/ui-api/") == 0


def test_a_merge_golden_value_the_master_record_type_does_not_allow_is_kept_as_is(env_of) -> None:  # type: ignore[no-untyped-def]
    from crmclean import api
    from crmclean.writeback.plan import render_plan_diff

    country = {"type": "picklist", "picklist": ["RU", "US", "russia", "Russia"], "restricted": True}
    with SalesforceEmulator(objects={}, record_types={"Contact": ["Customer", "Partner"]},
                            record_type_picklists={"Contact": {"Partner": {"BillingCountry": ["US", "russia"]}}}) as e:
        partner = e.record_type_id("Contact", "Partner")
        e.load("Contact", [{"FirstName": "Ann", "LastName": "Lee", "Email": "ann.lee@acme.example.com",
                            "Phone": "+1 617 555 0101", "Title": "CFO", "Department": "Finance",
                            "MailingCity": "Boston", "RecordTypeId": partner},
                           {"FirstName": "Ann", "LastName": "Lee", "Email": "ann.lee@acme.example.com",
                            "Phone": "+16175550101", "BillingCountry": "Russia", "RecordTypeId": partner}],
               field_types={"BillingCountry": country})
        env_of(e)
        plan = api.plan("salesforce:Contact")
        assert len(plan.merges) == 1
        merge = plan.merges[0]
        assert "BillingCountry" not in merge.values, merge.values  # never the refused "RU"
        kept = [k for k in plan.kept if k.field == "BillingCountry" and k.record_id == merge.master_id]
        assert len(kept) == 1 and "Partner" in kept[0].reason and "master keeps its own value" in kept[0].reason
        assert "kept as is" in render_plan_diff(plan)
