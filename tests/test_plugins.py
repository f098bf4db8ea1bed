"""Rules and connectors come through entry points: built-ins, the example plugin, and broken plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import crmclean.connectors as connectors
import crmclean.plugins as plugins
from crmclean.cli import app
from crmclean.connectors import ConnectorOptions, connector_prefixes, is_crm_spec, open_connector
from crmclean.errors import ConnectorError, ExitCode, UsageError
from crmclean.rules.base import all_rules, find_rule

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def test_builtins_are_declared_as_entry_points_of_crmclean() -> None:
    rules = {e.name: e for e in entry_points(group="crmclean.rules")}
    assert rules["builtin"].value == "crmclean.rules.builtin:rules"
    assert rules["builtin"].dist is not None and rules["builtin"].dist.name == "crmclean"
    conns = {e.name: e.value for e in entry_points(group="crmclean.connectors")}
    assert conns["salesforce"] == "crmclean.connectors.salesforce:SalesforceConnector"
    assert conns["hubspot"] == "crmclean.connectors.hubspot:HubSpotConnector"
    assert conns["file"] == "crmclean.connectors.files:open_file_connector"


def test_builtin_entry_point_returns_every_builtin_rule() -> None:
    from crmclean.rules.builtin import rules

    builtin = set(rules())
    registered = {cls for cls in all_rules() if not cls.__module__.startswith("crmclean_example_rule")}
    assert registered == builtin
    assert len(builtin) > 40


def test_example_plugin_rule_is_listed_and_explained() -> None:
    assert find_rule("EXAMPLE001") is not None and find_rule("example.no_test_company") is find_rule("EXAMPLE001")
    result = runner.invoke(app, ["rules", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = {r["code"]: r for r in json.loads(result.stdout)}
    assert listed["EXAMPLE001"]["name"] == "example.no_test_company"
    explained = runner.invoke(app, ["rules", "explain", "EXAMPLE001"])
    assert explained.exit_code == 0 and "test record" in explained.output


def test_audit_runs_the_example_plugin_rule(tmp_path: Path) -> None:
    src = tmp_path / "contacts.csv"
    src.write_text(
        "Id,First Name,Last Name,Email,Company\n"
        "1,Ivan,Petrov,ivan@acme.ru,Test Company LLC\n"
        "2,Anna,Smirnova,anna@beta.ru,Beta\n",
        encoding="utf-8",
    )
    out = tmp_path / "rep"
    result = runner.invoke(app, ["audit", str(src), "--out", str(out), "--store", str(tmp_path / "runs.duckdb")])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    check = next(c for c in report["checks"] if c["code"] == "EXAMPLE001")
    assert check["findings"] == 1 and check["records"] == 1
    top = next(f for f in report["top_findings"] if f["rule"] == "EXAMPLE001")
    assert top["examples"][0]["record_id"] == "1" and top["examples"][0]["value"] == "Test Company LLC"


# ---------------------------------------------------------------- broken plugins


def _fake_entry_points(extra: list[EntryPoint]) -> Any:
    real = entry_points

    def fake(*, group: str) -> list[EntryPoint]:
        return [*real(group=group), *(e for e in extra if e.group == group)]

    return fake


def test_a_failing_rule_plugin_is_one_warning_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    broken = [
        EntryPoint("missing", "crmclean_no_such_plugin:rules", "crmclean.rules"),
        EntryPoint("notrules", "json:dumps", "crmclean.rules"),
    ]
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points(broken))
    monkeypatch.setattr(plugins, "_rules_loaded", False)
    got: list[type] = []
    plugins.load_rules(got.append)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert err[0].startswith("crmclean: warning: plugin 'missing'") and "ModuleNotFoundError" in err[0]
    assert err[1].startswith("crmclean: warning: plugin 'notrules'")
    assert "Traceback" not in "\n".join(err)
    assert any(getattr(c, "code", None) == "PHONE001" for c in got)  # built-ins still load
    assert any(getattr(c, "code", None) == "EXAMPLE001" for c in got)  # so do working plugins


def test_rule_plugin_failure_from_the_cli_is_not_a_traceback(tmp_path: Path) -> None:
    # A real broken distribution on sys.path: its metadata names a module that does not exist.
    dist = tmp_path / "crmclean_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: crmclean-broken\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[crmclean.rules]\nbroken = crmclean_broken_missing:rules\n", encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tmp_path), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "crmclean", "rules", "explain", "EXAMPLE001"],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "crmclean-broken" in line]
    assert len(lines) == 1 and "plugin 'broken'" in lines[0], proc.stderr


# ---------------------------------------------------------------- connectors


class _EchoConnector:
    def __init__(self, obj: str, options: ConnectorOptions) -> None:
        self.obj = obj
        self.options = options


def test_connector_registry_replaces_the_prefix_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"salesforce", "hubspot"} <= set(connector_prefixes())
    assert "file" not in connector_prefixes()
    assert is_crm_spec("salesforce:Contact") and is_crm_spec("HubSpot:contacts")
    assert not is_crm_spec("contacts.csv") and not is_crm_spec("C:/data/contacts.csv") and not is_crm_spec("file:x")

    extra = [
        EntryPoint("echo", f"{__name__}:_EchoConnector", "crmclean.connectors"),
        EntryPoint("broken", "crmclean_no_such_connector:Connector", "crmclean.connectors"),
    ]
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points(extra))
    connectors._registry.cache_clear()
    try:
        assert is_crm_spec("echo:Widget")
        conn: Any = open_connector("echo:Widget")
        assert isinstance(conn, _EchoConnector) and conn.obj == "Widget"
        with pytest.raises(ConnectorError) as err:
            open_connector("broken:Thing")
        assert err.value.exit_code == ExitCode.SOURCE
        assert "plugin 'broken'" in str(err.value) and "\n" not in str(err.value)
        with pytest.raises(UsageError):
            open_connector("echo:")
    finally:
        connectors._registry.cache_clear()


def test_paths_open_through_the_file_entry_point(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text("Id,Name\n1,A\n", encoding="utf-8")
    conn = open_connector(str(src))
    assert conn.kind == "csv"
