"""The Salesforce emulator's merge re-parents related records (SOAP API Developer Guide, "merge()": the merged-away
records' related records move to the master) across SOAP calls: its lookup index, kept from one merge call to the next,
follows a change made between calls and a lookup a merge wrote on its master."""

from __future__ import annotations

import requests

from crmclean.testing.salesforce_emulator import SalesforceEmulator


def merge(e: SalesforceEmulator, obj: str, master: str, losers: list[str], extra: str = "") -> str:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns:p="urn:partner.soap.sforce.com" xmlns:o="urn:sobject.partner.soap.sforce.com">'
        f"<soapenv:Header><p:SessionHeader><p:sessionId>{e.session_id}</p:sessionId></p:SessionHeader>"
        f"</soapenv:Header><soapenv:Body><p:merge><p:request><p:masterRecord><o:type>{obj}</o:type>"
        f"<o:Id>{master}</o:Id>{extra}</p:masterRecord>"
        + "".join(f"<p:recordToMergeIds>{i}</p:recordToMergeIds>" for i in losers)
        + "</p:request></p:merge></soapenv:Body></soapenv:Envelope>"
    )
    reply = requests.post(f"{e.instance_url}/services/Soap/u/{e.api_version}", data=body, timeout=5,
                          headers={"Content-Type": "text/xml", "SOAPAction": "merge"}, verify=e.ca_file)
    assert reply.status_code == 200 and "<success>true</success>" in reply.text, reply.text
    return reply.text


def test_merges_in_separate_calls_re_parent_what_changed_between_and_within_them() -> None:
    with SalesforceEmulator(duplicate_rules=[]) as emu:
        emu.load("Account", [{"Name": f"Acme {i}", "ParentId": None} for i in range(7)],
                 field_types={"ParentId": {"type": "reference", "updateable": True}})
        a = [str(r["Id"]) for r in emu.records("Account")]
        emu.load("Contact", [{"LastName": "One", "AccountId": a[1]}, {"LastName": "Two", "AccountId": a[2]},
                             {"LastName": "Three", "AccountId": None}, {"LastName": "Four", "AccountId": None}])
        c = [str(r["Id"]) for r in emu.records("Contact")]

        def account_of(i: int) -> str | None:
            rec = emu.record("Contact", c[i])
            return None if rec is None else rec["AccountId"]

        assert f"<updatedRelatedIds>{c[0]}</updatedRelatedIds>" in merge(emu, "Account", a[0], [a[1]])
        assert account_of(0) == a[0]
        emu.human_edit("Contact", c[1], {"AccountId": a[4]})  # changed between two merge calls
        assert f"<updatedRelatedIds>{c[1]}</updatedRelatedIds>" in merge(emu, "Account", a[0], [a[4]])
        assert account_of(1) == a[0]
        # a merge writes a lookup on its master (an account's parent); the next merge call moves it
        merge(emu, "Account", a[5], [a[6]], f"<o:ParentId>{a[3]}</o:ParentId>")
        assert f"<updatedRelatedIds>{a[5]}</updatedRelatedIds>" in merge(emu, "Account", a[0], [a[3]])
        parent = emu.record("Account", a[5])
        assert parent is not None and parent["ParentId"] == a[0]
        # a contact merge (other records' lookups) between account merges
        merge(emu, "Contact", c[2], [c[3]], f"<o:AccountId>{a[2]}</o:AccountId>")
        assert f"<updatedRelatedIds>{c[2]}</updatedRelatedIds>" in merge(emu, "Account", a[0], [a[2]])
        assert account_of(2) == a[0] and account_of(0) == a[0] and account_of(1) == a[0]
