"""The report's "Columns" section (html, md, json): which column was read as which role, what was left
unmapped (with the closest role), which required roles have no column — the same table as the gate's."""

from __future__ import annotations

import json
from pathlib import Path

from crmclean import api


def _report(tmp_path: Path) -> tuple[dict, Path]:
    src = tmp_path / "noreach.csv"
    src.write_text("ID,Фамилия,Имя,Должность,Emial,Xyz\n1,Иванов,Иван,Директор,,q\n2,Петров,Пётр,Инженер,,w\n",
                   encoding="utf-8")
    result = api.audit(str(src), record_run=False)
    files = api.write_report(result, tmp_path / "rep")
    return json.loads(files.files["json"].read_text(encoding="utf-8")), tmp_path / "rep"


def test_report_json_has_the_columns_table(tmp_path: Path) -> None:
    report, _ = _report(tmp_path)
    cols = report["columns"]
    assert cols["object_type"] == "contacts" and cols["id_column"] == "ID"
    assert cols["mapped"] == {"Фамилия": "last_name", "Имя": "first_name", "Должность": "job_title"}
    assert cols["unmapped"] == ["Emial", "Xyz"]
    assert cols["missing_required"] == ["email|email2|phone|mobile"]
    rows = {r["column"]: r for r in cols["rows"]}
    assert rows["ID"]["role"] == "id" and rows["Фамилия"]["role"] == "last_name"
    assert rows["Emial"]["role"] == "" and rows["Emial"]["suggested_role"] == "email"
    assert rows["Xyz"]["suggested_role"] is None
    assert rows[""]["role"] == "email|email2|phone|mobile" and "required" in rows[""]["note"]
    assert report["run"]["columns"]  # the older per-column list stays


def test_report_html_and_md_show_the_columns_section(tmp_path: Path) -> None:
    _, rep = _report(tmp_path)
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert '<section id="columns"><h2>Columns</h2>' in html
    assert html.index('id="columns"') < html.index('id="checks"')  # the gate's first answer comes first
    assert '<tr class="unmapped" data-column="Emial">' in html and "closest role: <code>email</code>" in html
    assert '<tr class="missing"' in html and "email|email2|phone|mobile" in html
    assert '<tr class="mapped" data-column="Фамилия"><td>Фамилия</td><td><code>last_name</code>' in html
    md = (rep / "report.md").read_text(encoding="utf-8")
    assert "## Columns" in md
    assert "| Фамилия | last_name |  |" in md
    assert "| Emial |  | unmapped: not checked" in md and "closest role: email" in md
    assert "| — | email\\|email2\\|phone\\|mobile | required, no column" in md
