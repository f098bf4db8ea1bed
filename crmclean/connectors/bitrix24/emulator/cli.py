"""``python -m crmclean.testing.bitrix24_emulator``: serve an in-memory Bitrix24 portal loaded from CSV files."""

from __future__ import annotations

import argparse
import csv
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

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
    parser = argparse.ArgumentParser(prog="python -m crmclean.testing.bitrix24_emulator",
                                     description="Serve an in-memory Bitrix24 REST portal on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--load", action="append", default=[], metavar="CSV",
                        help="CSV whose columns are Bitrix24 field names (NAME, LAST_NAME, PHONE, EMAIL, UF_CRM_...)")
    parser.add_argument("--object", default="contacts", help="contacts, companies, leads or deals (default contacts)")
    parser.add_argument("--secret", default=None, help="webhook secret to accept (default: a random one)")
    parser.add_argument("--burst", type=int, default=DEFAULT_BURST, help="leaky bucket size (Enterprise: 250; 0: off)")
    parser.add_argument("--drain", type=float, default=DEFAULT_DRAIN, help="requests drained per second (Enterprise: 5)")
    args = parser.parse_args(argv)
    emulator = Bitrix24Emulator(secret=args.secret, burst=args.burst, drain=args.drain, host=args.host, port=args.port)
    for csv_path in args.load:
        try:
            ids = emulator.add_records(args.object, load_csv(csv_path))
        except (OSError, ValueError, csv.Error) as exc:
            print(f"{csv_path}: {exc}", file=sys.stderr)
            return 2
        print(f"loaded {len(ids)} {args.object} from {csv_path}")
    emulator.start()
    print(f"Bitrix24 emulator listening on http://{emulator.host}:{emulator.port}")
    print("export this to point crmclean at it:")
    for key, value in emulator.env().items():
        print(f"  export {key}={value}")
    print("Ctrl-C stops it.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
