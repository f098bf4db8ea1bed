"""The shared HTTP pieces every connector uses: one Retry-After parser, one credentials-file reader, the budget."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.http import RequestBudget, parse_retry_after, read_credentials_file
from crmclean.errors import ConnectorError, UsageError


def test_retry_after_seconds_dates_and_garbage() -> None:
    now = datetime(2024, 1, 31, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 31 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 31 Jan 2024 11:00:00 GMT", now=now) == 0.0  # in the past: go now
    assert parse_retry_after(None) is None and parse_retry_after("") is None and parse_retry_after("soon") is None


def test_the_connectors_share_the_one_parser() -> None:
    import crmclean.connectors.hubspot.connector as hubspot
    import crmclean.connectors.salesforce.connector as salesforce

    assert hubspot.parse_retry_after is parse_retry_after and salesforce.parse_retry_after is parse_retry_after
    assert not hasattr(hubspot, "_retry_after") and not hasattr(salesforce, "_retry_after")
    assert hubspot.read_credentials_file is read_credentials_file is salesforce.read_credentials_file


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.yaml", "salesforce:\n  username: a\nhubspot:\n  access_token: pat-1\n"),
        ("c.json", '{"hubspot": {"access_token": "pat-1"}, "salesforce": {"username": "a"}}'),
        ("c.env", "# comment\nexport HUBSPOT_ACCESS_TOKEN='pat-1'\nSALESFORCE_USERNAME=a\n"),
    ],
)
def test_one_credentials_file_serves_both_connectors(tmp_path: Path, name: str, text: str) -> None:
    from crmclean.connectors.hubspot.connector import load_credentials as hubspot_credentials
    from crmclean.connectors.salesforce.connector import _read_credentials_file as salesforce_keys

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    token, _ = hubspot_credentials(ConnectorOptions(credentials_file=str(path)))
    assert token == "pat-1"
    assert salesforce_keys(path)["USERNAME"] == "a"


def test_credentials_errors_never_quote_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("password: [s3cret\n", encoding="utf-8")
    with pytest.raises(ConnectorError) as err:
        read_credentials_file(bad, "salesforce")
    assert "s3cret" not in str(err.value) and "not valid YAML" in str(err.value)
    listed = tmp_path / "c.json"
    listed.write_text('["s3cret"]', encoding="utf-8")
    with pytest.raises(ConnectorError, match="must hold keys like X") as err2:
        read_credentials_file(listed, "hubspot", expected="keys like X")
    assert "s3cret" not in str(err2.value)
    with pytest.raises(ConnectorError, match="cannot read credentials file"):
        read_credentials_file(tmp_path / "missing.env", "hubspot")


def test_request_budget_rolling_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = RequestBudget(2, 10.0, clock=lambda: now[0], sleep=sleep, margin=0.0)
    budget.acquire()
    budget.acquire()
    assert slept == []
    budget.acquire()  # the third waits until the first leaves the window
    assert now[0] == pytest.approx(10.0)
    with pytest.raises(UsageError):
        RequestBudget(0)
