"""The journal and apply engine: conflicts, outcomes, resume and rollback, including SIGKILL at every phase."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.errors import CrmcleanError
from crmclean.sources import SourceOptions, open_source
from crmclean.store import RunStore
from crmclean.writeback.apply import LimitExceeded, apply_plan
from crmclean.writeback.engine import KILL_ENV
from crmclean.writeback.plan import Plan, plan_from_results, save_plan
from crmclean.writeback.resume import resume_run
from crmclean.writeback.rollback import rollback_run
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import prepare_file_target

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contacts.csv"
runner = CliRunner()


def invoke(args: list[str]) -> tuple[int, str]:
    """Run the CLI in-process; a CrmcleanError becomes its exit code and one-line message, as `main` does."""
    result = runner.invoke(app, args)
    if isinstance(result.exception, CrmcleanError):
        return int(result.exception.exit_code), str(result.exception)
    return result.exit_code, result.output


def excel_export(tmp: Path, name: str = "contacts.csv", *, quote_all: bool = False) -> Path:
    """The bundled sample as a Russian Excel export: cp1251, `;`, CRLF (optionally every field quoted)."""
    rows = list(csv.reader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"), newline="")))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    path = tmp / name
    path.write_bytes(buf.getvalue().encode("cp1251"))
    return path


def cleanup_changes(table_frame: pl.DataFrame) -> pl.DataFrame:
    """Realistic fixes a standardizer would make: city spellings, 10-digit phones, upper-case emails."""
    f = table_frame
    city = (f.filter(pl.col("Город").is_in(["москва", "МОСКВА", "Moscow", "г. Москва"]))
            .select(pl.col("Id").alias("record_id"), pl.lit("Город").alias("column"),
                    pl.col("Город").alias("before"), pl.lit("Москва").alias("after"),
                    pl.lit("CITY001").alias("rule")))
    digits = pl.col("Телефон")
    phone = (f.filter(digits.str.contains(r"^\d{10}$"))
             .select(pl.col("Id").alias("record_id"), pl.lit("Телефон").alias("column"), digits.alias("before"),
                     pl.format("+7 ({}) {}-{}-{}", digits.str.slice(0, 3), digits.str.slice(3, 3),
                               digits.str.slice(6, 2), digits.str.slice(8, 2)).alias("after"),
                     pl.lit("PHONE001").alias("rule")))
    changes = pl.concat([city, phone]).with_columns(pl.lit("fix").alias("confidence"), pl.lit("").alias("reason"))
    return changes


GOLDEN = [
    {"cluster_id": "k1", "master_id": "C0002", "loser_ids": ["C0009"],
     "values": {"Owner": "Сидоров К.", "Lead Source": "Рекомендация"},
     "reasons": {"master": "most complete", "Lead Source": "from C0009 (most recent)"}},
    {"cluster_id": "k2", "master_id": "C0020", "loser_ids": ["C0021", "C0040"], "values": {"Country": "Россия"},
     "reasons": {"Country": "most frequent"}},
]


def make_plan(path: Path, golden: list | None = None) -> Plan:
    table, _, connector = open_source(str(path), None, SourceOptions(id_column="Id"))
    changes = cleanup_changes(table.frame)
    return plan_from_results(table, changes, GOLDEN if golden is None else golden, version_of=connector.version_of,
                             source_options={"id_column": "Id"})


def file_target(source: Path, out: Path | None, in_place: bool = False):
    connector = open_connector(str(source), ConnectorOptions(id_column="Id"))
    connector.describe()
    prepare_file_target(connector, out, in_place)
    return connector


def read_records(path: Path) -> dict[str, dict]:
    table, _, _ = open_source(str(path), None, SourceOptions(id_column="Id"))
    return {r["Id"]: r for r in table.frame.iter_rows(named=True)}


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    return tmp_path / "runs.duckdb"


# ---------------------------------------------------------------- apply and rollback


def test_apply_writes_plan_and_rollback_restores_bytes(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    original = src.read_bytes()
    plan = make_plan(src)
    assert len(plan.updates) > 20 and len(plan.merges) == 2
    out = tmp_path / "clean.csv"
    report = apply_plan(plan, file_target(src, out), Journal(store))
    assert report.status == "ok"
    assert report.counts["ok"] == report.counts["units"]
    assert src.read_bytes() == original  # --out never touches the input

    after = read_records(out)
    for u in plan.updates:
        if u.record_id in after:
            assert after[u.record_id][u.field] == u.after
    assert "C0009" not in after and "C0021" not in after and "C0040" not in after
    assert after["C0002"]["Lead Source"] == "Рекомендация"
    # untouched records keep their exact bytes, and the export style is kept: cp1251, `;`, CRLF
    text = out.read_bytes().decode("cp1251")
    assert text.splitlines(keepends=True)[0].endswith("\r\n") and ";" in text.splitlines()[0]

    back = rollback_run(report.run_id, Journal(store))
    assert back.status == "ok"
    assert out.read_bytes() == original


def test_quote_all_export_round_trips(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path, quote_all=True)
    original = src.read_bytes()
    report = apply_plan(make_plan(src), file_target(src, None, in_place=True), Journal(store))
    assert report.status == "ok"
    changed = src.read_bytes().decode("cp1251").splitlines()
    assert all(line.startswith('"') for line in changed)  # re-written rows quote like the rest
    assert (tmp_path / "contacts.csv.bak").read_bytes() == original
    rollback_run(report.run_id, Journal(store))
    assert src.read_bytes() == original


def test_record_changed_since_plan_is_a_conflict_never_overwritten(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    plan = make_plan(src)
    target_id = plan.updates[0].record_id
    # someone edits the record (another field) between plan and apply
    text = src.read_bytes().decode("cp1251")
    line = next(ln for ln in text.splitlines() if ln.startswith(target_id + ";"))
    edited = line.replace(target_id + ";", target_id + ";Правка ", 1)
    src.write_bytes(text.replace(line, edited).encode("cp1251"))

    out = tmp_path / "clean.csv"
    report = apply_plan(plan, file_target(src, out), Journal(store))
    assert report.status == "partial"
    assert [p["record_id"] for p in report.problems] == [target_id]
    assert "changed since planned" in report.problems[0]["error"]
    rec = read_records(out)[target_id]
    assert rec["ФИО"].startswith("Правка ")
    planned = [u for u in plan.updates if u.record_id == target_id]
    assert all(rec[u.field] == u.before for u in planned)  # not overwritten


def test_deleted_record_and_missing_field_are_reported(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    plan = make_plan(src, golden=[])
    gone = plan.updates[-1].record_id
    text = src.read_bytes().decode("cp1251")
    src.write_bytes("".join(ln for ln in text.splitlines(keepends=True)
                            if not ln.startswith(gone + ";")).encode("cp1251"))
    report = apply_plan(plan, file_target(src, tmp_path / "o.csv"), Journal(store))
    problems = {p["record_id"]: p["error"] for p in report.problems}
    assert problems[gone] == "record no longer exists in the target"


def test_max_changes_refuses_before_writing(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    plan = make_plan(src)
    out = tmp_path / "clean.csv"
    with pytest.raises(LimitExceeded, match="more than --max-changes 5"):
        apply_plan(plan, file_target(src, out), Journal(store), max_changes=5)
    assert not out.exists()
    with RunStore(store) as st:
        assert st.list_runs() == []


def test_only_updates_then_only_merges(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    plan = make_plan(src)
    out = tmp_path / "clean.csv"
    first = apply_plan(plan, file_target(src, out), Journal(store), only="updates")
    assert first.counts["merges"] == 0 and first.status == "ok"
    assert "C0009" in read_records(out)
    # merges accept the records' versions after the plan's updates
    second = apply_plan(plan, file_target(out, None, in_place=True), Journal(store), only="merges")
    assert second.status == "ok" and second.counts["ok"] == 2
    assert "C0009" not in read_records(out)


def test_dry_run_writes_nothing_and_counts_conflicts(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    plan = make_plan(src)
    report = apply_plan(plan, file_target(src, tmp_path / "o.csv"), Journal(store), dry_run=True)
    assert report.dry_run and report.counts["ok"] == report.counts["units"]
    assert not (tmp_path / "o.csv").exists()


def test_rollback_skips_record_edited_after_apply_and_rollback_of_rollback(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    original = src.read_bytes()
    plan = make_plan(src)
    out = tmp_path / "clean.csv"
    applied = apply_plan(plan, file_target(src, out), Journal(store))
    applied_bytes = out.read_bytes()
    victim = plan.updates[3].record_id
    text = out.read_bytes().decode("cp1251")
    line = next(ln for ln in text.splitlines() if ln.startswith(victim + ";"))
    out.write_bytes(text.replace(line, line.replace(victim + ";", victim + ";Ручная правка ", 1)).encode("cp1251"))

    back = rollback_run(applied.run_id, Journal(store))
    assert back.status == "partial"
    assert [p["record_id"] for p in back.problems] == [victim]
    restored = out.read_bytes().decode("cp1251").splitlines(keepends=True)
    expected = original.decode("cp1251").splitlines(keepends=True)
    assert len(restored) == len(expected)
    differ = [i for i, (a, b) in enumerate(zip(restored, expected, strict=True)) if a != b]
    assert len(differ) == 1 and restored[differ[0]].startswith(victim + ";Ручная правка")

    # the rollback is itself a run: undoing it re-applies everything it restored
    again = rollback_run(back.run_id, Journal(store))
    assert again.status == "ok"
    redone = out.read_bytes().decode("cp1251").splitlines(keepends=True)
    applied_lines = applied_bytes.decode("cp1251").splitlines(keepends=True)
    assert [i for i, (a, b) in enumerate(zip(redone, applied_lines, strict=True)) if a != b] == [differ[0]]


def test_runs_store_has_journal_rows_and_before_after(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    plan = make_plan(src)
    report = apply_plan(plan, file_target(src, tmp_path / "o.csv"), Journal(store))
    j = Journal(store)
    changes = j.changes(str(report.run_id))
    fields = changes.filter(pl.col("operation") == "update")
    assert fields.height == len(plan.updates)
    assert set(fields["status"].to_list()) == {"ok"}
    losers = changes.filter(pl.col("after").str.starts_with("merged into"))
    assert sorted(losers["record_id"].to_list()) == ["C0009", "C0021", "C0040"]
    intents = j.intents(str(report.run_id))
    # every intent carries the version the record had when written (rollback checks it)
    assert intents.filter(pl.col("field").is_not_null())["before_version"].null_count() == 0


# ---------------------------------------------------------------- SIGKILL at every phase


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import sys; from crmclean.cli import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120)


# batches of 25: six of field updates, then one of merges (batch 7)
KILL_POINTS = ["intents:1", "sent:2", "flushed:3", "outcomes:4", "sent:7", "flushed:7"]


@pytest.fixture(scope="module")
def killed_runs() -> Iterator[dict[str, Path]]:
    """For each kill point: a directory holding the input, the plan, the killed run's store and output."""
    # our own temp dir: concurrent pytest sessions prune each other's old basetemp directories
    with tempfile.TemporaryDirectory(prefix="crmclean-kill-") as tmp:
        yield _kill_all(Path(tmp))


