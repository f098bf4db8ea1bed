"""``python -m crmclean.testing.amocrm_emulator``: serve an in-memory amoCRM account loaded from CSV files."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from crmclean.connectors._emulator import emulator_parser, load_files, serve_until_interrupted
from crmclean.connectors.amocrm.emulator.server import AmoCRMEmulator, normalize_entity


def load_csv(path: str | Path) -> list[dict[str, str | None]]:
    """Rows of a CSV file (UTF-8, BOM tolerated); empty cells become None; a non-numeric id column is dropped
    (amoCRM numbers its records), ``Phone``/``Mobile``/``Email`` become the PHONE (WORK/MOB) and EMAIL fields."""
    rename = {"phone": "phone", "mobile": "phone:MOB", "mobilephone": "phone:MOB", "email": "email",
              "first name": "first_name", "firstname": "first_name", "last name": "last_name",
              "lastname": "last_name"}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            out: dict[str, str | None] = {}
            for key, value in row.items():
                if key is None:
                    continue
                if key.lower() == "id" and value and not value.isdigit():
                    continue
                out[rename.get(key.strip().lower(), key)] = value if value != "" else None
            if out.get("phone:MOB") and not out.get("phone"):
                out["phone"] = out.pop("phone:MOB")
            elif out.get("phone:MOB"):
                out["phone"] = f"{out['phone']}, {out.pop('phone:MOB')}"
            else:
                out.pop("phone:MOB", None)
            rows.append(out)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser(
        "python -m crmclean.testing.amocrm_emulator", "Serve an in-memory amoCRM API v4 emulator on 127.0.0.1 until Ctrl-C.",
        load_help="CSV whose rows become records (Phone/Mobile/Email columns become PHONE/EMAIL values)")
    parser.add_argument("--entity", default="contacts", help="contacts, companies or leads (default contacts)")
    parser.add_argument("--token", default=None, help="access token to accept (default: a random one)")
    parser.add_argument("--rate-limit", type=int, default=7, help="requests allowed per second (amoCRM: 7)")
    args = parser.parse_args(argv)
    emulator = AmoCRMEmulator(access_token=args.token, rate_limit=args.rate_limit, host=args.host, port=args.port)
    if not load_files(args.load, lambda path: emulator.add_records(args.entity, load_csv(path)),
                      normalize_entity(args.entity)):
        return 2
    return serve_until_interrupted(emulator, "amoCRM", emulator.env, address=f"{args.host}:{args.port}")


if __name__ == "__main__":
    sys.exit(main())
