"""Benchmark: read a 1,000,000-row, 12-column CSV export into the record table (target: < 5 s on 2 cores).

Usage: python benchmarks/bench_read.py [--rows N]
Writes the figures to benchmarks/results/read.md.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from pathlib import Path

import polars as pl

from crmclean.connectors import open_connector
from crmclean.table import read_table

HERE = Path(__file__).parent
FIRST = ["Иван", "Анна", "Сергей", "Ольга", "John", "Mary", "Алексей", "Екатерина", "Robert", "Дмитрий"]
LAST = ["Иванов", "Петрова", "Smith", "Сидоров", "Кузнецова", "Brown", "Попов", "Johnson", "Волкова"]
COMPANIES = ["ООО «Ромашка»", "АО \"Лютик\"", "Acme LLC", "ИП Сидоров", "Siemens GmbH", "ПАО Сбербанк"]
TITLES = ["Ген. директор", "CEO", "главбух", "Менеджер по продажам", "VP Sales", "Mktg Mgr"]
CITIES = ["Москва", "г. Москва", "Moscow", "Санкт-Петербург", "Казань", "London"]


def make_csv(path: Path, rows: int, *, encoding: str = "utf-8", delimiter: str = ",") -> None:
    rng = random.Random(42)
    n = min(rows, 50_000)  # build a pool of distinct rows, then tile it (fast to generate)
    cols = {
        "Id": [f"00{i:08d}" for i in range(rows)],
        "Имя": [rng.choice(FIRST) for _ in range(n)],
        "Фамилия": [rng.choice(LAST) for _ in range(n)],
        "Отчество": [rng.choice(["Иванович", "Петровна", "", "Сергеевич"]) for _ in range(n)],
        "Email": [f"user{rng.randrange(10**6)}@{rng.choice(['mail.ru', 'gmail.com', 'acme.com'])}" for _ in range(n)],
        "Телефон": [f"8 ({rng.randrange(900, 999)}) {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-"
                    f"{rng.randrange(10, 99)}" for _ in range(n)],
        "Компания": [rng.choice(COMPANIES) for _ in range(n)],
        "Должность": [rng.choice(TITLES) for _ in range(n)],
        "Город": [rng.choice(CITIES) for _ in range(n)],
        "ИНН": [f"{rng.randrange(10**9):010d}" for _ in range(n)],
        "Ответственный": [rng.choice(["Петрова А.", "Smith J.", ""]) for _ in range(n)],
        "Дата создания": [f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 12):02d}.2024" for _ in range(n)],
    }
    pool = pl.DataFrame({k: v for k, v in cols.items() if k != "Id"})
    reps = -(-rows // n)
    frame = pl.concat([pool] * reps).head(rows).with_columns(pl.Series("Id", cols["Id"]))
    frame = frame.select(["Id", *pool.columns])
    if encoding == "utf-8":
        frame.write_csv(path, separator=delimiter)
    else:
        path.write_bytes(frame.write_csv(separator=delimiter).encode(encoding))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    lines = ["| file | rows | cols | MB | seconds | rows/s |", "|---|---|---|---|---|---|"]
    for label, enc, delim in (("utf-8 ,", "utf-8", ","), ("cp1251 ;", "cp1251", ";")):
        path = data / f"read_{args.rows}_{enc}.csv"
        if not path.exists():
            make_csv(path, args.rows, encoding=enc, delimiter=delim)
        t0 = time.perf_counter()
        table = read_table(open_connector(str(path)))
        seconds = time.perf_counter() - t0
        assert table.frame.height == args.rows, table.frame.height
        mb = path.stat().st_size / 1e6
        lines.append(f"| {label} | {args.rows:,} | {len(table.data_columns)} | {mb:.0f} | {seconds:.2f} | "
                     f"{args.rows / seconds:,.0f} |")
        print(lines[-1], flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"\nPeak RSS: {peak:,.0f} MB. Machine: 2 cores. Measured {time.strftime('%Y-%m-%d')}.")
    out = HERE / "results" / "read.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("# Reading CSV into the record table\n\n" + "\n".join(lines) + "\n")
    print(lines[-1])


if __name__ == "__main__":
    main()
