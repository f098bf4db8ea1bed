"""Pull 100,000 contacts through the amoCRM emulator: requests, seconds, and what amoCRM's 7 requests/s would cost.

The emulator and the connector run with the limit lifted (the pull measures crmclean and the transport); the time
the real limit imposes is requests / 7 seconds, since every page is one request of at most 250 records.

    python benchmarks/bench_amocrm_pull.py [N]
"""

from __future__ import annotations

import os
import sys
import time

from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.connectors.amocrm.connector import PAGE_SIZE, RATE_LIMIT
from crmclean.testing.amocrm_emulator import AmoCRMEmulator


def main(n: int = 100_000) -> None:
    rows = [{"first_name": f"Имя{i}", "last_name": "Иванов", "phone": f"8 916 {i % 1000:03d}-{i % 100:02d}-00",
             "email": f"user{i}@example.ru", "position": "Менеджер", "Город": "Москва"} for i in range(n)]
    with AmoCRMEmulator(rate_limit=10_000) as emu:
        emu.add_records("contacts", rows)
        os.environ.update(emu.env())
        con = open_connector("amocrm:contacts", ConnectorOptions(extra={"rate_limit": "10000"}))
        start = time.perf_counter()
        total = sum(page.height for page in con.read_pages())
        seconds = time.perf_counter() - start
        requests_made = getattr(con, "request_count", 0)
    assert total == n, total
    real = requests_made / RATE_LIMIT
    print(f"amoCRM pull: {total:,} records, {requests_made} requests ({PAGE_SIZE} per page), {seconds:.1f} s "
          f"({total / seconds:,.0f} records/s) through the emulator; amoCRM's {RATE_LIMIT} requests/s alone would "
          f"take {real:.0f} s ({real / 60:.1f} min)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
