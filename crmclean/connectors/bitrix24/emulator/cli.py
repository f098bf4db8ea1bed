"""``python -m crmclean.testing.bitrix24_emulator``: serve an in-memory Bitrix24 portal loaded from CSV files."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from crmclean.connectors._emulator import emulator_parser, load_files, serve_until_interrupted
from crmclean.connectors.bitrix24.emulator.server import DEFAULT_BURST, DEFAULT_DRAIN, Bitrix24Emulator


def load_csv(path: str | Path) -> list[dict[str, str | None]]:
    """Rows of a CSV file (UTF-8, BOM tolerated); empty cells become None; PHONE/EMAIL cells may hold "a, b"."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [{k: (v if v != "" else None) for k, v in row.items() if k is not None}
                for row in csv.DictReader(handle)]
    for row in rows:  # a spreadsheet's own ids (C0001) are no Bitrix24 ids: the portal numbers the records
        if row.get("ID") is not None and not str(row["ID"]).isdigit():
            row["UF_CRM_LEGACY_ID"] = row.pop("ID")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser("python -m crmclean.testing.bitrix24_emulator",
                             "Serve an in-memory Bitrix24 REST portal on 127.0.0.1 until Ctrl-C.",
                             load_help="CSV whose columns are Bitrix24 field names (NAME, LAST_NAME, PHONE, EMAIL, "
                                       "UF_CRM_...)")
    parser.add_argument("--object", default="contacts", help="contacts, companies, leads or deals (default contacts)")
    parser.add_argument("--secret", default=None, help="webhook secret to accept (default: a random one)")
    parser.add_argument("--burst", type=int, default=DEFAULT_BURST, help="leaky bucket size (Enterprise: 250; 0: off)")
    parser.add_argument("--drain", type=float, default=DEFAULT_DRAIN, help="requests drained per second (Enterprise: 5)")
    args = parser.parse_args(argv)
    emulator = Bitrix24Emulator(secret=args.secret, burst=args.burst, drain=args.drain, host=args.host, port=args.port)
    if not load_files(args.load, lambda path: emulator.add_records(args.object, load_csv(path)), args.object):
        return 2
    return serve_until_interrupted(emulator, "Bitrix24", emulator.env, address=f"{args.host}:{args.port}")


if __name__ == "__main__":
    sys.exit(main())
