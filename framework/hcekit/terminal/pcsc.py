"""Terminal transport over PC/SC (pyscard): a virtual card behind vpcd or a real phone.

Uses pyscard's thin ``smartcard.scard`` layer (one C call per operation, no
observer threads). pyscard is imported on first use, so ``hcekit`` imports
without it; install the ``pcsc`` extra (``pip install hcekit[pcsc]``).

A tap is one ``SCardConnect`` … ``SCardDisconnect``. Disconnecting with
``SCARD_UNPOWER_CARD`` (default) or ``SCARD_RESET_CARD`` makes pcscd power
the card down or reset it, which a virtual card behind vpcd sees as the
field going away (and a real phone sees as the reader releasing it).
GET RESPONSE after 61xx and the re-send after 6Cxx are done by
:class:`~hcekit.terminal.Terminal` on top of this transport, the same as over
loopback. Extended-length APDUs pass through when the reader supports them
(vpcd does; many USB readers do in T=1 only).
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from ..errors import HcekitError

__all__ = ["PcscError", "PcscTransport", "ReaderInfo", "list_readers", "wait_for_card",
           "CSOCK_ENV"]

#: pcsc-lite's client library reads the daemon socket path from this variable.
CSOCK_ENV = "PCSCLITE_CSOCK_NAME"

Protocol = Literal["any", "T0", "T1"]
Disposition = Literal["unpower", "reset", "leave"]

#: Raw pyscard error codes we react to (values from pcsc-lite's pcsclite.h).
_NO_SMARTCARD = 0x8010000C
_REMOVED = 0x80100069
_TIMEOUT = 0x8010000A
_NO_READERS = 0x8010002E
#: The daemon behind a context went away (pcscd restarted): make a new one.
_STALE_CONTEXT = frozenset({0x80100003, 0x8010001D, 0x8010001E})


class PcscError(HcekitError):
    """A PC/SC call failed; ``code`` is the SCARD_* result."""

    def __init__(self, what: str, code: int, detail: str = "") -> None:
        self.code = code & 0xFFFFFFFF
        self.what = what
        message = f"{what}: {detail or _error_text(code)} (0x{self.code:08X})"
        if os.environ.get(CSOCK_ENV):
            message += f" [pcscd socket {os.environ[CSOCK_ENV]}]"
        super().__init__(message)


def _scard() -> ModuleType:
    try:
        scard = importlib.import_module("smartcard.scard")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HcekitError(
            "PC/SC needs pyscard: pip install 'hcekit[pcsc]' (and pcscd running)"
        ) from exc
    return scard


def _error_text(code: int) -> str:
    try:
        text: str = _scard().SCardGetErrorMessage(code)
    except Exception:
        return "PC/SC error"
    return text.strip()


def _check(what: str, hresult: int) -> None:
    if hresult != 0:
        raise PcscError(what, hresult)


@dataclass(frozen=True)
class ReaderInfo:
    """A PC/SC reader: its name, whether a card is present, and the card's ATR."""

    index: int
    name: str
    present: bool
    atr: bytes


class _Context:
    """One ``SCARDCONTEXT``, established lazily and re-established after pcscd restarts."""

    def __init__(self) -> None:
        self.handle: Any = None

    def get(self) -> Any:
        scard = _scard()
        if self.handle is not None and scard.SCardIsValidContext(self.handle) == 0:
            return self.handle
        hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check("SCardEstablishContext (is pcscd running?)", hresult)
        self.handle = handle
        return handle

    def release(self) -> None:
        if self.handle is not None:
            _scard().SCardReleaseContext(self.handle)
            self.handle = None


def _readers(context: Any) -> list[str]:
    scard = _scard()
    hresult, readers = scard.SCardListReaders(context, [])
    if hresult & 0xFFFFFFFF == _NO_READERS:
        return []
    _check("SCardListReaders", hresult)
    return list(readers)


def _states(context: Any, readers: list[str]) -> list[tuple[str, int, bytes]]:
    scard = _scard()
    if not readers:
        return []
    query = [(name, scard.SCARD_STATE_UNAWARE) for name in readers]
    hresult, states = scard.SCardGetStatusChange(context, 0, query)
    _check("SCardGetStatusChange", hresult)
    return [(name, int(state), bytes(atr)) for name, state, atr in states]


def list_readers() -> list[ReaderInfo]:
    """Every reader pcscd knows, with card presence and ATR."""
    scard = _scard()
    context = _Context()
    try:
        handle = context.get()
        return [
            ReaderInfo(i, name, bool(state & scard.SCARD_STATE_PRESENT), atr)
            for i, (name, state, atr) in enumerate(_states(handle, _readers(handle)))
        ]
    finally:
        context.release()


def _resolve(context: Any, reader: str | int) -> str:
    readers = _readers(context)
    if not readers:
        raise PcscError("no PC/SC reader", _NO_READERS,
                        "pcscd sees no reader (is the reader plugged in / vpcd configured?)")
    if isinstance(reader, int):
        if not 0 <= reader < len(readers):
            raise PcscError(f"reader #{reader}", _NO_READERS,
                            f"there are {len(readers)} readers: {readers}")
        return readers[reader]
    if reader in readers:
        return reader
    matches = [name for name in readers if reader.lower() in name.lower()]
    if len(matches) != 1:
        what = "no reader" if not matches else "several readers"
        raise PcscError(f"reader {reader!r}", _NO_READERS,
                        f"{what} match; readers: {readers}")
    return matches[0]


