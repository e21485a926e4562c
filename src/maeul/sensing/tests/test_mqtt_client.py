"""BulkClient against a scripted socket: packets split anywhere by the network, what a delivery carries, packets it
must refuse, and a batch's acknowledgements.

The ingest tests run it against a real Mosquitto; these pin down the byte-level edge cases of reading in bulk, so a
paho upgrade that changes the private methods it overrides fails here first."""

from __future__ import annotations

import random
import struct

import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from maeul.sensing.mqtt_client import READ_SIZE, BulkClient, Delivery


def _publish(topic: str | bytes, payload: bytes, mid: int, qos: int = 1, dup: bool = False, v5: bool = False) -> bytes:
    name = topic.encode() if isinstance(topic, str) else topic
    body = struct.pack("!H", len(name)) + name + (struct.pack("!H", mid) if qos else b"") + (b"\x00" if v5 else b"")
    return _packet(0x30 | qos << 1 | (0x08 if dup else 0), body + payload)


def _packet(command: int, body: bytes) -> bytes:
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([command]) + bytes(encoded) + body


class _ScriptedSocket:
    """Hands out the stream in the given chunks, one per recv (never more than asked), then 'would block'."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = b""
        self.recv_calls = 0

    def recv(self, bufsize: int) -> bytes:
        self.recv_calls += 1
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        if len(chunk) > bufsize:
            self.chunks.insert(0, chunk[bufsize:])
            chunk = chunk[:bufsize]
        return chunk

    def send(self, data: bytes) -> int:
        self.sent += bytes(data)
        return len(data)

    def close(self) -> None:
        pass


def _client(
    sock: _ScriptedSocket, protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv311
) -> tuple[BulkClient, list[Delivery]]:
    received: list[Delivery] = []
    client = BulkClient(received.append, CallbackAPIVersion.VERSION2, client_id="t", protocol=protocol, manual_ack=True)
    client._sock = sock  # type: ignore[assignment]
    return client, received


def _read_all(client: BulkClient, sock: _ScriptedSocket) -> None:
    while sock.chunks or client._read_pos < len(client._read_buffer):
        assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_packets_split_anywhere_arrive_whole_and_in_order(seed: int) -> None:
    rng = random.Random(seed)
    packets = [
        (f"zigbee2mqtt/home {i}/motion", bytes(rng.randrange(256) for _ in range(rng.choice([0, 5, 180, 300]))), i + 1)
        for i in range(400)
    ]
    stream = b"".join(_publish(t, p, mid) for t, p, mid in packets)
    cuts = sorted(rng.sample(range(1, len(stream)), 300))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    sock = _ScriptedSocket(chunks)
    client, received = _client(sock)
    _read_all(client, sock)
    assert received == [Delivery(t, p, 1, mid, False) for t, p, mid in packets]


def test_one_read_serves_many_packets_without_going_back_to_the_socket() -> None:
    stream = b"".join(_publish("zigbee2mqtt/plug", b'{"power":5}', mid) for mid in range(1, 201))
    assert len(stream) < READ_SIZE
    sock = _ScriptedSocket([stream])
    client, received = _client(sock)
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS  # one call after select: everything held is read
    assert len(received) == 200
    assert sock.recv_calls == 1  # paho alone makes three or four per packet


def test_a_delivery_carries_the_quality_of_service_the_identifier_and_a_redelivery() -> None:
    stream = _publish("zigbee2mqtt/sos", b"{}", 0, qos=0) + _publish("zigbee2mqtt/sos", b"{}", 9, dup=True)
    sock = _ScriptedSocket([stream])
    client, received = _client(sock)
    _read_all(client, sock)
    assert received == [Delivery("zigbee2mqtt/sos", b"{}", 0, 0, False), Delivery("zigbee2mqtt/sos", b"{}", 1, 9, True)]
    assert sock.sent == b""  # acknowledged by ack_all once stored, never on arrival


def test_a_topic_that_is_not_utf8_is_delivered_with_replacement_characters() -> None:
    sock = _ScriptedSocket([_publish(b"tele/\xff/SENSOR", b"{}", 3)])
    client, received = _client(sock)
    _read_all(client, sock)
    assert received == [Delivery("tele/\ufffd/SENSOR", b"{}", 1, 3, False)]


@pytest.mark.parametrize(
    "body",
    [
        b"",  # no topic length
        struct.pack("!H", 0) + b"\x00\x01",  # an empty topic
        struct.pack("!H", 40) + b"zigbee2mqtt/a",  # a topic longer than the packet
        struct.pack("!H", 13) + b"zigbee2mqtt/a" + b"\x00",  # the packet identifier cut short
    ],
)
def test_a_malformed_publish_drops_the_connection_and_delivers_nothing(body: bytes) -> None:
    sock = _ScriptedSocket([_packet(0x32, body)])
    client, received = _client(sock)
    assert client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS  # paho closes the socket; the broker redelivers
    assert received == []


def test_mqtt_5_takes_paho_own_path_and_is_delivered_the_same() -> None:
    sock = _ScriptedSocket([_publish("zigbee2mqtt/door", b'{"contact":false}', 4, v5=True)])
    client, received = _client(sock, MQTTProtocolVersion.MQTTv5)
    _read_all(client, sock)
    assert received == [Delivery("zigbee2mqtt/door", b'{"contact":false}', 1, 4, False)]


def test_a_closed_connection_leaves_nothing_for_the_next() -> None:
    stream = _publish("zigbee2mqtt/a", b"1", 1) * 3
    sock = _ScriptedSocket([stream])
    client, _received = _client(sock)
    assert client._sock_recv(1) == stream[:1]  # paho asks for the command byte; the rest is held
    assert client._read_pos < len(client._read_buffer)
    client._sock_close()  # e.g. the broker went away: what was held belonged to that connection
    assert client._read_buffer == b"" and client._read_pos == 0


def test_a_batchs_acknowledgements_go_in_one_write_in_order() -> None:
    sock = _ScriptedSocket([])
    client, _received = _client(sock)
    client._thread = None  # not threaded: the queue is written at once
    assert client.ack_all([7, 8, 65535]) == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert sock.sent == b"\x40\x02\x00\x07" + b"\x40\x02\x00\x08" + b"\x40\x02\xff\xff"
    assert client.ack_all([]) == MQTTErrorCode.MQTT_ERR_SUCCESS