def _kill_all(base: Path) -> dict[str, Path]:
    src = excel_export(base, "seed.csv")
    plan = make_plan(src)
    save_plan(plan, base / "plan.json")
    runs = {}
    procs = []
    for point in KILL_POINTS:
        d = base / point.replace(":", "_")
        d.mkdir()
        shutil.copy(src, d / "seed.csv")
        env = dict(os.environ, **{KILL_ENV: point, "CRMCLEAN_STORE": str(d / "runs.duckdb")})
        args = ["apply", str(base / "plan.json"), "--out", str(d / "out.csv"), "--yes", "--batch-size", "25"]
        code = "import sys; from crmclean.cli import main; main(sys.argv[1:])"
        procs.append((point, d, subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=base,
                                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        runs[point] = d
    for point, _, p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == -signal.SIGKILL, (point, err.decode()[-500:])
    # the uninterrupted result, for comparison
    ref = base / "reference"
    ref.mkdir()
    apply_plan(plan, file_target(src, ref / "out.csv"), Journal(ref / "runs.duckdb"))
    runs["reference"] = ref / "out.csv"
    runs["seed"] = src
    return runs


def _only_run(store: Path) -> str:
    with RunStore(store) as st:
        runs = st.list_runs()
    assert len(runs) == 1 and runs[0].status == "running"  # SIGKILL left it running
    return runs[0].run_id


def _copy_killed(state: Path, to: Path) -> Path:
    """Copy a killed run's directory; the run's details name absolute paths, so point them at the copy."""
    shutil.copytree(state, to)
    with RunStore(to / "runs.duckdb") as st:
        st.con.execute("UPDATE runs SET details = replace(details::VARCHAR, ?, ?)::JSON", [str(state), str(to)])
    return to


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_then_resume_equals_one_apply(point: str, killed_runs: dict[str, Path], tmp_path: Path) -> None:
    d = _copy_killed(killed_runs[point], tmp_path / "state")
    run_id = _only_run(d / "runs.duckdb")
    report = resume_run(run_id, Journal(d / "runs.duckdb"))
    assert report.status == "ok", report.problems
    assert (d / "out.csv").read_bytes() == killed_runs["reference"].read_bytes()
    # every unit has exactly one ok outcome: nothing was written twice
    outcomes = Journal(d / "runs.duckdb").outcomes(run_id)
    per_record = outcomes.group_by("unit", "record_id").len()
    assert per_record["len"].max() == 1


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_then_rollback_restores_input(point: str, killed_runs: dict[str, Path], tmp_path: Path) -> None:
    d = _copy_killed(killed_runs[point], tmp_path / "state")
    run_id = _only_run(d / "runs.duckdb")
    if not (d / "out.csv").exists():
        # killed before the first flush: nothing reached the target, and there is nothing to restore
        with pytest.raises(Exception, match="no longer exists"):
            rollback_run(run_id, Journal(d / "runs.duckdb"))
        return
    report = rollback_run(run_id, Journal(d / "runs.duckdb"))
    assert report.status == "ok", report.problems
    assert (d / "out.csv").read_bytes() == killed_runs["seed"].read_bytes()


def test_resume_cli_finishes_killed_in_place_run(tmp_path: Path) -> None:
    src = excel_export(tmp_path)
    original = src.read_bytes()
    plan = make_plan(src)
    save_plan(plan, tmp_path / "plan.json")
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    apply_plan(plan, file_target(src, ref_dir / "out.csv"), Journal(ref_dir / "runs.duckdb"))
    store = tmp_path / "runs.duckdb"
    env = dict(os.environ, **{KILL_ENV: "flushed:3", "CRMCLEAN_STORE": str(store)})
    killed = _cli(["apply", str(tmp_path / "plan.json"), "--in-place", "--yes", "--batch-size", "30"], env)
    assert killed.returncode == -signal.SIGKILL
    assert src.read_bytes() != original
    run_id = _only_run(store)
    code, output = invoke(["apply", "--resume", run_id, "--yes", "--store", str(store)])
    assert code == 0, output
    assert src.read_bytes() == (ref_dir / "out.csv").read_bytes()
    code, output = invoke(["apply", "--resume", run_id, "--yes", "--store", str(store)])
    assert code == 2 and "already finished" in output


# ---------------------------------------------------------------- CLI


def test_cli_apply_refuses_without_yes_off_terminal(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    save_plan(make_plan(src), tmp_path / "plan.json")
    code, output = invoke(["apply", str(tmp_path / "plan.json"), "--store", str(store)])
    assert code == 2
    assert "refusing to write without --yes" in output
    assert not (tmp_path / "contacts.clean.csv").exists()


def test_cli_apply_runs_show_csv_and_rollback(tmp_path: Path, store: Path) -> None:
    src = excel_export(tmp_path)
    original = src.read_bytes()
    plan = make_plan(src)
    save_plan(plan, tmp_path / "plan.json")
    result = runner.invoke(app, ["apply", str(tmp_path / "plan.json"), "--yes", "--json", "--store", str(store)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "contacts.clean.csv"  # default output name next to the input
    assert out.exists()

    listed = runner.invoke(app, ["runs", "--json", "--store", str(store)])
    assert listed.exit_code == 0
    import json

    runs = json.loads(listed.output)
    assert runs[0]["command"] == "apply" and runs[0]["status"] == "ok"
    run_id = runs[0]["run_id"]

    shown = runner.invoke(app, ["runs", "show", run_id[:15], "--csv", str(tmp_path / "changes.csv"),
                                "--store", str(store)])
    assert shown.exit_code == 0, shown.output
    exported = pl.read_csv(tmp_path / "changes.csv", infer_schema=False)
    assert {"record_id", "field", "before", "after", "rule", "status"} <= set(exported.columns)
    assert exported.filter(pl.col("field") == "Телефон").height == sum(
        1 for u in plan.updates if u.field == "Телефон")
    assert (tmp_path / "changes.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM by default
    ru = runner.invoke(app, ["runs", "show", run_id, "--csv", str(tmp_path / "changes_ru.csv"),
                             "--output-encoding", "cp1251", "--store", str(store)])
    assert ru.exit_code == 0, ru.output
    raw = (tmp_path / "changes_ru.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and "Телефон".encode("cp1251") in raw  # Russian Excel's own encoding
    assert pl.read_csv(raw.decode("cp1251").encode(), separator=";", infer_schema=False).height == exported.height

    undo = runner.invoke(app, ["rollback", run_id, "--yes", "--store", str(store)])
    assert undo.exit_code == 0, undo.output
    assert out.read_bytes() == original
    history = json.loads(runner.invoke(app, ["runs", "--json", "--store", str(store)]).output)
    assert history[0]["command"] == "rollback" and history[0]["parent_run"] == run_id


def test_cli_unknown_run_is_a_one_line_error(store: Path) -> None:
    code, output = invoke(["rollback", "nope", "--yes", "--store", str(store)])
    assert code == 2
    assert "no run 'nope'" in output
