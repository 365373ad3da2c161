"""Capture files of link type ``LINKTYPE_ISO_14443`` (264): pcapng out, pcapng and pcap in.

Every packet starts with a 4-byte pseudo-header (tcpdump.org's link-type
registry, ``LINKTYPE_ISO_14443``): version 0, an event byte, and the length
of the frame that follows, big-endian. The events Wireshark knows:

* ``FE`` data from the reader to the card (PCD → PICC),
* ``FF`` data from the card to the reader (PICC → PCD),
* ``FC`` field on, ``FD`` field off (no data).

pcapng (IETF draft-ietf-opsawg-pcapng) is written in little-endian order: a
Section Header Block whose comment names the writer, one Interface
Description Block (microsecond timestamps), then one Enhanced Packet Block
per packet, each with optional comments. Blocks are written whole and
flushed, so a reader following the file (``tail -f … | wireshark -k -i -``)
never sees half a packet. Reading accepts either byte order, several
sections, the Simple and obsolete Packet Blocks and classic pcap (µs and ns).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from ..errors import HcekitError

__all__ = [
    "LINKTYPE_ISO_14443",
    "Capture",
    "CaptureFormatError",
    "Event",
    "Packet",
    "PcapngWriter",
    "read_capture",
]

#: pcapng link type of ISO 14443 frames (Wireshark's ``iso14443`` dissector).
LINKTYPE_ISO_14443 = 264
SUPPORTED_LINKTYPES = {LINKTYPE_ISO_14443: "LINKTYPE_ISO_14443"}
_PSEUDO_HEADER = struct.Struct(">BBH")
_PSEUDO_HEADER_VERSION = 0

# pcapng block types and option codes
_SHB, _IDB, _PB, _SPB, _EPB = 0x0A0D0D0A, 0x00000001, 0x00000002, 0x00000003, 0x00000006
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_END, _OPT_COMMENT = 0, 1
_SHB_USERAPPL = 4
_IF_TSRESOL = 9
# classic pcap magic numbers (as read little-endian) and their timestamp units per second
_PCAP_MAGIC = {0xA1B2C3D4: ("<", 10**6), 0xD4C3B2A1: (">", 10**6),
               0xA1B23C4D: ("<", 10**9), 0x4D3CB2A1: (">", 10**9)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CaptureFormatError(HcekitError, ValueError):
    """A file that is not a capture this module reads; the message says what was found."""


class Event(enum.IntEnum):
    """The pseudo-header's event byte."""

    FIELD_ON = 0xFC
    FIELD_OFF = 0xFD
    PCD_TO_PICC = 0xFE  # reader → card
    PICC_TO_PCD = 0xFF  # card → reader


@dataclass(frozen=True)
class Packet:
    """One captured frame (or field event) with its time and pcapng comments."""

    time: datetime
    event: Event
    frame: bytes = b""
    comments: tuple[str, ...] = ()

    def payload(self) -> bytes:
        """The packet as captured: pseudo-header and frame."""
        return _PSEUDO_HEADER.pack(_PSEUDO_HEADER_VERSION, self.event, len(self.frame)) + self.frame


@dataclass
class Capture:
    """What a capture file held: its packets and the section header comments."""

    packets: list[Packet] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


# -- writing -----------------------------------------------------------------------------


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _options(*pairs: tuple[int, bytes]) -> bytes:
    if not pairs:
        return b""
    return b"".join(_option(code, value) for code, value in pairs) + _option(_OPT_END, b"")


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


class PcapngWriter:
    """Writes one pcapng section with one ISO 14443 interface; flushes every packet."""

    def __init__(self, out: IO[bytes], *, application: str, comments: Sequence[str] = ()) -> None:
        self._out = out
        options = [(_OPT_COMMENT, c.encode()) for c in comments]
        options.append((_SHB_USERAPPL, application.encode()))
        shb = struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + _options(*options)
        # snaplen 0 = unlimited; if_tsresol 6 = microseconds (the default, written for clarity)
        idb = struct.pack("<HHI", LINKTYPE_ISO_14443, 0, 0) + _options((_IF_TSRESOL, b"\x06"))
        out.write(_block(_SHB, shb) + _block(_IDB, idb))
        out.flush()

    def write(self, packet: Packet) -> None:
        micros = (packet.time - _EPOCH) // timedelta(microseconds=1)
        data = packet.payload()
        body = struct.pack("<IIIII", 0, micros >> 32, micros & 0xFFFFFFFF, len(data), len(data))
        body += _pad(data) + _options(*((_OPT_COMMENT, c.encode()) for c in packet.comments))
        self._out.write(_block(_EPB, body))
        self._out.flush()


# -- reading -----------------------------------------------------------------------------


def _comments(options: bytes, order: str) -> tuple[list[str], dict[int, bytes]]:
    comments: list[str] = []
    other: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, pos)
        value = options[pos + 4: pos + 4 + length]
        pos += 4 + length + (-length % 4)
        if code == _OPT_END:
            break
        if code == _OPT_COMMENT:
            comments.append(value.decode("utf-8", "replace"))
        else:
            other.setdefault(code, value)
    return comments, other


def _tsresol(value: bytes | None) -> int:
    """Timestamp units per second from pcapng's if_tsresol (default 10**6)."""
    if not value:
        return 10**6
    exponent = value[0] & 0x7F
    return int(2**exponent if value[0] & 0x80 else 10**exponent)


