"""SalesforceConnector against the emulator: real simple-salesforce over real HTTPS, no mocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from crmclean.connectors import ConnectorOptions, FieldUpdate, MergeRequest, open_connector
from crmclean.connectors.base import Connector
from crmclean.connectors.http import Retry, backoff_delay, call_with_retry
from crmclean.connectors.salesforce import SalesforceConnector, load_credentials
from crmclean.connectors.salesforce.emulator import SalesforceEmulator
from crmclean.errors import ConnectorError, ExitCode, UsageError


def contact_rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "FirstName": f"Ann{i}",
            "LastName": f"Lee{i % 7}",
            "Email": f"ann{i}@example.com",
            "HasOptedOutOfEmail": "true" if i % 3 == 0 else "false",
            "Score__c": f"{i}.5",
            "MailingCity": "Oslo" if i % 2 else "Rome",
        }
        for i in range(n)
    ]


class Sleeps(list[float]):
    """An injected sleep that records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(objects={"Contact": contact_rows(40)}) as e:
        yield e


def connect(e: SalesforceEmulator, env: dict[str, str] | None = None, **options: object) -> SalesforceConnector:
    conn = SalesforceConnector("Contact", ConnectorOptions(**options),  # type: ignore[arg-type]
                               env=env or e.env(), sleep=Sleeps())
    conn.bulk_poll_seconds = 0
    return conn


def ids_of(e: SalesforceEmulator, n: int) -> list[str]:
    return [str(r["Id"]) for r in e.records("Contact")[:n]]


# -- reading ----------------------------------------------------------------------------------


def test_protocol_and_describe(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    assert isinstance(conn, Connector)
    assert conn.id_field == "Id" and conn.max_batch == 200
    assert conn.capabilities == {"update", "merge", "create", "delete"}
    fields = {f.name: f for f in conn.describe()}
    assert fields["Email"].type == "email" and fields["Email"].updateable
    assert fields["LastName"].required and not fields["FirstName"].required
    assert not fields["Id"].updateable and not fields["LastModifiedDate"].updateable
    assert fields["MailingAddress"].type == "address"


def test_rest_paging_5000_records() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(5000)}) as e:
        conn = connect(e, bulk="never")
        seen: list[tuple[int, int]] = []
        conn.progress = lambda done, total: seen.append((done, total))
        pages = list(conn.read_pages())
        assert conn.last_read_mode == "rest"
        assert [p.height for p in pages] == [2000, 2000, 1000]
        assert all(p.height <= 2000 for p in pages)  # the REST API's page maximum
        assert e.request_count("/query") == 3  # one query + two queryMore
        assert seen == [(2000, 5000), (4000, 5000), (5000, 5000)]
        frame = pl.concat(pages)
        assert frame.height == 5000 and frame["Id"].n_unique() == 5000
        assert all(dtype == pl.String for dtype in frame.dtypes)
        assert "MailingAddress" not in frame.columns  # compound fields are left out by default
        first = frame.row(0, named=True)
        assert first["HasOptedOutOfEmail"] == "true" and first["Score__c"] == "0.5"
        assert first["LastModifiedDate"].endswith("Z") and first["IsDeleted"] == "false"
        assert conn.request_count == e.request_count()  # the connector counts every request it sends


def test_bulk_read_matches_rest_read() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(1200)}) as e:
        rest = pl.concat(list(connect(e, bulk="never").read_pages(["FirstName", "Email", "LastModifiedDate"])))
        conn = connect(e, bulk="always")
        conn.bulk_page_size = 500
        pages = list(conn.read_pages(["firstname", "Email", "LastModifiedDate"]))
        assert conn.last_read_mode == "bulk" and [p.height for p in pages] == [500, 500, 200]
        assert e.request_count("/jobs/query") >= 4  # create, status, 3 result pages
        bulk = pl.concat(pages)
        assert bulk.columns == ["Id", "FirstName", "Email", "LastModifiedDate"]
        assert bulk.equals(rest)  # same values, nulls and timestamp spelling either way


