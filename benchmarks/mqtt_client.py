"""The MQTT client alone: what receiving a message costs paho's own client and Maeul's ``BulkClient``.

    python benchmarks/mqtt_client.py [--messages 69000] [--runs 2]

Starts Mosquitto with Maeul's settings on a free port and queues ``--messages`` Zigbee2MQTT reports at QoS 1 (the
motion, door, climate and plug payloads of `benchmarks/ingest.py`) for a persistent session while it is away. Then
it connects a client as ``maeul ingest`` does (MQTT 3.1.1, manual acknowledgements) and receives the burst: the
network thread puts each message on a queue, the main thread takes batches of up to 500, reads each message's topic,
payload and redelivery flag, and acknowledges the batch (paho: one ``ack`` a message; ``BulkClient``: ``ack_all``).
Prints the CPU time of this process per message and the rate, for each client in turn, ``--runs`` times. Nothing is
parsed or stored: `benchmarks/store_path.py` measures that and `benchmarks/ingest.py` everything together.
"""

from __future__ import annotations

import argparse
import queue
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from maeul.sensing.broker import free_port, start_broker
from maeul.sensing.mqtt_client import BulkClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import KINDS, payload_for

TOPIC = "zigbee2mqtt/#"
BATCH = 500


def queue_burst(port: int, client_id: str, messages: int, rng: random.Random) -> None:
    """Subscribe ``client_id``'s persistent session, leave, and publish the burst for the broker to keep."""
    subscribed = threading.Event()
    session = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv311, clean_session=False
    )
    session.on_connect = lambda c, *_: c.subscribe(TOPIC, 1)
    session.on_subscribe = lambda *_: subscribed.set()
    session.connect("127.0.0.1", port)
    session.loop_start()
    if not subscribed.wait(10):
        raise SystemExit("the broker did not acknowledge the subscription")
    session.disconnect()
    session.loop_stop()

    connected = threading.Event()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="publisher", protocol=MQTTProtocolVersion.MQTTv311)
    publisher.on_connect = lambda *_: connected.set()
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    if not connected.wait(10):
        raise SystemExit("the publisher could not connect")
    for i in range(messages):
        kind = KINDS[i % len(KINDS)]
        info = publisher.publish(f"zigbee2mqtt/home {i % 1000}/{kind}", payload_for(kind, rng), qos=1)
        if i % 5000 == 4999 or i == messages - 1:
            info.wait_for_publish(60)  # paho's packet identifiers wrap at 65,535: keep fewer in flight
    publisher.disconnect()
    publisher.loop_stop()


def receive(port: int, client_id: str, messages: int, bulk: bool) -> tuple[float, float]:
    """Receive the queued burst; CPU seconds of this process and wall seconds."""
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    options: dict[str, Any] = {
        "client_id": client_id,
        "protocol": MQTTProtocolVersion.MQTTv311,
        "clean_session": False,
        "manual_ack": True,
    }
    client = BulkClient(inbox.put, CallbackAPIVersion.VERSION2, **options) if bulk else _paho(inbox, options)

    def acknowledge(batch: list[Any]) -> None:
        if isinstance(client, BulkClient):
            client.ack_all(m.mid for m in batch if m.qos == 1)  # one write
        else:
            for m in batch:
                client.ack(m.mid, m.qos)

    cpu, wall = time.process_time(), time.perf_counter()
    client.connect("127.0.0.1", port)
    client.loop_start()
    received = 0
    while received < messages:
        batch = [inbox.get(timeout=30)]
        while len(batch) < BATCH:
            try:
                batch.append(inbox.get_nowait())
            except queue.Empty:
                break
        for message in batch:
            _seen = (message.topic, bytes(message.payload), bool(message.dup))
        acknowledge(batch)
        received += len(batch)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    client.disconnect()
    client.loop_stop()
    return cpu, wall


def _paho(inbox: queue.SimpleQueue[Any], options: dict[str, Any]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, **options)
    client.on_message = lambda _c, _u, message: inbox.put(message)
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=69_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="maeul-bench-mqtt-") as workdir:
        broker = start_broker(Path(workdir), port=port)
        try:
            _measure(port, args.messages, args.runs, rng)
        finally:
            broker.stop()
    return 0


def _measure(port: int, messages: int, runs: int, rng: random.Random) -> None:
    print(f"{messages:,} queued Zigbee2MQTT messages at QoS 1, acknowledged in batches of {BATCH}")
    for run in range(1, runs + 1):
        for name, bulk in (("paho Client", False), ("BulkClient", True)):
            client_id = f"bench-{run}-{int(bulk)}"
            queue_burst(port, client_id, messages, rng)
            cpu, wall = receive(port, client_id, messages, bulk)
            print(
                f"  run {run} {name:<12} {cpu / messages * 1e6:5.1f} µs of CPU a message,"
                f" {messages / wall:9,.0f} messages/s"
            )


if __name__ == "__main__":
    raise SystemExit(main())