def _packet(payload: bytes, units: int, per_second: int, comments: Sequence[str], where: str) -> Packet:
    if len(payload) < _PSEUDO_HEADER.size:
        raise CaptureFormatError(f"{where}: {len(payload)}-byte packet, shorter than the "
                                 f"4-byte ISO 14443 pseudo-header")
    version, event, length = _PSEUDO_HEADER.unpack_from(payload)
    if version != _PSEUDO_HEADER_VERSION:
        raise CaptureFormatError(f"{where}: pseudo-header version {version}, expected 0")
    try:
        kind = Event(event)
    except ValueError:
        raise CaptureFormatError(f"{where}: unknown ISO 14443 event {event:02X} (known: "
                                 f"{', '.join(f'{e.value:02X} {e.name}' for e in Event)})") from None
    frame = payload[_PSEUDO_HEADER.size:_PSEUDO_HEADER.size + length]
    if len(frame) != length:
        raise CaptureFormatError(f"{where}: pseudo-header says {length} bytes, packet has {len(frame)}")
    when = _EPOCH + timedelta(microseconds=units * 10**6 // per_second)
    return Packet(when, kind, frame, tuple(comments))


def _unsupported(linktype: int) -> CaptureFormatError:
    known = ", ".join(f"{n} ({name})" for n, name in SUPPORTED_LINKTYPES.items())
    return CaptureFormatError(f"link type {linktype} is not supported; hcekit reads {known}: "
                              f"ISO 14443 frames with the 4-byte pseudo-header")


def _read_pcapng(data: bytes) -> Capture:
    capture = Capture()
    pos = 0
    order = "<"
    interfaces: list[tuple[int, int]] = []  # (linktype, units per second) per interface id
    while pos < len(data):
        if len(data) - pos < 12:
            raise CaptureFormatError(f"offset {pos}: truncated block header")
        (block_type,) = struct.unpack_from("<I", data, pos)
        if block_type == _SHB:
            (magic,) = struct.unpack_from("<I", data, pos + 8)
            order = "<" if magic == _BYTE_ORDER_MAGIC else ">"
            if struct.unpack_from(order + "I", data, pos + 8)[0] != _BYTE_ORDER_MAGIC:
                raise CaptureFormatError(f"offset {pos}: section header with a bad byte-order magic")
            interfaces = []
        block_type, length = struct.unpack_from(order + "II", data, pos)
        if length < 12 or length % 4 or pos + length > len(data):
            raise CaptureFormatError(f"offset {pos}: block length {length} does not fit the file")
        body = data[pos + 8: pos + length - 4]
        where = f"block at offset {pos}"
        if block_type == _SHB:
            comments, _ = _comments(body[16:], order)
            capture.comments.extend(comments)
        elif block_type == _IDB:
            linktype = struct.unpack_from(order + "H", body)[0]
            _, options = _comments(body[8:], order)
            interfaces.append((linktype, _tsresol(options.get(_IF_TSRESOL))))
        elif block_type in (_EPB, _PB, _SPB):
            if block_type == _SPB:
                iface, high, low, caplen = 0, 0, 0, len(body) - 4
                captured, rest = body[4:4 + caplen], b""
            else:
                if block_type == _EPB:
                    iface, high, low, caplen, _orig = struct.unpack_from(order + "IIIII", body)
                else:
                    iface, _drops, high, low, caplen, _orig = struct.unpack_from(order + "HHIIII", body)
                captured = body[20:20 + caplen]
                rest = body[20 + caplen + (-caplen % 4):]
            if iface >= len(interfaces):
                raise CaptureFormatError(f"{where}: packet on interface {iface}, which is not described")
            linktype, per_second = interfaces[iface]
            if linktype not in SUPPORTED_LINKTYPES:
                raise _unsupported(linktype)
            comments, _ = _comments(rest, order)
            capture.packets.append(_packet(captured, (high << 32) | low, per_second, comments, where))
        pos += length
    return capture


def _read_pcap(data: bytes) -> Capture:
    (magic,) = struct.unpack_from("<I", data)
    order, per_second = _PCAP_MAGIC[magic]
    if len(data) < 24:
        raise CaptureFormatError("truncated pcap file header")
    linktype = struct.unpack_from(order + "I", data, 20)[0] & 0x0FFFFFFF
    if linktype not in SUPPORTED_LINKTYPES:
        raise _unsupported(linktype)
    capture = Capture()
    pos = 24
    while pos < len(data):
        if len(data) - pos < 16:
            raise CaptureFormatError(f"offset {pos}: truncated packet header")
        seconds, fraction, caplen, _orig = struct.unpack_from(order + "IIII", data, pos)
        payload = data[pos + 16: pos + 16 + caplen]
        capture.packets.append(_packet(payload, seconds * per_second + fraction, per_second, (),
                                       f"packet at offset {pos}"))
        pos += 16 + caplen
    return capture


def read_capture(path: str | Path) -> Capture:
    """Read a pcapng or pcap file of ISO 14443 frames; raise :class:`CaptureFormatError`."""
    data = Path(path).read_bytes()
    if len(data) < 4:
        raise CaptureFormatError(f"{path}: {len(data)} bytes, not a pcap or pcapng file")
    (magic,) = struct.unpack_from("<I", data)
    if magic == _SHB:
        return _read_pcapng(data)
    if magic in _PCAP_MAGIC:
        return _read_pcap(data)
    raise CaptureFormatError(f"{path}: not a pcap or pcapng file (starts with {data[:4].hex()})")