def test_wide_object_read_does_not_overflow_the_uri() -> None:
    """Issue 15 item 6: 700 fields in a REST query's GET URI pass Salesforce's 16,384-byte limit."""
    wide = [{"LastName": f"L{i}", **{f"Very_Long_Custom_Field_Name_{k:03d}__c": f"v{i}-{k}" for k in range(700)}}
            for i in range(3)]
    with SalesforceEmulator(objects={"Contact": wide}) as e:
        conn = connect(e, bulk="never")
        frame = pl.concat(list(conn.read_pages()))
        assert frame.height == 3 and frame["Very_Long_Custom_Field_Name_699__c"].to_list() == ["v0-699", "v1-699",
                                                                                                "v2-699"]
        assert e.request_count(method="GET") and not any(r.status == 414 for r in e.request_log)


def test_converted_leads_are_left_out_by_default() -> None:
    """Issue 15: converted leads cannot be updated or merged (CANNOT_UPDATE_CONVERTED_LEAD); reads skip them."""
    leads = [{"LastName": f"L{i}", "Company": "Acme", "IsConverted": "true" if i % 2 else "false"} for i in range(6)]
    with SalesforceEmulator(objects={"Lead": leads}) as e:
        conn = SalesforceConnector("Lead", ConnectorOptions(bulk="never"), env=e.env(), sleep=Sleeps())
        assert conn.count() == 3
        names = pl.concat(list(conn.read_pages(["LastName"])))["LastName"].to_list()
        assert names == ["L0", "L2", "L4"]
        assert pl.concat(list(conn.read_pages(["LastName"], where="Company = 'Acme'"))).height == 3
        assert pl.concat(list(conn.read_pages(["LastName"], where="IsConverted = true"))).height == 3
        converted = [str(r["Id"]) for r in e.records("Lead") if r["IsConverted"] == "true"]
        outcome = conn.update([FieldUpdate(converted[0], {"LastName": "X"})])[0]
        assert outcome.status == "failed" and "CANNOT_UPDATE_CONVERTED_LEAD" in (outcome.error or "")


