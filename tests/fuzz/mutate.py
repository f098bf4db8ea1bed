"""A bounded mutation fuzzer over crmclean's inputs (issue 17): seeds in every format the files connector
reads (CSV, XLSX, JSONL, Parquet) plus rules YAML, mutated deterministically from a seed number, each run
through the real command-line entry point in-process. The only acceptable outcomes are exit 0/1/2/3 with no
traceback; exit 4 (internal error) or any escaping exception is a bug.

Used by tests/fuzz/test_fuzz.py (a few hundred cases) and benchmarks/bench_fuzz.py (thousands)."""

from __future__ import annotations

import contextlib
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CSV_SEED = (
    "ID;Фамилия;Имя;Телефон;E-mail;Компания;ИНН;Город\n"
    "1;Иванов;Иван;8 (495) 123-45-67;ivanov@romashka.ru;ООО «Ромашка»;7707083893;Москва\n"
    "2;Петрова;Анна;+7 916 000-11-22;anna@example.com;ИП Петрова;500100732259;Санкт-Петербург\n"
    '3;"Smith, Jr";John;+1 212 555 0142;john@acme.com;"Acme ""Inc""";;New York\n'
    "4;Иванов;Иван;84951234567;IVANOV@ROMASHKA.RU;Ромашка;7707083893;москва\n"
)
YAML_SEED = (
    "version: 1\n"
    "columns:\n"
    "  Телефон: phone\n"
    "  E-mail: email\n"
    "defaults:\n"
    "  region: RU\n"
    "standardize:\n"
    "  select: [ALL]\n"
    "  ignore: []\n"
    "  rules:\n"
    "    TEXT001:\n"
    "      enabled: true\n"
    "      multiline_roles: [notes, address]\n"
)
# bytes that break parsers: NUL, controls, quotes, delimiters, line ends, BOMs, a stray UTF-8 lead byte
SPICE = [b"\x00", b"\r", b"\n", b"\r\n", b'"', b";", b",", b"\t", b"\xef\xbb\xbf", b"\xd0", b"\xff\xfe",
         b"=cmd|' /C calc'!A0", b"&a", b"*a", b": ", b"- ", b"{", b"[", b"\x1b", b"\xe2\x80\xa8", b"'"]


def _rows() -> list[list[str]]:
    return [line.split(";") for line in CSV_SEED.strip().split("\n")]


def seed_bytes(fmt: str, tmp: Path) -> bytes:
    """The unmutated seed file of a format, as bytes."""
    if fmt == "csv":
        return CSV_SEED.encode("utf-8")
    if fmt == "cp1251.csv":
        return CSV_SEED.replace('"', "").encode("cp1251")
    if fmt == "yaml":
        return YAML_SEED.encode("utf-8")
    rows = _rows()
    header, body = rows[0], rows[1:]
    if fmt == "jsonl":
        import json
        return "".join(json.dumps(dict(zip(header, r, strict=False)), ensure_ascii=False) + "\n"
                       for r in body).encode("utf-8")
    if fmt == "parquet":
        import polars as pl
        buf = io.BytesIO()
        pl.DataFrame([dict(zip(header, r, strict=False)) for r in body]).write_parquet(buf)
        return buf.getvalue()
    if fmt == "xlsx":
        import openpyxl
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        for r in rows:
            ws.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    raise ValueError(fmt)


def mutate_bytes(data: bytes, rng: random.Random, rounds: int) -> bytes:
    buf = bytearray(data)
    for _ in range(rounds):
        op = rng.randrange(7)
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:  # flip a byte
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:  # insert a nasty token
            buf[pos:pos] = rng.choice(SPICE)
        elif op == 2 and buf:  # delete a span
            del buf[pos:pos + rng.randrange(1, 32)]
        elif op == 3 and buf:  # duplicate a span
            span = bytes(buf[pos:pos + rng.randrange(1, 64)])
            buf[pos:pos] = span * rng.randrange(1, 4)
        elif op == 4:  # truncate
            del buf[pos:]
        elif op == 5:  # every line ending changed
            buf = bytearray(bytes(buf).replace(b"\n", rng.choice([b"\r", b"\r\n", b"\n\r", b""])))
        else:  # a long run of one byte (huge cell / long line)
            buf[pos:pos] = rng.choice(SPICE)[:1] * rng.randrange(1, 5000)
    return bytes(buf)


def mutate_zip(data: bytes, rng: random.Random, rounds: int) -> bytes:
    """Mutate the XML members inside a workbook (a byte-level flip mostly just breaks the zip)."""
    if rng.random() < 0.2:
        return mutate_bytes(data, rng, rounds)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    names = [i.filename for i in src.infolist() if i.filename.endswith(".xml")]
    victim = rng.choice(names)
    if rng.random() < 0.7:
        victim = "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else victim
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == victim:
                payload = mutate_bytes(payload, rng, rounds)
            if rng.random() < 0.03:
                continue  # a member missing
            dst.writestr(info.filename, payload)
    return out.getvalue()


FORMATS = ("csv", "cp1251.csv", "xlsx", "jsonl", "parquet", "yaml")


@dataclass
class Case:
    number: int
    fmt: str
    path: Path
    argv: list[str]


def make_case(number: int, tmp: Path) -> Case:
    rng = random.Random(number)
    fmt = FORMATS[number % len(FORMATS)]
    rounds = rng.randrange(1, 6)
    data = seed_bytes(fmt, tmp)
    if number % 97 == 0:
        data = b""  # the 0-byte file
    elif fmt == "xlsx":
        data = mutate_zip(data, rng, rounds)
    else:
        data = mutate_bytes(data, rng, rounds)
    suffix = {"cp1251.csv": ".csv"}.get(fmt, "." + fmt)
    path = tmp / f"case{number}{suffix}"
    path.write_bytes(data)
    if fmt == "yaml":
        argv = ["rules", "check", str(path)]
    else:
        argv = ["audit", str(path), "-o", str(tmp / f"out{number}")] if rng.random() < 0.5 else \
            ["validate", str(path)]
    if rng.random() < 0.15:
        argv = ["--debug", *argv]
    return Case(number, fmt, path, argv)


def run_case(case: Case) -> tuple[int, str]:
    """Run the CLI in-process; returns (exit code, stderr). Exceptions escaping main() count as exit 4."""
    import traceback

    from crmclean import ui
    from crmclean.cli import main

    err = io.StringIO()
    code: int | str | None = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                main(case.argv)
            except SystemExit as exc:
                code = exc.code
    except BaseException:  # anything escaping main() is the bug we hunt
        code = 4
        err.write(traceback.format_exc())
    finally:
        ui.MODE.quiet = False
        ui.MODE.debug = False
    if code is None:
        code = 0
    if not isinstance(code, int):
        code = 2 if code else 0
    return code, err.getvalue()


def verdict(case: Case, code: int, stderr: str) -> str | None:
    """None when the outcome is acceptable, else a one-line description of the bug."""
    debug = "--debug" in case.argv
    if code not in (0, 1, 2, 3):
        return f"case {case.number} ({case.fmt}) exit {code}: {stderr.strip().splitlines()[-1:]}"
    if "Traceback" in stderr and not debug:
        return f"case {case.number} ({case.fmt}) printed a traceback"
    return None


def campaign(numbers: range, tmp: Path, on_case: Callable[[Case, int, str], None] | None = None) -> list[str]:
    failures = []
    for number in numbers:
        case = make_case(number, tmp)
        code, stderr = run_case(case)
        if on_case:
            on_case(case, code, stderr)
        problem = verdict(case, code, stderr)
        if problem:
            failures.append(problem)
    return failures
