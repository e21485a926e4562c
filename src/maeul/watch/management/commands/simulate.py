from __future__ import annotations

import itertools
import json
import math
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from django.core.management.base import BaseCommand, CommandError
from paho.mqtt.enums import CallbackAPIVersion

from maeul.sensing.ingest import BrokerConfig
from maeul.watch import simulation

KST = ZoneInfo("Asia/Seoul")


class Command(BaseCommand):
    help = (
        "Simulate households of older people living alone: publish what their sensors would report over MQTT "
        "(Zigbee2MQTT, Tasmota and generic JSON topics) on a simulated clock, or write the event log that "
        "`maeul replay` reads (--csv). Deterministic for a seed; see maeul.watch.simulation."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--households", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--days", type=float, help="how long to simulate (default: for ever; with --csv: 7)")
        parser.add_argument("--start", help="ISO 8601 with an offset (default: now, Asia/Seoul)")
        parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second; 0: no waiting")
        parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://user:pass@host:port")
        parser.add_argument("--profiles", help=f"comma-separated, in turn (default: {','.join(simulation.PROFILES)})")
        parser.add_argument(
            "--incident",
            action="append",
            default=[],
            help=f"household:kind:ISO time, kind one of {', '.join(simulation.INCIDENT_KINDS)} (repeatable)",
        )
        parser.add_argument("--csv", help="write the replay event log to this file (- for standard output)")
        parser.add_argument("--devices", help="write the simulated devices as JSON to this file, for provisioning")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = datetime.fromisoformat(options["start"]) if options["start"] else datetime.now(KST)
            if start.tzinfo is None:
                raise ValueError("--start needs an offset, e.g. +09:00")
            incidents = [simulation.Incident.parse(text) for text in options["incident"]]
            profiles = options["profiles"].split(",") if options["profiles"] else None
            unknown = set(profiles or ()) - set(simulation.PROFILES)
            if unknown:
                raise ValueError(f"unknown profiles {sorted(unknown)} (known: {', '.join(simulation.PROFILES)})")
            if options["households"] < 1 or options["speed"] < 0:
                raise ValueError("--households must be at least 1 and --speed at least 0")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        homes = simulation.households(options["households"], start, options["seed"], incidents, profiles)
        if options["devices"]:
            devices = [asdict(d) for home in homes for d in home.devices]
            Path(options["devices"]).write_text(json.dumps(devices, ensure_ascii=False, indent=1), "utf-8")
        days = options["days"] if options["days"] is not None else (7.0 if options["csv"] else None)
        emissions = self._until(simulation.merged(homes, None if days is None else math.ceil(days)), start, days)
        if options["csv"]:
            out = sys.stdout if options["csv"] == "-" else open(options["csv"], "w", encoding="utf-8")  # noqa: SIM115
            try:
                rows = self._write(simulation.csv_rows(emissions), out)
            finally:
                if out is not sys.stdout:
                    out.close()
            self.stderr.write(f"{rows - 1} events from {len(homes)} households written")
            return
        try:
            broker = BrokerConfig.from_url(options["broker"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sent = self._publish(broker, emissions, start, options["speed"])
        self.stderr.write(f"{sent} messages published for {len(homes)} households")

    @staticmethod
    def _until(
        emissions: Iterator[simulation.Emission], start: datetime, days: float | None
    ) -> Iterator[simulation.Emission]:
        if days is None:
            return emissions
        end = start + timedelta(days=days)
        return itertools.takewhile(lambda e: e.at < end, emissions)

    @staticmethod
    def _write(rows: Iterator[str], out: TextIO) -> int:
        count = 0
        for row in rows:
            out.write(row)
            count += 1
        return count

    def _publish(
        self, broker: BrokerConfig, emissions: Iterator[simulation.Emission], start: datetime, speed: float
    ) -> int:
        """Publish each report when the simulated clock reaches it (QoS 1; availability retained, as Zigbee2MQTT
        does), then wait until the broker has acknowledged them all."""
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="maeul-simulate")
        if broker.username:
            client.username_pw_set(broker.username, broker.password or None)
        if broker.tls:
            client.tls_set(ca_certs=broker.ca or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        acknowledged = 0
        lock = threading.Lock()

        def on_publish(_client: mqtt.Client, _userdata: object, _mid: int, _reason: object, _props: object) -> None:
            nonlocal acknowledged
            with lock:
                acknowledged += 1

        client.on_publish = on_publish
        try:
            client.connect(broker.host, broker.port, keepalive=30)
        except OSError as exc:
            raise CommandError(f"cannot reach the broker at {broker.host}:{broker.port}: {exc}") from exc
        client.loop_start()
        began = time.monotonic()
        sent = 0
        try:
            for emission in emissions:
                if speed:
                    wait = (emission.at - start).total_seconds() / speed - (time.monotonic() - began)
                    if wait > 0:
                        time.sleep(wait)
                topic, payload = emission.message()
                client.publish(topic, payload, qos=1, retain=emission.online is not None)
                sent += 1
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with lock:
                    if acknowledged >= sent:
                        break
                time.sleep(0.05)
            else:
                raise CommandError(f"the broker acknowledged {acknowledged} of {sent} messages within 30 s")
        finally:
            client.disconnect()
            client.loop_stop()
        return sent
