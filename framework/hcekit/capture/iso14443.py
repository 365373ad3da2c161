"""ISO/IEC 14443-4 blocks as they travel between a reader (PCD) and a card (PICC).

A block is ``PCB [CID] [NAD] INF CRC_A``. The protocol control byte (PCB)
says which kind of block it is (ISO/IEC 14443-4 §7.1.1.1):

* I-block ``000C CN1B`` (C chaining, C/N CID/NAD follow, B block number):
  carries (part of) an APDU in INF;
* R-block ``101A C01B``: acknowledges a chained I-block (A=1: NAK);
* S-block ``11xx C010``: DESELECT (``C2``) or waiting-time extension (``F2``).

CRC_A is ISO/IEC 14443-3's CRC-16 (ITU-T V.41 polynomial, reflected, initial
value ``6363``, no final XOR), sent least significant byte first (Annex B
gives the examples ``00 00`` → ``A0 1E`` and ``12 34`` → ``26 CF``, which the
tests check). It is a link checksum, not cryptography.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import HcekitError
from ..polling import ECP_HEADER, FrameType

__all__ = ["FRAME_SIZE", "Block", "BlockKind", "BlockError", "crc_a", "i_block", "parse_block",
           "polling_frame_type"]

#: Largest frame, PCB and CRC_A included: FSC/FSD code 8 (ISO/IEC 14443-4:2008, 256 bytes).
FRAME_SIZE = 256

_CRC_A_INITIAL = 0x6363
#: PCB bits (ISO/IEC 14443-4 §7.1.1.1).
PCB_BLOCK_NUMBER = 0x01
PCB_NAD_FOLLOWS = 0x04
PCB_CID_FOLLOWS = 0x08
PCB_CHAINING = 0x10  # I-block: more to come; R-block: NAK
_I_BLOCK_MASK, _I_BLOCK = 0xE2, 0x02
_R_BLOCK_MASK, _R_BLOCK = 0xE6, 0xA2
_S_BLOCK_MASK, _S_BLOCK = 0xC7, 0xC2
R_ACK = 0xA2
S_DESELECT = 0xC2
S_WTX = 0xF2


class BlockError(HcekitError, ValueError):
    """A frame that is not a well-formed ISO 14443-4 block (message says why)."""


class BlockKind(enum.Enum):
    """ISO/IEC 14443-4 block types: I (information), R (receive ready), S (supervisory)."""

    I = "I-block"  # noqa: E741 — the standard's name
    R = "R-block"
    S = "S-block"


@dataclass(frozen=True)
class Block:
    """One decoded ISO 14443-4 block (CRC already checked and removed)."""

    kind: BlockKind
    pcb: int
    inf: bytes

    @property
    def chaining(self) -> bool:
        """An I-block with more parts of the same APDU to follow."""
        return self.kind is BlockKind.I and bool(self.pcb & PCB_CHAINING)

    @property
    def block_number(self) -> int:
        return self.pcb & PCB_BLOCK_NUMBER

    @property
    def is_deselect(self) -> bool:
        return self.kind is BlockKind.S and self.pcb & ~PCB_CID_FOLLOWS == S_DESELECT


def crc_a(data: bytes) -> bytes:
    """ISO/IEC 14443-3 CRC_A of *data*, as transmitted (two bytes, LSB first)."""
    crc = _CRC_A_INITIAL
    for byte in data:
        byte ^= crc & 0xFF
        byte = (byte ^ (byte << 4)) & 0xFF
        crc = (crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)
    return crc.to_bytes(2, "little")


def i_block(block_number: int, inf: bytes, *, chaining: bool = False) -> bytes:
    """An I-block frame (no CID, no NAD) carrying *inf*, with its CRC_A."""
    pcb = _I_BLOCK | (block_number & PCB_BLOCK_NUMBER) | (PCB_CHAINING if chaining else 0)
    frame = bytes([pcb]) + inf
    return frame + crc_a(frame)


def block_kind(pcb: int) -> BlockKind | None:
    """The kind of block a PCB announces, or None for a frame that is not ISO 14443-4."""
    if pcb & _I_BLOCK_MASK == _I_BLOCK:
        return BlockKind.I
    if pcb & _R_BLOCK_MASK == _R_BLOCK:
        return BlockKind.R
    if pcb & _S_BLOCK_MASK == _S_BLOCK:
        return BlockKind.S
    return None


def parse_block(frame: bytes, *, with_crc: bool = True) -> Block:
    """Decode one frame as an ISO 14443-4 block; raise :class:`BlockError` if it is not one.

    *with_crc*: the frame ends with CRC_A, which must be right (sniffers that
    strip the CRC give ``with_crc=False``).
    """
    if with_crc:
        if len(frame) < 3:
            raise BlockError(f"{len(frame)}-byte frame: too short for PCB and CRC_A")
        body, crc = frame[:-2], frame[-2:]
        if crc_a(body) != crc:
            raise BlockError(f"CRC_A {crc.hex().upper()} wrong (expected {crc_a(body).hex().upper()})")
    else:
        if not frame:
            raise BlockError("empty frame")
        body = frame
    pcb = body[0]
    kind = block_kind(pcb)
    if kind is None:
        raise BlockError(f"PCB {pcb:02X} is not an I-, R- or S-block (an ISO 14443-3 frame?)")
    skip = 1 + bool(pcb & PCB_CID_FOLLOWS) + (kind is BlockKind.I and bool(pcb & PCB_NAD_FOLLOWS))
    if len(body) < skip:
        raise BlockError(f"PCB {pcb:02X} announces CID/NAD bytes that are missing")
    return Block(kind, pcb, body[skip:])


#: ISO/IEC 14443-3 short frames (7 bits): REQA and WUPA, the NFC-A polls.
_REQA, _WUPA = 0x26, 0x52
#: ISO/IEC 14443-3 REQB/WUPB start with the anticollision prefix byte APf = 05.
_APF = 0x05
_REQB_LENGTHS = (3, 5)  # APf AFI PARAM, with or without CRC_B
#: NFC Forum Digital SENSF_REQ: length 06, command 00, system code FF FF (any card).
_SENSF_REQ = bytes([0x06, 0x00, 0xFF, 0xFF])
_SENSF_LENGTHS = (6, 8)  # with or without the CRC


def polling_frame_type(frame: bytes) -> FrameType | None:
    """The polling-loop type of a reader frame seen before activation, or None.

    REQA/WUPA → A, REQB/WUPB → B, SENSF_REQ (wildcard system code) → F, an
    ECP annotation → UNKNOWN (a custom frame). Anticollision, SELECT, RATS,
    HLTA and the rest are not polls: None.
    """
    if len(frame) == 1 and frame[0] in (_REQA, _WUPA):
        return FrameType.A
    if len(frame) in _REQB_LENGTHS and frame[0] == _APF:
        return FrameType.B
    if len(frame) in _SENSF_LENGTHS and frame.startswith(_SENSF_REQ):
        return FrameType.F
    if len(frame) >= 2 and frame[0] == ECP_HEADER:
        return FrameType.UNKNOWN
    return None
