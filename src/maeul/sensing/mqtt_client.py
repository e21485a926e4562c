"""paho's MQTT client, reading and acknowledging in bulk.

An ingest worker receives thousands of small messages a second. paho reads each message on its own: a ``select``,
then one ``recv`` for the command byte, one per byte of the remaining length and one for the rest. It also sends
each acknowledgement as a packet of its own, waking its network thread for each. This client reads the socket up to
64 KiB at a time and serves paho's small reads from what it holds, reads every packet it holds before going back to
``select``, and sends a batch's acknowledgements in one write. MQTT itself is unchanged: the same packets, in the
same order. It relies on three private methods of paho (``_sock_recv``, ``_sock_close``, ``_packet_queue``), so
paho is pinned in ``requirements.lock`` and ``test_ingest`` runs it against a real Mosquitto.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

READ_SIZE = 65536
_PUBACK = 0x40  # MQTT 3.1.1 §3.4: fixed header 0x40, remaining length 2, packet identifier
_puback = struct.Struct("!BBH")


class BulkClient(mqtt.Client):
    _read_buffer = b""  # read from the socket, not yet handed to paho: from _read_pos on
    _read_pos = 0

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
