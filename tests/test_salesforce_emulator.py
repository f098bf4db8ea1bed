"""The Salesforce emulator behaves like the API slice crmclean relies on (driven over real HTTPS)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)
from simple_salesforce.login import SalesforceLogin, token_login

from crmclean.connectors.salesforce.emulator import (
    ApiError,
    SalesforceEmulator,
    compile_where,
    normalize_id,
    parse_soql,
    to_18,
)


def contact_rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "FirstName": f"Ann{i}",
            "LastName": f"Lee{i % 7}",
            "Email": f"ann{i}@example.com" if i % 5 else "",
            "HasOptedOutOfEmail": "true" if i % 3 == 0 else "false",
            "Score__c": str(i),
            "MailingCity": "Oslo" if i % 2 else "Rome",
        }
        for i in range(n)
    ]


@pytest.fixture
def emu() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(objects={"Contact": contact_rows(30), "Account": [{"Name": "Acme"}]}) as e:
        yield e


def sf_for(e: SalesforceEmulator, session_id: str | None = None) -> Any:
    """A real simple-salesforce client for the emulator (typed Any: its attribute magic defeats mypy)."""
    http = requests.Session()
    http.verify = e.ca_file  # type: ignore[assignment]
    http.trust_env = False  # REQUESTS_CA_BUNDLE from the environment would override verify
    return Salesforce(instance_url=e.instance_url, session_id=session_id or e.session_id, session=http,
                      version=e.api_version)


# -- pure parts -------------------------------------------------------------------------------


def test_ids_are_18_char_with_checksum() -> None:
    assert to_18("001A0000006Vm9r") == "001A0000006Vm9rIAC"  # a well-known real pair
    assert normalize_id("0035g00000AbCdE") == normalize_id("0035g00000AbCdEAAV")
    assert normalize_id("not-an-id") == "not-an-id"


def test_soql_parser_and_where() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(30)}) as e:
        sobj = e._objects["Contact"]  # white box: the compiled predicate over stored rows
        q = parse_soql("SELECT Id, Email FROM Contact WHERE (LastName = 'lee1' OR Score__c >= 28) "
                       "AND Email != null AND NOT MailingCity IN ('Rome') ORDER BY Score__c DESC LIMIT 5")
        assert q.fields == ["Id", "Email"] and q.limit == 5 and q.order == [("Score__c", True, True)]
        match = compile_where(q.where, sobj)
        hits = sorted(int(r["Score__c"] or 0) for r in sobj.rows.values() if match(r))
        assert hits == [1, 29]  # Lee1 & Oslo & email: 1, 29 (8, 15, 22 are Rome; 28 is Rome)
        assert parse_soql("SELECT COUNT() FROM Contact").count
        like = compile_where(parse_soql("SELECT Id FROM Contact WHERE FirstName LIKE 'ann2_'").where, sobj)
        assert sum(1 for r in sobj.rows.values() if like(r)) == 10
        with pytest.raises(ApiError) as err:
            parse_soql("SELECT Id FORM Contact")
        assert err.value.code == "MALFORMED_QUERY"
        with pytest.raises(ApiError) as err:
            compile_where(parse_soql("SELECT Id FROM Contact WHERE Nope__c = 1").where, sobj)
        assert err.value.code == "INVALID_FIELD"


# -- REST -------------------------------------------------------------------------------------


def test_describe_and_limits(emu: SalesforceEmulator) -> None:
    sf = sf_for(emu)
    described = sf.Contact.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Id"]["type"] == "id" and not fields["Id"]["updateable"]
    assert fields["Email"]["type"] == "email"
    assert fields["HasOptedOutOfEmail"]["type"] == "boolean"
    assert fields["Score__c"]["type"] == "int" and fields["Score__c"]["custom"]
    assert fields["MailingAddress"]["type"] == "address"
    assert fields["LastName"]["nillable"] is False
    assert not fields["LastModifiedDate"]["updateable"]
    before = sf.limits()["DailyApiRequests"]["Remaining"]
    sf.query("SELECT Id FROM Contact")
    assert sf.limits()["DailyApiRequests"]["Remaining"] == before - 1  # /limits itself is free


def test_query_paging_batch_size_and_count(emu: SalesforceEmulator) -> None:
    emu.load("Contact", contact_rows(950))
    sf = sf_for(emu)
    first = sf.query("SELECT Id, FirstName FROM Contact", headers={"Sforce-Query-Options": "batchSize=300"})
    assert first["totalSize"] == 950 and not first["done"] and len(first["records"]) == 300
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{emu.api_version}/query/01g")
    assert first["nextRecordsUrl"].endswith("-300")
    assert set(first["records"][0]) == {"attributes", "Id", "FirstName"}
    sizes = [len(first["records"])]
    page = first
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        sizes.append(len(page["records"]))
    assert sizes == [300, 300, 300, 50]
    small = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(small["records"]) == 200  # Salesforce's minimum batch
    assert sf.query("SELECT COUNT() FROM Contact WHERE MailingCity = 'oslo'")["totalSize"] == 475
    typed = sf.query("SELECT HasOptedOutOfEmail, Score__c, LastModifiedDate FROM Contact LIMIT 1")["records"][0]
    assert typed["HasOptedOutOfEmail"] is True and typed["Score__c"] == 0
    assert typed["LastModifiedDate"].endswith("+0000")
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Nope FROM Contact")


def test_invalid_session_gets_401_body(emu: SalesforceEmulator) -> None:
    sf = sf_for(emu, session_id="00D000000000000!AQbogus")
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_collections_update_create_delete_retrieve(emu: SalesforceEmulator) -> None:
    sf = sf_for(emu)
    ids = [str(r["Id"]) for r in emu.records("Contact")[:3]]
    result = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "id": ids[0], "Email": "new@example.com"},
        {"attributes": {"type": "Contact"}, "id": ids[1], "Email": "not an email"},
        {"attributes": {"type": "Contact"}, "id": "003bogus", "Email": "x@example.com"},
        {"attributes": {"type": "Contact"}, "id": ids[2], "LastModifiedDate": "2020-01-01T00:00:00Z"},
    ]})
    assert [r["success"] for r in result] == [True, False, False, False]
    assert [r["errors"][0]["statusCode"] for r in result[1:]] == [
        "INVALID_EMAIL_ADDRESS", "MALFORMED_ID", "INVALID_FIELD_FOR_INSERT_UPDATE"]
    assert emu.record("Contact", ids[0])["Email"] == "new@example.com"  # type: ignore[index]

    rolled = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Contact"}, "id": ids[1], "FirstName": "Kept?"},
        {"attributes": {"type": "Contact"}, "id": ids[2], "LastName": None},
    ]})
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert emu.record("Contact", ids[1])["FirstName"] != "Kept?"  # type: ignore[index]

    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects", method="PATCH", json={"records": [
            {"attributes": {"type": "Contact"}, "id": ids[0]}] * 201})

    created = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Contact"}, "LastName": "New"}, {"attributes": {"type": "Contact"}}]})
    assert created[0]["success"] and created[0]["id"].startswith("003") and len(created[0]["id"]) == 18
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"

    got = sf.restful(f"composite/sobjects/Contact?ids={created[0]['id']},{ids[0]},003000000000000AAA"
                     "&fields=Id,LastName")
    assert got[0]["LastName"] == "New" and got[2] is None

    deleted = sf.restful("composite/sobjects", params={"ids": f"{created[0]['id']},{created[0]['id']}"},
                         method="DELETE")
    assert deleted[0]["success"] and deleted[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    again = sf.restful("composite/sobjects", params={"ids": created[0]["id"]}, method="DELETE")
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert sf.query(f"SELECT Id FROM Contact WHERE Id = '{created[0]['id']}'")["totalSize"] == 0
    assert sf.query_all(f"SELECT Id FROM Contact WHERE Id = '{created[0]['id']}'",
                        include_deleted=True)["totalSize"] == 1


def test_writes_bump_version_and_human_edit(emu: SalesforceEmulator) -> None:
    rid = emu.records("Contact")[0]["Id"]
    assert rid
    before = emu.record("Contact", rid)
    emu.human_edit("Contact", rid, {"Email": "typed.by@hand.example"})
    after = emu.record("Contact", rid)
    assert before and after
    assert after["LastModifiedDate"] > before["LastModifiedDate"]  # type: ignore[operator]
    assert after["LastModifiedById"] == emu.human_user_id
    sf_for(emu).Contact.update(rid, {"FirstName": "Api"})
    latest = emu.record("Contact", rid)
    assert latest and latest["SystemModstamp"] > after["SystemModstamp"]  # type: ignore[operator]


# -- Bulk API 2.0 -----------------------------------------------------------------------------


def test_bulk2_query_and_ingest_via_simple_salesforce(emu: SalesforceEmulator) -> None:
    emu.load("Contact", contact_rows(120))
    sf = sf_for(emu)
    pages = list(sf.bulk2.Contact.query("SELECT Id, Email, LastModifiedDate FROM Contact", max_records=50, wait=0))
    assert len(pages) == 3
    rows = [r for page in pages for r in csv.DictReader(page.splitlines())]
    assert len(rows) == 120 and rows[0]["LastModifiedDate"].endswith("Z")
    assert rows[0]["Email"] == ""  # Bulk CSV has no null

    ids = [r["Id"] for r in rows[:3]]
    emu.inject("partial_failure", fail_ids=[ids[1]])
    result = sf.bulk2.Contact.update(records=[
        {"Id": ids[0], "Email": "#N/A"}, {"Id": ids[1], "Email": "b@example.com"},
        {"Id": ids[2], "Email": "c@example.com"}], wait=0)
    assert result[0]["numberRecordsProcessed"] == 3 and result[0]["numberRecordsFailed"] == 1
    failed = list(csv.DictReader(sf.bulk2.Contact.get_failed_records(result[0]["job_id"]).splitlines()))
    assert failed[0]["sf__Error"].startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION:")
    ok = list(csv.DictReader(sf.bulk2.Contact.get_successful_records(result[0]["job_id"]).splitlines()))
    assert {r["sf__Id"] for r in ok} == {ids[0], ids[2]}
    assert emu.record("Contact", ids[0])["Email"] is None  # type: ignore[index]  # "#N/A" empties a field


# -- auth -------------------------------------------------------------------------------------


def test_oauth_and_soap_login(emu: SalesforceEmulator) -> None:
    http = requests.Session()
    http.verify = emu.ca_file  # type: ignore[assignment]
    http.trust_env = False
    sid, instance = SalesforceLogin(username=emu.username, password=emu.password,
                                    security_token=emu.security_token, session=http, scratch_url=emu.login_url,
                                    sf_version=emu.api_version)
    assert instance == emu.instance_url.removeprefix("https://") and sid != emu.session_id
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        SalesforceLogin(username=emu.username, password="wrong", security_token="", session=http,
                        scratch_url=emu.login_url)
    assert err.value.code == "INVALID_LOGIN"
    token, _ = token_login(f"{emu.login_url}/services/oauth2/token", {
        "grant_type": "password", "client_id": emu.consumer_key, "client_secret": emu.consumer_secret,
        "username": emu.username, "password": emu.password + emu.security_token}, "login", emu.consumer_key,
        None, None, http)
    assert sf_for(emu, token).query("SELECT COUNT() FROM Contact")["totalSize"] == 30
    with pytest.raises(SalesforceAuthenticationFailed):
        token_login(f"{emu.login_url}/services/oauth2/token", {"grant_type": "password", "client_id": "x",
                    "client_secret": "y", "username": emu.username, "password": emu.password}, "login", "x",
                    None, None, http)


def test_jwt_bearer_verifies_registered_key(emu: SalesforceEmulator) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    emu.register_jwt_key("jwt-app", key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    claims = {"iss": "jwt-app", "sub": emu.username, "aud": "https://login.salesforce.com",
              "exp": int(time.time()) + 60}
    url = f"{emu.login_url}/services/oauth2/token"
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    good = requests.post(url, data={"grant_type": grant, "assertion": jwt.encode(claims, key, "RS256")},
                         verify=emu.ca_file, timeout=5)
    assert good.status_code == 200 and good.json()["instance_url"] == emu.instance_url
    forged = requests.post(url, data={"grant_type": grant, "assertion": jwt.encode(claims, other, "RS256")},
                           verify=emu.ca_file, timeout=5)
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"


# -- merge ------------------------------------------------------------------------------------


def soap_merge(e: SalesforceEmulator, master: str, losers: list[str], extra: str = "") -> requests.Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns:p="urn:partner.soap.sforce.com" xmlns:o="urn:sobject.partner.soap.sforce.com">'
        f"<soapenv:Header><p:SessionHeader><p:sessionId>{e.session_id}</p:sessionId></p:SessionHeader>"
        f"</soapenv:Header><soapenv:Body><p:merge><p:request><p:masterRecord><o:type>Contact</o:type>"
        f"<o:Id>{master}</o:Id>{extra}</p:masterRecord>"
        + "".join(f"<p:recordToMergeIds>{i}</p:recordToMergeIds>" for i in losers)
        + "</p:request></p:merge></soapenv:Body></soapenv:Envelope>"
    )
    return requests.post(f"{e.instance_url}/services/Soap/u/{e.api_version}", data=body, timeout=5,
                         headers={"Content-Type": "text/xml", "SOAPAction": "merge"}, verify=e.ca_file)


def test_soap_merge(emu: SalesforceEmulator) -> None:
    ids = [str(r["Id"]) for r in emu.records("Contact")[:4]]
    too_many = soap_merge(emu, ids[0], ids[1:4])
    assert "<success>false</success>" in too_many.text and "LIMIT_EXCEEDED" in too_many.text
    ok = soap_merge(emu, ids[0], ids[1:3], "<o:FirstName>Golden</o:FirstName><o:fieldsToNull>Email</o:fieldsToNull>")
    assert ok.status_code == 200 and "<success>true</success>" in ok.text
    assert ok.text.count("<mergedRecordIds>") == 2
    master = emu.record("Contact", ids[0])
    assert master and master["FirstName"] == "Golden" and master["Email"] is None
    for loser in ids[1:3]:
        rec = emu.record("Contact", loser)
        assert rec and rec["IsDeleted"] == "true" and rec["MasterRecordId"] == ids[0]
    again = soap_merge(emu, ids[0], [ids[1]])
    assert "ENTITY_IS_DELETED" in again.text
    emu.expire_sessions()
    expired = soap_merge(emu, ids[0], [ids[3]])
    assert expired.status_code == 500 and "INVALID_SESSION_ID" in expired.text


# -- faults -----------------------------------------------------------------------------------


def test_fault_injection(emu: SalesforceEmulator) -> None:
    sf = sf_for(emu)
    emu.inject("429", count=1, path_contains="/query", retry_after=7)
    raw = requests.get(f"{emu.instance_url}/services/data/v{emu.api_version}/query", params={"q": "SELECT Id FROM "
                       "Contact"}, headers={"Authorization": f"Bearer {emu.session_id}"}, verify=emu.ca_file,
                       timeout=5)
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "7"
    emu.inject("503")
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 503
    emu.inject("request_limit")
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Contact")
    assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"  # type: ignore[index]
    emu.timeout_seconds = 0.3
    emu.inject("timeout", path_contains="/query")
    with pytest.raises(requests.Timeout):
        sf.query("SELECT Id FROM Contact", timeout=0.1)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 30  # faults are used up
    emu.inject("expire_session", path_contains="/limits")
    sf.query("SELECT Id FROM Contact LIMIT 1")  # not matching: still fine
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()
    assert [r.fault for r in emu.request_log if r.fault] == ["429", "503", "request_limit", "timeout",
                                                                "expire_session"]


def test_random_faults_are_reproducible() -> None:
    def run(seed: int) -> list[int]:
        with SalesforceEmulator(objects={"Contact": contact_rows(3)}) as e:
            e.random_faults(0.5, seed=seed)
            sf = sf_for(e)
            codes = []
            for _ in range(12):
                try:
                    sf.query("SELECT Id FROM Contact")
                    codes.append(200)
                except SalesforceGeneralError as err:
                    codes.append(err.status)
            return codes

    first = run(7)
    assert first == run(7) and {429, 503} & set(first) and 200 in first


def test_daily_limit_runs_out() -> None:
    with SalesforceEmulator(objects={"Contact": contact_rows(3)}, daily_api_limit=2) as e:
        sf = sf_for(e)
        sf.query("SELECT Id FROM Contact")
        sf.query("SELECT Id FROM Contact")
        with pytest.raises(SalesforceRefusedRequest):
            sf.query("SELECT Id FROM Contact")
        assert sf.limits()["DailyApiRequests"] == {"Max": 2, "Remaining": 0}


# -- CLI --------------------------------------------------------------------------------------


def test_cli_serves_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("\ufeffId,LastName,Email\n0035g00000AbCdE,Smith,s@example.com\n,Jones,\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmclean.testing.salesforce_emulator", "--port", "0", "--load", str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        env: dict[str, str] = {}
        assert proc.stdout is not None
        deadline = time.monotonic() + 20
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = value
            if "Ctrl-C" in line or time.monotonic() > deadline:
                break
        http = requests.Session()
        http.trust_env = False
        result = http.get(f"{env['SALESFORCE_INSTANCE_URL']}/services/data/v59.0/query",
                          params={"q": "SELECT Id, LastName, Email FROM Contact"},
                          headers={"Authorization": f"Bearer {env['SALESFORCE_SESSION_ID']}"},
                          verify=env["SALESFORCE_CA_BUNDLE"], timeout=5).json()
        assert result["totalSize"] == 2
        assert result["records"][0]["Id"] == "0035g00000AbCdEAAV"  # the CSV's id, in 18-char form
        assert result["records"][1]["Email"] is None and result["records"][1]["Id"].startswith("003")
        assert json.dumps(result)  # plain JSON
    finally:
        proc.terminate()
        proc.wait(timeout=10)
