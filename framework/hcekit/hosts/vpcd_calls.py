"""The vpcd host's calls into the card, each under a deadline.

vpcd waits for an answer for ever, so a hung plugin would hang the reader and
every application using it. :class:`CardCalls` runs each card call on the
connection thread itself (no hand-off on the fast path) and registers it in
an in-flight table; a watchdog thread notices a call that outlives the
deadline, answers 6F00 for it and hands the connection to a fresh thread
(the host's ``take_over``). While the stuck call still runs the card is
*busy*: APDUs are answered 6F00 at once and power events are remembered.
When the stuck call returns, its result is discarded, the card gets
``field_off(LINK_LOSS)`` and the last power event seen meanwhile is replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from ..events import DeactivationReason
from ..sw import SW, sw_bytes
from .base import SimulatedDeviceHost
from .reader_commands import ContactlessReader

__all__ = ["CardCalls", "VpcdControl", "VpcdStats"]

log = logging.getLogger("hcekit.vpcd")

_SW_UNKNOWN = sw_bytes(SW.UNKNOWN)


class VpcdControl(IntEnum):
    """The 1-byte control messages of the vpcd protocol."""

    POWER_OFF = 0
    POWER_ON = 1
    RESET = 2
    GET_ATR = 4


@dataclass
class VpcdStats:
    """Counters for logs, tests and benchmarks."""

    apdus: int = 0
    connects: int = 0
    deadline_misses: int = 0
    busy_answers: int = 0
    #: Card calls that raised through the card core (answered 6F00 / ignored).
    card_errors: int = 0
    #: Times vpcd went silent after a power message (a client's 1-byte APDU, probably).
    silent_after_power: int = 0
    #: Times the host dropped a new connection that pcscd polled but never powered.
    reannounced: int = 0


class CardCalls:
    """APDUs and power events into one host's card, each under *deadline* seconds.

    *lock* is the host's connection lock: the watchdog's take-over holds it
    until *take_over* (answer 6F00, hand the connection on) is complete.
    """

    def __init__(self, host: SimulatedDeviceHost, reader: ContactlessReader, stats: VpcdStats, *,
                 deadline: float, endpoint: str, lock: threading.Lock,
                 take_over: Callable[[bool], None]) -> None:
        self._host = host
        self._reader = reader
        self._stats = stats
        self.deadline = deadline
        self._endpoint = endpoint
        self._lock = lock
        self._take_over = take_over
        # The card call in flight, {seq: (started, is_apdu)}. The owning thread
        # and the watchdog each try to pop it when the call ends / times out:
        # dict.pop is atomic, so exactly one of them wins, without a lock on
        # the per-APDU path.
        self._seq = 0
        self._inflight: dict[int, tuple[float, bool]] = {}
        #: A call missed its deadline and has not returned yet.
        self.busy = False
        self._pending_power: VpcdControl | None = None
        self._watch_stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    # -- the calls ------------------------------------------------------------------------

    def apdu(self, command: bytes) -> bytes | None:
        """The response to send, or None if this thread lost the connection to the watchdog."""
        reply = self._reader.answer(command)
        if reply is not None:
            return reply
        seq = self._enter(True)
        if not seq:
            self._stats.busy_answers += 1
            log.warning("vpcd %s: card busy with a stuck call; answering 6F00", self._endpoint)
            return _SW_UNKNOWN
        self._stats.apdus += 1
        try:
            with self._host.lock:
                response = self._host.card.transceive(command)
        except BaseException:
            # No signal is ever delivered to this thread, so even KeyboardInterrupt
            # or SystemExit here was raised by a plugin (or the core): answer, serve on.
            self._stats.card_errors += 1
            log.exception("vpcd %s: the card raised on %s; answering 6F00", self._endpoint,
                          command[:4].hex().upper())
            response = _SW_UNKNOWN
        finally:
            kept = self._leave(seq)
        return response if kept else None

    def power(self, event: VpcdControl) -> bool:
        """Deliver a power event; False if this thread lost the connection to the watchdog."""
        seq = self._enter(False)
        if not seq:
            with self._lock:
                self._pending_power = event
            return True
        try:
            with self._host.lock:
                if event == VpcdControl.POWER_OFF:
                    self._host.card.field_off(DeactivationReason.LINK_LOSS)
                else:
                    self._reader.activate()
                    self._host.card.field_on()
        except BaseException:  # as in apdu(): raised by card code, never a signal
            self._stats.card_errors += 1
            log.exception("vpcd %s: card failed on %s", self._endpoint, event.name)
        finally:
            kept = self._leave(seq)
        return kept

    def _enter(self, is_apdu: bool) -> int:
        """Register a card call; 0 if the card is busy with a stuck call."""
        if self.busy:
            return 0
        seq = self._seq = self._seq + 1
        self._inflight[seq] = (time.monotonic(), is_apdu)
        return seq

    def _leave(self, seq: int) -> bool:
        """The call is over; False if the watchdog gave up on it meanwhile."""
        if self._inflight.pop(seq, None) is not None:
            return True
        self._recover()
        return False

    def _recover(self) -> None:
        """Run by the thread whose stuck call finally returned: reset the card, clear busy."""
        with self._lock:
            pass  # the watchdog's take-over holds the lock until it is complete
        log.warning("vpcd %s: the stuck card call returned; its result was discarded, "
                    "field reset", self._endpoint)
        try:
            with self._host.lock:
                self._host.card.field_off(DeactivationReason.LINK_LOSS)
        except BaseException:
            log.exception("vpcd %s: field_off after a stuck call failed", self._endpoint)
        with self._lock:
            pending = self._pending_power
            self._pending_power = None
            if pending in (VpcdControl.POWER_ON, VpcdControl.RESET):
                try:
                    with self._host.lock:
                        self._host.card.field_on()
                except BaseException:
                    log.exception("vpcd %s: field_on after a stuck call failed", self._endpoint)
            self.busy = False

    # -- the watchdog -------------------------------------------------------------------

    def start_watchdog(self, name: str) -> None:
        if self._watchdog is not None and self._watchdog.is_alive():
            return
        self._watch_stop.clear()
        self._watchdog = threading.Thread(target=self._watch, name=name, daemon=True)
        self._watchdog.start()

    def stop_watchdog(self) -> None:
        self._watch_stop.set()
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join(timeout=1.0)

    def _watch(self) -> None:
        interval = min(0.1, max(0.005, self.deadline / 10))
        while not self._watch_stop.wait(interval):
            if self.busy:
                continue
            now = time.monotonic()
            for seq, (started, is_apdu) in list(self._inflight.items()):
                if now - started >= self.deadline:
                    self._missed(seq, is_apdu)

    def _missed(self, seq: int, is_apdu: bool) -> None:
        with self._lock:
            if self._inflight.pop(seq, None) is None:
                return  # it finished just in time
            self.busy = True
            self._stats.deadline_misses += 1
            log.error("vpcd %s: card call #%d missed its %.3g s deadline%s; the card answers "
                      "6F00 until the call returns", self._endpoint, seq, self.deadline,
                      " (answered 6F00)" if is_apdu else " (power event)")
            self._take_over(is_apdu)
