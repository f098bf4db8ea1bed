"""Benchmark: pull 100,000 contacts from the HubSpot emulator through HubSpotConnector; print records, seconds, requests.

    /work/venv/bin/python benchmarks/bench_hubspot_pull.py [--records 100000] [--rate-limit 100000]

The emulator runs on 127.0.0.1 in this process (separate server threads). Its rate limit is lifted by default so
the figure measures the connector (HTTP, JSON, DataFrames); ``--rate-limit 100`` reproduces a private app's
100 requests / 10 s, where the pull is bound by the budget instead (about 10 s per 10,000 records).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.hubspot import HubSpotConnector
from crmclean.connectors.hubspot.emulator import HubSpotEmulator

STAGES = ("subscriber", "lead", "customer", "opportunity")


def make_rows(n: int) -> list[dict[str, str | None]]:
    return [{
        "email": f"person{i}@example{i % 97}.com", "firstname": f"First{i}", "lastname": f"Last{i % 5000}",
        "phone": f"+7 900 {i % 1000:03d} {i % 100:02d} {i % 97:02d}", "company": f"Company {i % 3000}",
        "city": ("Moscow", "Kazan", "Tver", None)[i % 4], "country": "Russia", "lifecyclestage": STAGES[i % 4],
    } for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rate-limit", type=int, default=100_000, help="emulator requests per 10 s")
    args = parser.parse_args()

    t0 = time.perf_counter()
    emulator = HubSpotEmulator(objects={"contacts": make_rows(args.records)}, rate_limit=args.rate_limit)
    seeded = time.perf_counter() - t0
    with emulator:
        os.environ["HUBSPOT_ACCESS_TOKEN"] = emulator.access_token
        os.environ["HUBSPOT_BASE_URL"] = emulator.base_url
        connector = HubSpotConnector("contacts", ConnectorOptions(extra={"rate_limit": str(args.rate_limit)}))
        start = time.perf_counter()
        records = 0
        columns = 0
        for page in connector.read_pages():
            records += page.height
            columns = page.width
        seconds = time.perf_counter() - start
        connector.close()
    print(f"seeded emulator with {args.records:,} contacts in {seeded:.1f} s")
    print(f"records:       {records:,} ({columns} columns)")
    print(f"seconds:       {seconds:.1f} ({records / seconds:,.0f} records/s)")
    print(f"HTTP requests: {connector.request_count:,} (emulator saw {emulator.request_count():,}; "
          f"{connector.retries} retries)")
    print(f"at HubSpot's 100 requests / 10 s the same pull needs at least {connector.request_count / 10:.0f} s")
    return 0 if records == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
