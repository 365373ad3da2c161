"""EXCHANGE payloads: mailbox read/write/set, reader status, notifications.

The decrypted EXCHANGE command is a TLV sequence: a mailbox container
(:data:`~.assumptions.MAILBOX_CONTAINER_TAGS`) holding the atomic-session
flag and the operations — read ``87`` (offset 2, length 2), write ``8A``
(offset 2 | data), set ``95`` (offset 2, length 2, value 1) — plus the
reader status ``97``, notify ``AE``, URSK request ``98`` and update-doc ``81``.
The answer is the read data (length 2 | data per read, in order) and a
4-byte status. Operations of one EXCHANGE apply all or nothing. A read that
runs past the mailbox's end returns the bytes that exist; anything past the
16-bit address space, and any write past the end, fails the EXCHANGE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hcekit import IsoError, tlv

from .assumptions import (
    ATOMIC_SESSION_TAG,
    EXCHANGE_IGNORES_UNKNOWN_TAGS,
    EXCHANGE_NOT_PERMITTED,
    EXCHANGE_OK,
    EXCHANGE_OUT_OF_BOUNDS,
    MAILBOX_ADDRESS_SPACE,
    MAILBOX_CONTAINER_TAGS,
    SW_BAD_DATA,
)
from .protocol import (
    EXCHANGE_READ_LENGTH,
    EXCHANGE_SET_LENGTH,
    READER_STATUS_LENGTH,
    TAG_NOTIFY,
    TAG_READ,
    TAG_READER_STATUS,
    TAG_SET,
    TAG_UPDATE_DOC,
    TAG_URSK,
    TAG_WRITE,
)

__all__ = ["ExchangeRequest", "MailboxOutcome", "apply_operations", "parse_exchange"]

_TOP_LEVEL = {*MAILBOX_CONTAINER_TAGS, TAG_READER_STATUS, TAG_NOTIFY, TAG_URSK, TAG_UPDATE_DOC}
_OPERATIONS = {TAG_READ, TAG_WRITE, TAG_SET}


@dataclass
class ExchangeRequest:
    atomic: bool | None = None
    operations: list[tuple[int, bytes]] = field(default_factory=list)
    reader_status: int | None = None
    notify: bytes | None = None
    ursk: bool = False
    update_doc: bytes | None = None


def _objects(data: bytes, what: str) -> list[tlv.Tlv]:
    try:
        return tlv.parse(data)
    except tlv.TlvError as exc:
        raise IsoError(SW_BAD_DATA, f"{what} is not valid BER-TLV: {exc.message}") from None


def parse_exchange(plaintext: bytes) -> ExchangeRequest:
    """Check the decrypted EXCHANGE command; 6A80 for a repeated or wrongly sized object or
    an unknown mailbox operation. Unknown top-level tags are skipped (the tool's
    NFC_UD_NEG_EXCHANGE_WITH_EXTRA_TAG expects that)."""
    request = ExchangeRequest()
    seen: set[int] = set()
    for obj in _objects(plaintext, "EXCHANGE payload"):
        if obj.tag not in _TOP_LEVEL:
            if EXCHANGE_IGNORES_UNKNOWN_TAGS:
                continue
            raise IsoError(SW_BAD_DATA, f"EXCHANGE: unexpected tag {obj.tag:X}")
        group = "mailbox" if obj.tag in MAILBOX_CONTAINER_TAGS else obj.tag
        if group in seen:
            raise IsoError(SW_BAD_DATA, f"EXCHANGE: tag {obj.tag:X} repeated")
        seen.add(group)  # type: ignore[arg-type]
        if obj.tag in MAILBOX_CONTAINER_TAGS:
            _parse_mailbox(obj.value, request)
        elif obj.tag == TAG_READER_STATUS:
            if len(obj.value) != READER_STATUS_LENGTH:
                raise IsoError(SW_BAD_DATA, "EXCHANGE: reader status is 2 bytes")
            request.reader_status = int.from_bytes(obj.value, "big")
        elif obj.tag == TAG_NOTIFY:
            request.notify = obj.value
        elif obj.tag == TAG_URSK:
            if obj.value:
                raise IsoError(SW_BAD_DATA, "EXCHANGE: the URSK request carries no data")
            request.ursk = True
        else:
            request.update_doc = obj.value
    return request


def _parse_mailbox(value: bytes, request: ExchangeRequest) -> None:
    for obj in _objects(value, "mailbox operations"):
        if obj.tag == ATOMIC_SESSION_TAG:
            if request.atomic is not None or len(obj.value) != 1 or obj.value[0] > 1:
                raise IsoError(SW_BAD_DATA, "EXCHANGE: atomic-session flag is one byte, 00/01")
            request.atomic = bool(obj.value[0])
        elif obj.tag in _OPERATIONS:
            expected = {TAG_READ: EXCHANGE_READ_LENGTH, TAG_SET: EXCHANGE_SET_LENGTH}.get(obj.tag)
            if expected is not None and len(obj.value) != expected:
                raise IsoError(SW_BAD_DATA, f"EXCHANGE: operation {obj.tag:X} is "
                                            f"{expected} bytes, got {len(obj.value)}")
            if obj.tag == TAG_WRITE and len(obj.value) < 3:
                raise IsoError(SW_BAD_DATA, "EXCHANGE: a write needs an offset and data")
            request.operations.append((obj.tag, obj.value))
        else:
            raise IsoError(SW_BAD_DATA, f"EXCHANGE: unexpected mailbox tag {obj.tag:X}")


@dataclass(frozen=True)
class MailboxOutcome:
    response: bytes           # read data | status (the plaintext to encrypt)
    mailbox: bytes | None     # the new mailbox content when something was written


def apply_operations(mailbox: bytes, operations: list[tuple[int, bytes]], *,
                     writable: bool) -> MailboxOutcome:
    """Run the operations on a copy; any failure discards every change and all read data."""
    content = bytearray(mailbox)
    reads: list[bytes] = []
    changed = False
    for tag, value in operations:
        offset = int.from_bytes(value[:2], "big")
        if tag == TAG_READ:
            length = int.from_bytes(value[2:4], "big")
            if offset + length > MAILBOX_ADDRESS_SPACE:
                return MailboxOutcome(EXCHANGE_OUT_OF_BOUNDS, None)
            chunk = bytes(content[offset:offset + length])   # what exists of the range
            reads.append(len(chunk).to_bytes(2, "big") + chunk)
            continue
        if not writable:
            return MailboxOutcome(EXCHANGE_NOT_PERMITTED, None)
        if tag == TAG_WRITE:
            data = value[2:]
        else:
            data = bytes((value[4],)) * int.from_bytes(value[2:4], "big")
        if offset + len(data) > len(content):
            return MailboxOutcome(EXCHANGE_OUT_OF_BOUNDS, None)
        content[offset:offset + len(data)] = data
        changed = True
    return MailboxOutcome(b"".join(reads) + EXCHANGE_OK, bytes(content) if changed else None)
