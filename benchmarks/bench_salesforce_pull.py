"""Benchmark: pull 100,000 Contacts from the Salesforce emulator, REST paging vs Bulk API 2.0.

Runs the real connector (simple-salesforce over HTTPS on 127.0.0.1) and prints, per mode, the
records read, wall seconds and HTTP requests made. The emulator answers instantly, so the numbers
measure client-side cost and request count; against a real org Bulk jobs also wait for processing.

    /work/venv/bin/python benchmarks/bench_salesforce_pull.py [--records 100000]
"""

from __future__ import annotations

import argparse
import random
import time

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.connectors.salesforce.emulator import SalesforceEmulator

FIRST = ["Anna", "Ivan", "Maria", "John", "Olga", "Peter", "Elena", "Sergey", "Kate", "Dmitry"]
LAST = ["Ivanova", "Smith", "Petrov", "Kuznetsova", "Brown", "Sokolov", "Novak", "Popova", "Lee", "Garcia"]
CITIES = ["Moscow", "London", "Kazan", "Berlin", "Novosibirsk", "Paris", "Samara", "Oslo"]


def make_rows(n: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append({
            "FirstName": first,
            "LastName": last,
            "Email": f"{first.lower()}.{last.lower()}{i}@example.com" if rng.random() > 0.1 else "",
            "Phone": f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
            "Title": rng.choice(["CEO", "Manager", "Engineer", "Buyer", ""]),
            "MailingCity": rng.choice(CITIES),
            "MailingPostalCode": f"{rng.randint(0, 999999):06d}",
            "LeadSource": rng.choice(["Web", "Phone Inquiry", "Partner Referral", "Trade Show"]),
            "HasOptedOutOfEmail": rng.choice(["true", "false"]),
            "Score__c": str(rng.randint(0, 100)),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    rows = make_rows(args.records)
    with SalesforceEmulator(objects={"Contact": rows}, daily_api_limit=5_000_000) as emu:
        print(f"emulator loaded {args.records:,} Contacts in {time.perf_counter() - t0:.1f} s")
        print(f"{'mode':<6} {'records':>9} {'seconds':>8} {'requests':>9} {'pages':>6} {'records/s':>10}")
        for mode in ("never", "always"):
            conn = SalesforceConnector("Contact", ConnectorOptions(bulk=mode), env=emu.env())
            conn.bulk_poll_seconds = 0.2
            start = time.perf_counter()
            records = pages = 0
            for page in conn.read_pages():
                records += page.height
                pages += 1
            seconds = time.perf_counter() - start
            label = "REST" if mode == "never" else "Bulk"
            print(f"{label:<6} {records:>9,} {seconds:>8.2f} {conn.request_count:>9} {pages:>6} "
                  f"{records / seconds:>10,.0f}")
            conn.close()


if __name__ == "__main__":
    main()
