"""A stream consumer for tests: appends what it is handed to ``$MAEUL_TEST_RECORDING_DIR/<partition>.jsonl``."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from maeul.sensing.stream import DeviceStatus, StoredReading


class RecordingConsumer:
    def __init__(self, site_id: int, partition: int, partitions: int) -> None:
        directory = Path(os.environ["MAEUL_TEST_RECORDING_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{partition}.jsonl"
        self.partition, self.partitions = partition, partitions

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.path.open("a") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)

    def readings(self, batch: Sequence[StoredReading]) -> None:
        self._write(
            [
                {"id": r.reading_id, "household": r.household_id, "device": r.device, "kind": r.kind, "value": r.value}
                for r in batch
            ]
        )

    def statuses(self, batch: Sequence[DeviceStatus]) -> None:
        self._write([{"status": s.online, "household": s.household_id, "device": s.device} for s in batch])

    def tick(self, now: datetime) -> None:
        pass


def recorded(directory: Path) -> dict[int, list[dict[str, Any]]]:
    """Partition → what its consumer was handed, in order."""
    return {
        int(path.stem): [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(directory.glob("*.jsonl"))
    }
