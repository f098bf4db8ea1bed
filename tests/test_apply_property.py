"""Property: for random plans and random crash points, apply + resume == apply once, and rollback restores the input."""

from __future__ import annotations

import csv
import io
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.sources import SourceOptions, open_source
from crmclean.store import RunStore
from crmclean.writeback import engine as engine_module
from crmclean.writeback.apply import apply_plan
from crmclean.writeback.plan import plan_from_results
from crmclean.writeback.resume import resume_run
from crmclean.writeback.rollback import rollback_run
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import open_target

HEADER = ["Id", "ФИО", "Email", "Телефон", "Город", "Компания"]
ROWS = [
    ["C01", "Иванов Иван Иванович", "ivanov@romashka.ru", "8 (495) 123-45-67", "москва", "ООО «Ромашка»"],
    ["C02", "Иванов И.И.", "IVANOV@ROMASHKA.RU", "+7 495 1234567", "Москва", "Ромашка ООО"],
    ["C03", "Smith, John", "john.smith@northwind.co.uk", "212.555.4517", "London", "Northwind Traders, Ltd"],
    ["C04", "Петрова Анна", "", "-", "г. Санкт-Петербург", "ИП Петрова"],
    ["C05", "Zhukov Alexey", "a.zhukov@technosfera.ru", "4957331974", "Moscow", "TechnoSphere LLC"],
    ["C06", "Жуков Алексей Викторович", "a.zhukov@technosfera.ru", "", "МОСКВА", "ООО \"ТехноСфера\""],
    ["C07", "нет", "test@test.ru", "000", "", ""],
    ["C08", "Mueller Hans", "h.mueller@beispiel.de", "+49 30 1234567", "Berlin", "Beispiel GmbH"],
    ["C09", "Козлова Анна Сергеевна", "a.kozlova@sever-invest.ru", "4953909064", "Санкт-Петербург",
     "АО «Северсталь-Инвест»"],
    ["C10", "Сидоров К.", "sidorov@lutik.ru", "8-800-555-35-35", "Новосибирск", "ЗАО «Лютик»"],
]
FIELDS = HEADER[1:]
IDS = [r[0] for r in ROWS]


def seed_bytes() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return buf.getvalue().encode("cp1251")


SEED = seed_bytes()

values = st.one_of(
    st.none(),
    st.text(alphabet="абвгдеёжзАБВГДЕЖЗabcXYZ 0123456789;,\"'\n«»-.@+()№", min_size=0, max_size=12),
)
update = st.tuples(st.sampled_from(IDS), st.sampled_from(FIELDS), values)


@st.composite
def plans(draw: Any) -> tuple[list[tuple[str, str, str | None]], list[dict[str, Any]]]:
    updates = draw(st.lists(update, min_size=0, max_size=25))
    shuffled = draw(st.permutations(IDS))
    merges = []
    i = 0
    for _ in range(draw(st.integers(0, 3))):
        size = draw(st.integers(2, 3))
        group = shuffled[i:i + size]
        i += size
        if len(group) < 2:
            break
        golden = draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=2))
        merges.append({"cluster_id": f"k{len(merges)}", "master_id": group[0], "loser_ids": list(group[1:]),
                       "values": golden, "reasons": {}})
    return updates, merges


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, and the connector's memory is thrown away."""


@contextmanager
def crash_at(point: tuple[str, int] | None):
    def hook(phase: str, batch: int) -> None:
        if point == (phase, batch):
            raise Crash

    engine_module.CRASH_HOOK = hook
    try:
        yield
    finally:
        engine_module.CRASH_HOOK = None


def build(path: Path, updates: list, merges: list):
    table, _, connector = open_source(str(path), None, SourceOptions(id_column="Id"))
    changes = pl.DataFrame(
        {"record_id": [u[0] for u in updates], "column": [u[1] for u in updates],
         "before": [None] * len(updates), "after": [u[2] for u in updates],
         "rule": ["TEST001"] * len(updates), "confidence": ["fix"] * len(updates), "reason": [""] * len(updates)},
        schema={"record_id": pl.String, "column": pl.String, "before": pl.String, "after": pl.String,
                "rule": pl.String, "confidence": pl.String, "reason": pl.String},
    )
    return plan_from_results(table, changes, merges, version_of=connector.version_of,
                             source_options={"id_column": "Id"})


def target(src: Path, out: Path):
    connector = open_connector(str(src), ConnectorOptions(id_column="Id"))
    connector.describe()
    connector.output = out
    connector.resume_output = False
    return connector


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_parts=plans(), batch_size=st.integers(1, 6), phase=st.sampled_from(["intents", "sent", "flushed",
                                                                                   "outcomes"]),
       batch=st.integers(1, 8))
def test_resume_equals_apply_once_and_rollback_restores(plan_parts, batch_size, phase, batch) -> None:
    updates, merges = plan_parts
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "seed.csv"
        src.write_bytes(SEED)
        plan = build(src, updates, merges)

        store = RunStore(d / "runs.duckdb")
        j = Journal(store)
        once = apply_plan(plan, target(src, d / "once.csv"), j, batch_size=batch_size)
        assert once.status == "ok", once.problems
        once_bytes = (d / "once.csv").read_bytes() if (d / "once.csv").exists() else SEED

        # crash at a random point, then resume with a fresh connector (as a new process would)
        crashed = False
        with crash_at((phase, batch)):
            try:
                apply_plan(plan, target(src, d / "resumed.csv"), j, batch_size=batch_size)
            except Crash:
                crashed = True
        run_id = store.list_runs(command="apply", limit=1)[0].run_id
        if crashed:
            details = store.get_run(run_id).details or {}
            resumed = resume_run(run_id, j, connector=open_target(details, resume=True), batch_size=batch_size)
            assert resumed.status == "ok", resumed.problems
        resumed_bytes = (d / "resumed.csv").read_bytes() if (d / "resumed.csv").exists() else SEED
        assert resumed_bytes == once_bytes

        # rolling back the finished run restores the input byte for byte
        if (d / "resumed.csv").exists():
            back = rollback_run(run_id, j)
            assert back.status == "ok", back.problems
            assert (d / "resumed.csv").read_bytes() == SEED

        # and rolling back a crashed run (without resuming) does too
        with crash_at((phase, batch)), suppress(Crash):
            apply_plan(plan, target(src, d / "crashed.csv"), j, batch_size=batch_size)
        if (d / "crashed.csv").exists():
            crashed_run = store.list_runs(command="apply", limit=1)[0].run_id
            back = rollback_run(crashed_run, j)
            assert back.status == "ok", back.problems
            assert (d / "crashed.csv").read_bytes() == SEED
        store.close()
