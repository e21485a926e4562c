"""The store path alone: Zigbee2MQTT messages parsed and committed in this process, without MQTT or threads.

    python -m maeul.testing.postgres_server -- python benchmarks/store_path.py [--messages 200000] [--batch 500]

Seeds a site like `benchmarks/ingest.py` (fewer households, the same 5,000 devices and payloads), then runs
``Store.prepare`` and ``Store.commit`` over ``--messages`` messages in batches of ``--batch``, as the ingest worker's
parsing and storing threads do, and prints the rate and the CPU per message of this process (the Python side) and of
its PostgreSQL backend. Steadier than the end-to-end benchmark on a shared machine, so it is the one to compare
changes to parsing and storing with; what paho and the threads add is measured by `benchmarks/ingest.py`.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import KINDS, bench_database, payload_for, proc_stat, seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with bench_database() as db_url:
        from cryptography.fernet import Fernet

        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "maeul.settings",
                "DATABASE_URL": db_url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "MAEUL_FIELD_KEY": Fernet.generate_key().decode(),
                "MAEUL_LOG_LEVEL": "WARNING",
            }
        )
        import django

        django.setup()
        from django.db import connection, connections

        from maeul.sensing.store import Message, Store

        print("Seeding…", file=sys.stderr)
        world = seed(args.households, args.devices, rng)
        payloads = {kind: [payload_for(kind, rng) for _ in range(50)] for kind in KINDS}
        messages = [
            (f"zigbee2mqtt/{identity}", rng.choice(payloads[kind]))
            for identity, kind, _household in (world.devices[n % len(world.devices)] for n in range(args.messages))
        ]
        store = Store(world.site_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        print(f"Storing {args.messages:,} messages…", file=sys.stderr)
        backend_cpu0, _ = proc_stat(backend)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        readings = 0
        for start in range(0, len(messages), args.batch):
            received = datetime.now(UTC)
            batch = [store.prepare(Message(t, p, received)) for t, p in messages[start : start + args.batch]]
            readings += len(store.commit(batch).readings)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        backend_cpu = proc_stat(backend)[0] - backend_cpu0
        connections.close_all()
    n = args.messages
    print(f"\nStore path alone ({os.cpu_count()} cores): {n:,} messages, {readings:,} readings, batch {args.batch}")
    print(f"  {n / wall:,.0f} msg/s ({readings / wall:,.0f} readings/s) over {wall:.1f} s")
    print(f"  CPU per message: this process {cpu / n * 1e6:.0f} µs, PostgreSQL backend {backend_cpu / n * 1e6:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
