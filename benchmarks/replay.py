"""Replay benchmark: how long ``maeul replay`` takes over a log of a million events.

    python benchmarks/replay.py [--events 1000000] [--days 60]

Writes a CSV log of simple daily routines (up in the morning, about the home by day, out some afternoons, asleep
at night) for as many households as it takes to reach ``--events``, then runs ``maeul replay`` on it end to end
(reading the CSV, the detectors on the simulated clock, writing JSON Lines) and prints the time and the alerts by
kind. The routines are a load, not a test of detection quality: that is the detection-quality benchmark's job.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

KST = timezone(timedelta(hours=9))
START = datetime(2026, 1, 5, tzinfo=KST)


def write_log(path: Path, events: int, days: int, rng: random.Random) -> tuple[int, int]:
    rows: list[tuple[datetime, str, str, str, str]] = []
    household = 0
    while len(rows) < events:
        name = f"H-{household:06d}"
        for day in range(days):
            base = START + timedelta(days=day)
            t = base + timedelta(hours=6, minutes=30 + rng.randint(0, 30))
            while t < base + timedelta(hours=22, minutes=30):
                if base.weekday() < 5 and base + timedelta(hours=14) <= t < base + timedelta(hours=14, minutes=20):
                    rows.append((t, name, "door", "contact", "open"))
                    t = base + timedelta(hours=16, minutes=rng.randint(0, 20))
                    rows.append((t, name, "door", "contact", "open"))
                rows.append((t, name, rng.choice(("hall", "kitchen", "bedroom")), "motion", "1"))
                if rng.random() < 0.1:
                    rows.append((t, name, "tv", "appliance", rng.choice(("on", "off"))))
                t += timedelta(minutes=rng.randint(5, 90))
        household += 1
    rows.sort(key=lambda r: r[0])
    with path.open("w", encoding="utf-8") as out:
        out.write("timestamp,household,device,kind,value\n")
        out.writelines(f"{at.isoformat()},{h},{d},{k},{v}\n" for at, h, d, k, v in rows)
    return len(rows), household


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maeul.testing.settings")
    import django

    django.setup()
    from django.core.management import call_command

    with tempfile.TemporaryDirectory(prefix="maeul-replay-") as workdir:
        log, alerts = Path(workdir) / "events.csv", Path(workdir) / "alerts.jsonl"
        started = time.perf_counter()
        count, households = write_log(log, args.events, args.days, random.Random(args.seed))
        print(
            f"log: {count:,} events, {households} households, {args.days} days, written in "
            f"{time.perf_counter() - started:.1f} s ({log.stat().st_size / 1e6:.0f} MB)"
        )
        started = time.perf_counter()
        call_command("replay", str(log), out=str(alerts), stderr=io.StringIO())
        elapsed = time.perf_counter() - started
        kinds = collections.Counter(json.loads(line)["kind"] for line in alerts.open(encoding="utf-8"))
    print(f"maeul replay: {elapsed:.1f} s, {count / elapsed:,.0f} events/second")
    print("alerts by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