def wait_for_card(reader: str | int, present: bool = True, timeout: float = 5.0) -> bool:
    """Block until a card is (or is no longer) in *reader*; False on timeout."""
    scard = _scard()
    context = _Context()
    try:
        handle = context.get()
        name = _resolve(handle, reader)
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            remaining = deadline - time.monotonic()
            hresult, states = scard.SCardGetStatusChange(
                handle, max(0, int(remaining * 1000)), [(name, state)])
            if hresult & 0xFFFFFFFF == _TIMEOUT:
                return False
            _check("SCardGetStatusChange", hresult)
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return True
            if remaining <= 0:
                return False
    finally:
        context.release()


class PcscTransport:
    """:class:`~hcekit.terminal.Transport` over PC/SC.

    *reader* is a reader name, a case-insensitive substring of one, or an
    index into the reader list; it is resolved at each ``connect`` (readers
    come and go). ``wait`` is how long ``connect`` waits for a card (a phone
    being presented) before failing.
    """

    def __init__(
        self,
        reader: str | int = 0,
        *,
        protocol: Protocol = "any",
        disposition: Disposition = "unpower",
        wait: float = 5.0,
        exclusive: bool = False,
    ) -> None:
        self.reader = reader
        self.protocol = protocol
        self.disposition = disposition
        self.wait = wait
        self.exclusive = exclusive
        self.name = reader if isinstance(reader, str) else f"reader #{reader}"
        self._context = _Context()
        self._card: Any = None
        self._active_protocol: int = 0
        self.atr = b""

    @property
    def connected(self) -> bool:
        return self._card is not None

    @property
    def holds_context(self) -> bool:
        """True while this transport holds a PC/SC context (pcscd allows 200 in all)."""
        return self._context.handle is not None

    def __enter__(self) -> PcscTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def active_protocol(self) -> str:
        """``"T0"`` or ``"T1"`` while connected, else ``""``."""
        scard = _scard()
        if self._card is None:
            return ""
        return {scard.SCARD_PROTOCOL_T0: "T0", scard.SCARD_PROTOCOL_T1: "T1"}.get(
            self._active_protocol, str(self._active_protocol))

    def connect(self) -> None:
        scard = _scard()
        if self._card is not None:
            self.disconnect()
        try:
            context = self._context.get()
            name = _resolve(context, self.reader)
        except PcscError as exc:
            self._context.release()
            if exc.code not in _STALE_CONTEXT:
                raise
            # pcscd restarted since the context was made: one fresh attempt
            context = self._context.get()
            name = _resolve(context, self.reader)
        self.name = name
        protocols = {
            "any": scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            "T0": scard.SCARD_PROTOCOL_T0,
            "T1": scard.SCARD_PROTOCOL_T1,
        }[self.protocol]
        share = scard.SCARD_SHARE_EXCLUSIVE if self.exclusive else scard.SCARD_SHARE_SHARED
        deadline = time.monotonic() + self.wait
        while True:
            hresult, card, active = scard.SCardConnect(context, name, share, protocols)
            code = hresult & 0xFFFFFFFF
            if code in (_NO_SMARTCARD, _REMOVED) and time.monotonic() < deadline:
                scard.SCardGetStatusChange(context, 100, [(name, scard.SCARD_STATE_EMPTY)])
                continue
            _check(f"SCardConnect {name!r}", hresult)
            break
        self._card = card
        self._active_protocol = int(active)
        hresult, _reader, _state, _proto, atr = scard.SCardStatus(card)
        self.atr = bytes(atr) if hresult == 0 else b""

    def disconnect(self) -> None:
        scard = _scard()
        card, self._card = self._card, None
        if card is None:
            return
        disposition = {
            "unpower": scard.SCARD_UNPOWER_CARD,
            "reset": scard.SCARD_RESET_CARD,
            "leave": scard.SCARD_LEAVE_CARD,
        }[self.disposition]
        hresult = scard.SCardDisconnect(card, disposition)
        if hresult & 0xFFFFFFFF not in (0, _REMOVED, _NO_SMARTCARD):
            raise PcscError(f"SCardDisconnect {self.name!r}", hresult)

    def transmit(self, command: bytes) -> bytes:
        if self._card is None:
            raise PcscError(f"transmit to {self.name!r}", _NO_SMARTCARD, "not connected (no tap)")
        hresult, response = _scard().SCardTransmit(self._card, self._active_protocol,
                                                   list(command))
        if hresult != 0:
            raise PcscError(f"SCardTransmit {self.name!r}", hresult)
        return bytes(response)

    def close(self) -> None:
        """Disconnect and release the PC/SC context (``connect`` makes a new one).

        ``Terminal.tap()`` calls it when the tap ends, so a long-running
        terminal never piles up contexts.
        """
        try:
            self.disconnect()
        finally:
            self._context.release()

    def __repr__(self) -> str:
        return f"PcscTransport({self.reader!r}, protocol={self.protocol!r})"