def test_auto_mode_picks_bulk_above_threshold(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    conn.bulk_threshold = 30
    list(conn.read_pages(["Email"]))
    assert conn.last_read_mode == "bulk"
    assert emu.request_count(f"v{emu.api_version}/query") == 1  # the SELECT COUNT() that decided
    list(conn.read_pages(["Email"], where="MailingCity = 'Oslo' AND Score__c < 10"))
    assert conn.last_read_mode == "rest"


def test_where_clause_and_empty_result(emu: SalesforceEmulator) -> None:
    conn = connect(emu, bulk="never")
    frame = pl.concat(list(conn.read_pages(["Email", "LastName"], where="LastName IN ('Lee1', 'Lee2')")))
    assert sorted(set(frame["LastName"].to_list())) == ["Lee1", "Lee2"] and frame.height == 12
    empty = list(conn.read_pages(["Email"], where="Email LIKE '%@nowhere.test'"))
    assert len(empty) == 1 and empty[0].height == 0 and empty[0].columns == ["Id", "Email"]
    with pytest.raises(UsageError):
        list(conn.read_pages(["NoSuchField__c"]))
    with pytest.raises(ConnectorError) as err:
        list(conn.read_pages(["Email"], where="Email === 'x'"))
    assert "MALFORMED_QUERY" in str(err.value)


def test_options_fields_and_where_are_defaults(emu: SalesforceEmulator) -> None:
    conn = connect(emu, bulk="never", fields=["Email"], where="MailingCity = 'Rome'")
    frame = pl.concat(list(conn.read_pages()))
    assert frame.columns == ["Id", "Email"] and frame.height == 20


def test_fetch_and_version_of_human_edit(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    ids = ids_of(emu, 3)
    got = conn.fetch([*ids, "003000000000000AAA", ids[0][:15]], ["Email"])
    assert set(got) == {*ids, ids[0][:15]}  # unknown ids are simply absent; 15-char ids work
    assert got[ids[1]]["Email"] == "ann1@example.com"
    before = conn.version_of(got[ids[1]])
    assert before == got[ids[1]]["LastModifiedDate"]
    emu.human_edit("Contact", ids[1], {"Email": "changed.in.crm@example.com"})
    after = conn.fetch([ids[1]], ["Email"])[ids[1]]
    assert conn.version_of(after) != before and after["Email"] == "changed.in.crm@example.com"
    assert conn.version_of({"Email": "a"}) == conn.version_of({"Email": "a"})  # values hash fallback


# -- writing ----------------------------------------------------------------------------------


def test_update_with_partial_failure_per_record(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    ids = ids_of(emu, 4)
    emu.inject("partial_failure", fail_ids=[ids[1]])
    outcomes = conn.update([
        FieldUpdate(ids[0], {"Email": "fixed@example.com", "HasOptedOutOfEmail": "false"}),
        FieldUpdate(ids[1], {"Email": "blocked@example.com"}),
        FieldUpdate(ids[2], {"Email": "not-an-email"}),
        FieldUpdate(ids[3], {"Phone__x": "1"}),
    ])
    assert [o.record_id for o in outcomes] == ids
    assert [o.status for o in outcomes] == ["ok", "failed", "failed", "failed"]
    assert outcomes[1].error and outcomes[1].error.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert outcomes[2].error == "INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email [Email]"
    assert outcomes[3].error and "INVALID_FIELD" in outcomes[3].error
    assert emu.record("Contact", ids[0])["Email"] == "fixed@example.com"  # type: ignore[index]
    assert emu.record("Contact", ids[1])["Email"] == "ann1@example.com"  # type: ignore[index]


def test_update_chunks_of_200_and_bulk_ingest() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(450)}) as e:
        ids = ids_of(e, 450)
        conn = connect(e, bulk="never")
        outcomes = conn.update([FieldUpdate(i, {"FirstName": "Chunked"}) for i in ids])
        assert all(o.status == "ok" for o in outcomes) and len(outcomes) == 450
        assert e.request_count("/composite/sobjects", method="PATCH") == 3  # 200 + 200 + 50
        bulk = connect(e, bulk="always")
        e.inject("partial_failure", fail_ids=[ids[5]])
        result = bulk.update([FieldUpdate(i, {"FirstName": "Bulk", "Email": None}) for i in ids[:10]])
        assert [o.status for o in result].count("ok") == 9
        assert result[5].status == "failed" and result[5].error and "FIELD_CUSTOM_VALIDATION" in result[5].error
        assert e.request_count("/jobs/ingest") >= 5
        rec = e.record("Contact", ids[0])
        assert rec and rec["FirstName"] == "Bulk" and rec["Email"] is None and rec["LastName"] == "Lee0"


def test_bulk_job_failed_part_way_reports_what_it_wrote() -> None:
    """Issue 15 item 1: a Bulk 2.0 ingest job that ends Failed keeps the rows it processed."""
    with SalesforceEmulator(objects={"Contact": contact_rows(10)}) as e:
        ids = ids_of(e, 10)
        bulk = connect(e, bulk="always")
        e.inject("job_failed")
        result = bulk.update([FieldUpdate(i, {"FirstName": "Bulk"}) for i in ids])
        assert [o.status for o in result] == ["ok"] * 5 + ["skipped"] * 5
        assert result[9].error and "ended Failed" in result[9].error
        changed = [str(r["Id"]) for r in e.records("Contact") if r["FirstName"] == "Bulk"]
        assert sorted(changed) == sorted(o.record_id for o in result if o.status == "ok")
        assert e.request_count("unprocessedrecords") == 1 and e.request_count("successfulResults") == 1


def test_create_behind_a_landed_504_is_not_sent_twice(emu: SalesforceEmulator) -> None:
    """Issue 15 item 9: a gateway error may come after the create landed; resending would duplicate the record."""
    conn = connect(emu, bulk="never")
    before = len(emu.records("Contact"))
    emu.inject("landed_504", path_contains="/composite/sobjects")
    outcome = conn.create([{"LastName": "Once", "Email": "once@example.com"}])[0]
    assert [r["LastName"] for r in emu.records("Contact")][before:] == ["Once"]  # landed once, not twice
    # the landed create is found by its values (find_created) and reported with its new id
    assert outcome.status == "ok" and outcome.new_id == emu.records("Contact")[-1]["Id"]
    assert "GATEWAY_TIMEOUT" in (outcome.error or "")


def test_merge_one_master_three_losers_in_steps(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    master, *losers = ids_of(emu, 4)
    outcomes = conn.merge(MergeRequest(master, tuple(losers), {"FirstName": "Golden", "Email": None}))
    assert [(o.record_id, o.status) for o in outcomes] == [(master, "ok")] + [(i, "ok") for i in losers]
    assert emu.request_count("/services/Soap/u/") == 2  # 2 losers, then 1
    kept = emu.record("Contact", master)
    assert kept and kept["FirstName"] == "Golden" and kept["Email"] is None and kept["IsDeleted"] == "false"
    for loser in losers:
        rec = emu.record("Contact", loser)
        assert rec and rec["IsDeleted"] == "true" and rec["MasterRecordId"] == master
    assert len(emu.records("Contact")) == 37


def test_merge_failed_step_stops_the_rest(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    master, a, b, c, d, e = ids_of(emu, 6)
    conn.delete([c])  # step 2 names a deleted record
    outcomes = conn.merge(MergeRequest(master, (a, b, c, d, e)))
    assert [o.status for o in outcomes] == ["failed", "ok", "ok", "failed", "failed", "skipped"]
    assert outcomes[0].error and "ENTITY_IS_DELETED" in outcomes[0].error
    assert emu.record("Contact", e)["IsDeleted"] == "false"  # type: ignore[index]


def test_create_and_delete(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    snapshot = emu.record("Contact", ids_of(emu, 1)[0])
    assert snapshot
    created = conn.create([snapshot, {"FirstName": "No last name"}])
    assert created[0].status == "ok" and created[0].record_id == snapshot["Id"]
    assert created[0].new_id and created[0].new_id != snapshot["Id"]
    assert created[1].status == "failed" and created[1].error and "REQUIRED_FIELD_MISSING" in created[1].error
    copy = emu.record("Contact", created[0].new_id)
    assert copy and copy["Email"] == snapshot["Email"] and copy["CreatedDate"] != snapshot["CreatedDate"]
    deleted = conn.delete([created[0].new_id, "003000000000000AAA"])
    assert [o.status for o in deleted] == ["ok", "failed"]
    assert emu.record("Contact", created[0].new_id)["IsDeleted"] == "true"  # type: ignore[index]


# -- limits, retries, auth --------------------------------------------------------------------


def test_429_with_retry_after_and_503_are_retried(emu: SalesforceEmulator) -> None:
    conn = connect(emu, bulk="never")
    emu.inject("429", count=1, path_contains="/query", retry_after=3)
    emu.inject("503", count=2, path_contains="/query")
    frame = pl.concat(list(conn.read_pages(["Email"])))
    assert frame.height == 40 and conn.retry_count == 3
    sleeps = conn.sleep
    assert isinstance(sleeps, Sleeps) and sleeps[0] == 3.0  # Retry-After honoured
    assert emu.request_count("/query") == 4


def test_request_limit_exceeded_retried_then_reported(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    emu.inject("request_limit", count=1, path_contains="/describe")
    assert conn.describe()
    assert conn.retry_count == 1
    emu.inject("request_limit", count=10, path_contains="/query")
    with pytest.raises(ConnectorError) as err:
        conn.count()
    assert "REQUEST_LIMIT_EXCEEDED" in str(err.value) and "5 attempts" in str(err.value)
    assert err.value.exit_code == ExitCode.SOURCE


def test_timeout_is_retried_but_not_for_creates() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(5)}, timeout_seconds=0.5) as e:
        conn = SalesforceConnector("Contact", ConnectorOptions(bulk="never"), env=e.env(), sleep=Sleeps(),
                                   timeout=0.2)
        e.inject("timeout", path_contains="/query")
        assert pl.concat(list(conn.read_pages(["Email"]))).height == 5
        assert conn.retry_count == 1
        e.inject("timeout", path_contains="/composite/sobjects")
        created = conn.create([{"LastName": "Maybe"}])
        assert created[0].status == "failed" and "ReadTimeout" in (created[0].error or "")
        assert e.request_count("/composite/sobjects", method="POST") == 1  # a create is never blindly resent


def test_expired_session_reauthenticates_via_oauth(emu: SalesforceEmulator, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    emu.register_jwt_key("crmclean-jwt-app", key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    env = {"SALESFORCE_LOGIN_URL": emu.login_url, "SALESFORCE_USERNAME": emu.username,
           "SALESFORCE_CONSUMER_KEY": "crmclean-jwt-app", "SALESFORCE_PRIVATE_KEY_FILE": str(key_file),
           "SALESFORCE_CA_BUNDLE": str(emu.ca_file)}
    conn = connect(emu, env=env, bulk="never")
    assert conn.count() == 40
    assert emu.request_count("/services/oauth2/token") == 1
    emu.inject("expire_session", path_contains="/query")
    assert pl.concat(list(conn.read_pages(["Email"]))).height == 40
    assert emu.request_count("/services/oauth2/token") == 2  # logged in again, once

    # A session plus OAuth password credentials: start on the session, renew through the token endpoint.
    both = connect(emu, env={**emu.env(), **emu.login_env("oauth")})
    emu.expire_sessions()
    ids = ids_of(emu, 1)
    assert both.update([FieldUpdate(ids[0], {"FirstName": "Renewed"})])[0].status == "ok"
    assert emu.request_count("/services/oauth2/token") == 3

    # SOAP login (username, password, security token) renews too.
    soap = connect(emu, env=emu.login_env())
    assert soap.count() == 40
    emu.inject("expire_session", path_contains="/Soap/u/")
    assert [o.status for o in soap.merge(MergeRequest(ids[0], (ids_of(emu, 2)[1],)))] == ["ok", "ok"]


def test_session_only_expiry_is_a_clear_error_without_secrets(emu: SalesforceEmulator) -> None:
    conn = connect(emu)
    emu.expire_sessions()
    with pytest.raises(ConnectorError) as err:
        conn.describe()
    message = str(err.value)
    assert "INVALID_SESSION_ID" in message and "SALESFORCE_SESSION_ID" in message
    assert emu.session_id not in message and emu.session_id not in repr(conn)


def test_login_failure_message_has_no_secrets(emu: SalesforceEmulator) -> None:
    env = {**emu.login_env(), "SALESFORCE_PASSWORD": "Sup3r-Secret-Pw", "SALESFORCE_SECURITY_TOKEN": "TOK123456"}
    conn = connect(emu, env=env)
    with pytest.raises(ConnectorError) as err:
        conn.count()
    message = str(err.value)
    assert "INVALID_LOGIN" in message and emu.username in message
    for secret in ("Sup3r-Secret-Pw", "TOK123456"):
        assert secret not in message and secret not in repr(conn) and secret not in repr(conn._creds)


def test_api_share_budget_stops_the_run() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(3000)}, daily_api_limit=40) as e:
        conn = connect(e, bulk="never", api_share=0.25)  # 10 of the org's 40 daily requests
        conn.batch_size = 200  # 15 pages: more than the budget allows
        with pytest.raises(ConnectorError) as err:
            list(conn.read_pages(["Email"]))
        assert "API budget of 10 requests" in str(err.value)
        assert e.api_used == 10  # stopped before the 11th counted request left the machine


def test_limits_refused_budget_from_sforce_limit_info() -> None:
    """Issue 15 item 5: a user without View Setup and Configuration gets 403 on /limits; the run goes on."""
    with SalesforceEmulator(objects={"Contact": contact_rows(5)}, daily_api_limit=40, view_setup=False) as e:
        conn = connect(e, bulk="never", api_share=0.25)
        assert conn.count() == 5  # used to fail: every command stopped on the refused /limits
        assert e.request_count("/limits") == 1
        with pytest.raises(ConnectorError, match="API budget"):
            for _ in range(20):
                conn.count()


def test_jwt_audience_names_the_login_server(emu: SalesforceEmulator, tmp_path: Path) -> None:
    """Issue 15 item 9: the JWT audience (login/test server) is settable apart from the token host (My Domain)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    emu.register_jwt_key("jwt-app", key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    env = {"SALESFORCE_LOGIN_URL": emu.login_url, "SALESFORCE_USERNAME": emu.username,
           "SALESFORCE_CONSUMER_KEY": "jwt-app", "SALESFORCE_PRIVATE_KEY_FILE": str(key_file),
           "SALESFORCE_CA_BUNDLE": str(emu.ca_file)}
    assert connect(emu, env={**env, "SALESFORCE_JWT_AUDIENCE": "https://test.salesforce.com"}).count() == 40
    with pytest.raises(ConnectorError):  # a My Domain is the token host, never the audience
        connect(emu, env={**env, "SALESFORCE_JWT_AUDIENCE": "https://acme.my.salesforce.com"}).count()


def test_client_credentials_flow(emu: SalesforceEmulator) -> None:
    """Issue 15 item 9: OAuth 2.0 client credentials (no username, no SOAP login) logs in and renews."""
    env = {"SALESFORCE_LOGIN_URL": emu.login_url, "SALESFORCE_CONSUMER_KEY": emu.consumer_key,
           "SALESFORCE_CONSUMER_SECRET": emu.consumer_secret, "SALESFORCE_CA_BUNDLE": str(emu.ca_file)}
    conn = connect(emu, env=env, bulk="never")
    assert "client_credentials" in repr(conn) and conn.count() == 40
    emu.expire_sessions()
    assert conn.count() == 40 and emu.request_count("/services/oauth2/token") == 2
    assert emu.request_count("/services/Soap/u") == 0
    with pytest.raises(ConnectorError):
        connect(emu, env={**env, "SALESFORCE_CONSUMER_SECRET": "wrong"}, bulk="never").count()


def test_missing_and_file_credentials(emu: SalesforceEmulator, tmp_path: Path) -> None:
    with pytest.raises(ConnectorError) as err:
        SalesforceConnector("Contact", ConnectorOptions(), env={})
    assert "SALESFORCE_SESSION_ID" in str(err.value) and "SALESFORCE_USERNAME" in str(err.value)
    with pytest.raises(ConnectorError):
        SalesforceConnector("Contact", ConnectorOptions(), env={"SALESFORCE_SESSION_ID": "x"})
    with pytest.raises(UsageError):
        SalesforceConnector("Contact; DROP", ConnectorOptions(), env=emu.env())

    yaml_file = tmp_path / "sf.yaml"
    yaml_file.write_text("salesforce:\n" + "".join(f"  {k.lower().removeprefix('salesforce_')}: '{v}'\n"
                                                   for k, v in emu.login_env().items()))
    conn = SalesforceConnector("Contact", ConnectorOptions(credentials_file=str(yaml_file)), env={}, sleep=Sleeps())
    assert conn.count() == 40
    dotenv = tmp_path / "sf.env"
    dotenv.write_text("# emulator\n" + "".join(f'export {k}="{v}"\n' for k, v in emu.env().items()))
    assert load_credentials(ConnectorOptions(credentials_file=str(dotenv)), env={}).session_id == emu.session_id
    broken = tmp_path / "broken.json"
    broken.write_text('{"password": "hunter2-leaky", ')
    with pytest.raises(ConnectorError) as bad:
        load_credentials(ConnectorOptions(credentials_file=str(broken)), env={})
    assert "hunter2" not in str(bad.value)


def test_open_connector_spec(emu: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in emu.env().items():
        monkeypatch.setenv(key, value)
    conn = open_connector("salesforce:Contact", ConnectorOptions(bulk="never"))
    assert conn.kind == "salesforce" and conn.spec == "salesforce:Contact"
    assert sum(p.height for p in conn.read_pages(["Email"])) == 40
    conn.close()
    missing = SalesforceConnector("Widget__c", ConnectorOptions(), env=emu.env(), sleep=Sleeps())
    with pytest.raises(ConnectorError) as err:
        missing.describe()
    assert "no object named 'Widget__c'" in str(err.value)


# -- the retry helper -------------------------------------------------------------------------


def test_call_with_retry_policy() -> None:
    calls: list[int] = []
    sleeps = Sleeps()

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("slow")
        return "done"

    assert call_with_retry(flaky, classify=lambda e: Retry(), max_attempts=5, sleep=sleeps) == "done"
    assert len(sleeps) == 2 and all(0 < s <= 2.0 for s in sleeps)
    with pytest.raises(ValueError):
        call_with_retry(lambda: int("x"), classify=lambda e: None, sleep=sleeps)
    calls.clear()
    with pytest.raises(TimeoutError):
        call_with_retry(flaky, classify=lambda e: Retry(after=120), max_attempts=2, sleep=sleeps, max_delay=60)
    assert sleeps[-1] == 60  # Retry-After is capped
    assert all(backoff_delay(a) <= 60 for a in range(1, 20))


def test_round_trip_with_landed_faults_at_ten_percent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit → plan → apply (+ resume) → rollback while 10 % of the requests fail, half of them after the write
    landed (a 504 behind a write): the org ends with the plan's values, then with its original contents."""
    from crmclean import api
    from crmclean.writeback.plan import save_plan
    from tests.test_hubspot_official import _messy_people

    rows = [{"FirstName": r["firstname"], "LastName": r["lastname"], "Email": r["email"], "Phone": r["phone"],
             "MailingCity": r["city"]} for r in _messy_people(30)]
    fields = ("FirstName", "LastName", "Email", "Phone", "MailingCity")
    with SalesforceEmulator(objects={"Contact": rows}) as e:
        for key, value in e.env().items():
            monkeypatch.setenv(key, value)

        def contents() -> list[tuple[str, ...]]:
            return sorted(tuple(str(r.get(f) or "") for f in fields) for r in e.records("Contact"))

        original = contents()
        plan = api.plan("salesforce:Contact")
        assert plan.summary()["merges"] >= 5 and plan.summary()["updates"] >= 10
        save_plan(plan, tmp_path / "plan.json")
        store = tmp_path / "runs.duckdb"
        e.random_faults(rate=0.10, seed=5, kinds=("landed_504", "503"))
        report = api.apply(tmp_path / "plan.json", store=store)
        assert isinstance(report, api.RunReport)
        first = str(report.run_id)
        e.clear_faults()
        assert any(r.status == 504 for r in e.request_log)
        if report.counts["failed"]:
            report = api.resume(first, store=store)
            assert isinstance(report, api.RunReport)
        assert report.counts["failed"] == 0 and report.counts["conflict"] == 0, report.problems
        for op in plan.updates:
            rec = e.record("Contact", op.record_id)
            if rec is not None and rec.get("IsDeleted") != "true":
                assert rec[op.field] == op.after, op
        undo = api.rollback(first, store=store)
        assert isinstance(undo, api.RunReport) and undo.counts["failed"] == 0 and undo.counts["conflict"] == 0
        assert contents() == original
