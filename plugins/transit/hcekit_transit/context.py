"""What a native command handler gets: the command, the selected level, the session.

The card builds one :class:`CommandContext` per command, inside the store
transaction the command runs in; the level in it was read in that
transaction. Handlers answer the response data (already protected as the
session requires) or raise :class:`~.status.DesfireError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol, TypeVar

from .levels import Level
from .model import Application, DataFile, DesfireFile, RecordFile, ValueFile
from .persist import CardStore
from .session import Session
from .status import DesfireError, DfStatus
from .transaction import PendingChanges

__all__ = ["CommandContext", "Handler", "Reply", "CardControl", "need_length", "u24", "s32",
           "lookup_file", "file_of_type"]

F = TypeVar("F", DataFile, ValueFile, RecordFile)
_KIND_NAMES: dict[type, str] = {DataFile: "data", ValueFile: "value", RecordFile: "record"}

#: Response data, or frames the handler cut itself (GetVersion).
Reply = bytes | list[bytes]


class CardControl(Protocol):
    """What handlers may ask of the card beyond the command: selection and randomness."""

    def select(self, aid: bytes) -> None: ...

    def reset(self) -> None: ...

    def random(self, length: int) -> bytes: ...


class CommandContext(NamedTuple):
    """One DESFire command as its handler sees it: the instruction, its data, the level."""

    ins: int
    data: bytes
    level: Level
    session: Session
    pending: PendingChanges
    store: CardStore
    card: CardControl


Handler = Callable[[CommandContext], Reply]


def need_length(data: bytes, *allowed: int) -> None:
    if len(data) not in allowed:
        raise DesfireError(DfStatus.LENGTH_ERROR,
                           f"{len(data)} parameter bytes; expected {' or '.join(map(str, allowed))}")


def u24(raw: bytes) -> int:
    """A 3-byte little-endian number (offsets, lengths, sizes)."""
    return int.from_bytes(raw, "little")


def s32(raw: bytes) -> int:
    """A 4-byte little-endian signed number (values and amounts)."""
    return int.from_bytes(raw, "little", signed=True)


def lookup_file(files: dict[int, DesfireFile], fid: int) -> DesfireFile:
    f = files.get(fid)
    if f is None:
        raise DesfireError(DfStatus.FILE_NOT_FOUND, f"no file {fid:02X}")
    return f


def file_of_type(app: Application, fid: int, kind: type[F]) -> F:
    """File *fid* of *app* when it has the type a command needs; PARAMETER_ERROR if not."""
    f = lookup_file(app.files, fid)
    if not isinstance(f, kind):
        raise DesfireError(DfStatus.PARAMETER_ERROR,
                           f"file {fid:02X} is not a {_KIND_NAMES[kind]} file")
    return f
