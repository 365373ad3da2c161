"""Native frame chaining: answers longer than one frame, commands longer than one frame.

EV1 answers at most :data:`FRAME_SIZE` data bytes per frame; the rest waits
behind status AF until the reader sends AdditionalFrame (AF). Readers send
long WriteData / WriteRecord commands the same way: the first frame announces
the length, the card answers AF until all bytes are in.
"""

from __future__ import annotations

from .status import DesfireError, DfStatus

__all__ = ["FRAME_SIZE", "MAX_COMMAND", "Frames"]

#: Most data bytes in one response frame (EV1 sends at most 59 plus the status).
FRAME_SIZE = 59
#: Longest command accepted across continuation frames (4 KiB of files + headers).
MAX_COMMAND = 4096 + 64


class Frames:
    """The frames still to send, and the command still being received."""

    def __init__(self) -> None:
        self.outgoing: list[bytes] = []
        #: A command arriving in several frames: (ins, bytes so far, total expected).
        self._incoming: tuple[int, bytearray, int] | None = None

    def clear(self) -> None:
        self.outgoing = []
        self._incoming = None

    @property
    def sending(self) -> bool:
        return bool(self.outgoing)

    @property
    def receiving(self) -> bool:
        return self._incoming is not None

    def split(self, out: bytes) -> tuple[int, bytes]:
        """The first frame of an answer (and its status); the rest waits for AF."""
        if len(out) <= FRAME_SIZE:
            return DfStatus.OPERATION_OK, out
        self.outgoing = [out[i:i + FRAME_SIZE] for i in range(FRAME_SIZE, len(out), FRAME_SIZE)]
        return DfStatus.ADDITIONAL_FRAME, out[:FRAME_SIZE]

    def send_framed(self, frames: list[bytes]) -> tuple[int, bytes]:
        """An answer whose frames the command itself cut (GetVersion)."""
        self.outgoing = frames[1:]
        return (DfStatus.ADDITIONAL_FRAME if self.outgoing else DfStatus.OPERATION_OK), frames[0]

    def next(self) -> tuple[int, bytes]:
        frame = self.outgoing.pop(0)
        return (DfStatus.ADDITIONAL_FRAME if self.outgoing else DfStatus.OPERATION_OK), frame

    def start_receiving(self, ins: int, first: bytes, expected: int) -> None:
        self._incoming = (ins, bytearray(first), min(expected, MAX_COMMAND))

    def receive(self, data: bytes) -> tuple[int, bytes] | None:
        """Add a continuation frame; the whole command (ins, data) once complete, else None."""
        assert self._incoming is not None
        ins, buffered, expected = self._incoming
        buffered += data
        if len(buffered) < expected:
            return None
        self._incoming = None
        if len(buffered) > expected:
            raise DesfireError(DfStatus.LENGTH_ERROR,
                               f"{len(buffered)} bytes framed; the command announced {expected}")
        return ins, bytes(buffered)
