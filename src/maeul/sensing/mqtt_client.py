"""paho's MQTT client, reading, delivering and acknowledging in bulk.

An ingest worker receives thousands of small messages a second. paho reads each message on its own: a ``select``,
then one ``recv`` for the command byte, one per byte of the remaining length and one for the rest. It makes an
``MQTTMessage`` of each (with a ``threading.Condition`` a publisher may wait on) and looks its topic up among the
per-topic callbacks. It also sends each acknowledgement as a packet of its own, waking its network thread for each.
This client reads the socket up to 64 KiB at a time and serves paho's small reads from what it holds, reads every
packet it holds before going back to ``select``, hands an MQTT 3.1.1 message at QoS 0 or 1 to ``on_delivery`` as a
plain ``Delivery``, and sends a batch's acknowledgements in one write. MQTT itself is unchanged: the same packets,
in the same order. It relies on private methods of paho (``_sock_recv``, ``_sock_close``, ``_handle_publish``,
``_packet_queue``) and its ``_in_packet``, so paho is pinned in ``requirements.lock``, ``test_mqtt_client`` pins the
edge cases down and ``test_ingest`` runs it against a real Mosquitto.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

READ_SIZE = 65536
_PUBACK = 0x40  # MQTT 3.1.1 §3.4: fixed header 0x40, remaining length 2, packet identifier
_puback = struct.Struct("!BBH")
_uint16 = struct.Struct("!H")


class Delivery(NamedTuple):
    """A message as the broker delivered it."""

    topic: str
    payload: bytes
    qos: int
    mid: int  # the packet identifier to acknowledge (0 at QoS 0)
    dup: bool  # the broker may have delivered it before


class BulkClient(mqtt.Client):
    _read_buffer = b""  # read from the socket, not yet handed to paho: from _read_pos on
    _read_pos = 0

    def __init__(self, on_delivery: Callable[[Delivery], None], *args: Any, **kwargs: Any) -> None:
        """``on_delivery`` is called in paho's network thread with each message; the rest is paho's ``Client``."""
        super().__init__(*args, **kwargs)
        self.on_delivery = on_delivery
        self.on_message = self._deliver  # paho's own path: MQTT 5 (properties) and QoS 2 (its PUBREC/PUBREL state)

    def _deliver(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.on_delivery(Delivery(message.topic, bytes(message.payload), message.qos, message.mid, message.dup))

    def _handle_publish(self) -> MQTTErrorCode:
        # MQTT 3.1.1 §3.3: flags in the command byte; topic length, topic, packet identifier (QoS > 0), payload.
        command, packet = self._in_packet["command"], self._in_packet["packet"]
        qos = (command & 0x06) >> 1
        if qos == 2 or self._protocol == MQTTProtocolVersion.MQTTv5:
            return super()._handle_publish()
        start = 2 + (_uint16.unpack_from(packet)[0] if len(packet) >= 2 else 0)
        end = start + 2 * qos
        if start == 2 or len(packet) < end:
            raise MalformedPacket("PUBLISH without a topic or cut short")  # paho drops the connection
        mid = _uint16.unpack_from(packet, start)[0] if qos else 0
        # Brokers refuse topics that are not UTF-8 (MQTT 3.1.1 §1.5.3); one that slipped through goes on, with
        # replacement characters, to be kept like any message no device claims, rather than stopping the worker.
        topic = packet[2:start].decode("utf-8", "replace")
        self.on_delivery(Delivery(topic, bytes(packet[end:]), qos, mid, bool(command & 0x08)))
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _sock_recv(self, bufsize: int) -> bytes:
        held = len(self._read_buffer) - self._read_pos
        if held <= 0:
            data = super()._sock_recv(max(bufsize, READ_SIZE))
            if len(data) <= bufsize:
                return data
            self._read_buffer, self._read_pos, held = data, 0, len(data)
        start = self._read_pos
        end = start + min(bufsize, held)
        self._read_pos = end
        if end == len(self._read_buffer):
            data, self._read_buffer, self._read_pos = self._read_buffer[start:], b"", 0
            return data
        return self._read_buffer[start:end]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        # What is held was read from the socket already: select would not wake for it.
        rc = super().loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._read_pos < len(self._read_buffer) and self._sock:
            rc = super().loop_read(max_packets)
        return rc

    def _sock_close(self) -> None:
        # Bytes of a closed connection must never be read as the next connection's.
        self._read_buffer, self._read_pos = b"", 0
        super()._sock_close()

    def ack_all(self, mids: Iterable[int]) -> MQTTErrorCode:
        """PUBACK each QoS 1 message id, all in one write (as ``ack`` does one by one with ``manual_ack``)."""
        packet = b"".join([_puback.pack(_PUBACK, 2, mid) for mid in mids])
        if not packet:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return self._packet_queue(_PUBACK, packet, 0, 1)
