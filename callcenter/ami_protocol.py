"""The Asterisk Manager Interface wire format: packets of `Key: Value` lines, parsed and encoded without I/O."""

from __future__ import annotations

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_PACKET_BYTES = 64 * 1024


class AmiParser:
    """Turn the bytes of one AMI connection, in chunks of any size, into complete packets.

    A packet is a run of `Key: Value` lines ended by a blank line; the server opens with a banner line
    (`Asterisk Call Manager/X.Y.Z`) that has no blank line after it. Bad input never raises: a line without
    a colon is skipped and counted in `malformed_lines`; a packet (or a line) longer than `max_packet_bytes`
    is dropped whole and counted in `dropped_packets`, so a peer sending garbage cannot grow our memory.
    Use one parser per connection.
    """

    def __init__(self, max_packet_bytes: int = MAX_PACKET_BYTES) -> None:
        self.max_packet_bytes = max_packet_bytes
        self.banner: str | None = None
        self.malformed_lines = 0
        self.dropped_packets = 0
        self._buffer = bytearray()
        self._fields: dict[str, str] = {}
        self._packet_bytes = 0
        # After an oversize packet, everything up to the next blank line belongs to it and is thrown away.
        self._is_discarding = False

    def feed(self, data: bytes) -> list[dict[str, str]]:
        """Take the next bytes read from the socket; return the packets they complete, in order."""
        self._buffer += data
        packets: list[dict[str, str]] = []
        start = 0
        while (end := self._buffer.find(b"\n", start)) != -1:
            packet = self._take_line(bytes(self._buffer[start:end]))
            if packet is not None:
                packets.append(packet)
            start = end + 1
        del self._buffer[:start]
        if len(self._buffer) > self.max_packet_bytes:
            # A line this long is not AMI: drop it and the packet it was part of.
            self._buffer.clear()
            self._drop_packet()
        return packets

    def _take_line(self, raw: bytes) -> dict[str, str] | None:
        line = raw.rstrip(b"\r")
        if not line.strip():
            return self._end_packet()
        if self._is_discarding:
            return None
        self._packet_bytes += len(raw) + 1
        if self._packet_bytes > self.max_packet_bytes:
            self._drop_packet()
            return None
        text = line.decode("utf-8", errors="replace")
        if not self._fields and text.startswith(BANNER_PREFIX):
            self.banner = text.strip()
            self._packet_bytes = 0
            return None
        key, colon, value = text.partition(":")
        key = key.strip()
        if not colon or not key:
            self.malformed_lines += 1
            return None
        self._fields[key] = value.strip()
        return None

    def _end_packet(self) -> dict[str, str] | None:
        packet = self._fields or None
        if self._is_discarding:
            packet = None
        self._fields = {}
        self._packet_bytes = 0
        self._is_discarding = False
        return packet

    def _drop_packet(self) -> None:
        if not self._is_discarding:
            self.dropped_packets += 1
        self._fields = {}
        self._packet_bytes = 0
        self._is_discarding = True


def encode_action(action: str, *, action_id: str, **fields: str) -> bytes:
    """Encode an AMI action with its ActionID, e.g. `encode_action("Ping", action_id="7")`.

    Raises ValueError when a name or value holds a line break, which would let it smuggle in other fields.
    """
    lines = [("Action", action), ("ActionID", action_id), *fields.items()]
    for key, value in lines:
        if any(c in f"{key}{value}" for c in "\r\n") or ":" in key:
            raise ValueError(f"AMI field {key!r} must be one line, and its name must not hold a colon.")
    return "".join(f"{key}: {value}\r\n" for key, value in lines).encode() + b"\r\n"
