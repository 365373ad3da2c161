"""Traces as packet captures: ISO 14443-4 frames in pcapng, for Wireshark and tshark.

* :mod:`.iso14443` — the frames a contactless reader and card exchange
  (ISO 14443-4 blocks with the ISO 14443-3 CRC_A);
* :mod:`.pcapng` — reading and writing capture files of link type
  ``LINKTYPE_ISO_14443`` (264), pcapng and classic pcap;
* :mod:`.convert` — hcekit traces to packets and back, and the live
  :class:`~hcekit.capture.convert.PcapRecorder` behind ``--pcap``.
"""

from __future__ import annotations

from .convert import PcapRecorder, capture_to_trace, trace_to_packets, write_pcapng
from .iso14443 import Block, BlockKind, crc_a, i_block
from .pcapng import (
    LINKTYPE_ISO_14443,
    Capture,
    CaptureFormatError,
    Event,
    Packet,
    PcapngWriter,
    read_capture,
)

__all__ = [
    "LINKTYPE_ISO_14443",
    "Block",
    "BlockKind",
    "Capture",
    "CaptureFormatError",
    "Event",
    "Packet",
    "PcapRecorder",
    "PcapngWriter",
    "capture_to_trace",
    "crc_a",
    "i_block",
    "read_capture",
    "trace_to_packets",
    "write_pcapng",
]
