"""``python -m crmclean.testing.hubspot_emulator``: serve an in-memory HubSpot portal loaded from CSV files."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from crmclean.connectors._emulator import emulator_parser, load_files, serve_until_interrupted
from crmclean.connectors.hubspot.emulator.server import HubSpotEmulator, normalize_object_type


def load_csv(path: str | Path) -> list[dict[str, str | None]]:
    """Rows of a CSV file (UTF-8, BOM tolerated); empty cells become None."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [{k: (v if v != "" else None) for k, v in row.items() if k is not None}
                for row in csv.DictReader(handle)]
    # a spreadsheet's own ids (C0001) are no HubSpot ids: keep them as a property and let HubSpot number records
    for row in rows:
        for key in ("id", "Id", "ID", "hs_object_id"):
            if row.get(key) is not None and not str(row[key]).isdigit():
                row["legacy_id"] = row.pop(key)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser(
        "python -m crmclean.testing.hubspot_emulator",
        "Serve an in-memory HubSpot CRM v3 API emulator on 127.0.0.1 until Ctrl-C.",
        load_help="CSV whose columns become properties (id/Id/hs_object_id column gives ids)")
    parser.add_argument("--object", default="contacts", help="object type the CSV rows become (default contacts)")
    parser.add_argument("--token", default=None, help="access token to accept (default: a random one)")
    parser.add_argument("--rate-limit", type=int, default=100, help="requests allowed per 10 seconds")
    args = parser.parse_args(argv)
    emulator = HubSpotEmulator(access_token=args.token, rate_limit=args.rate_limit, host=args.host, port=args.port)
    if not load_files(args.load, lambda path: emulator.add_records(args.object, load_csv(path)),
                      normalize_object_type(args.object)):
        return 2
    return serve_until_interrupted(emulator, "HubSpot", emulator.env, address=f"{args.host}:{args.port}")


if __name__ == "__main__":
    sys.exit(main())
