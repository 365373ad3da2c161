"""The vpcd host: a card behind pcscd through vsmartcard's virtual reader driver.

vsmartcard's ``vpcd`` is a pcsc-lite reader driver that listens on TCP (port
35963 for its first slot, one port per slot); the virtual card connects to it
as a client. Every message is a 2-byte big-endian length and a payload. A
1-byte payload is a control message — 0 power off, 1 power on, 2 reset,
4 "send your ATR" (pcscd's presence poll, about every 400 ms) — and anything
longer is a command APDU that the card answers with a response APDU.

What the host maps (it never interprets an APDU):

* power off → ``card.field_off(LINK_LOSS)``; power on and reset → a new
  activation (``card.field_on()``); a lost connection → ``field_off`` too.
* ATR requests → the configured ATR: ``atr=`` (``--atr``), else the plugins' ``hcekit_atr``,
  else :data:`hcekit.atr.DEFAULT_ATR`.
* class FF pseudo-APDUs (GET DATA UID / historical bytes) → answered here as a PC/SC
  reader does (:mod:`hcekit.hosts.reader_commands`); they never reach the card.
* any other 1-byte frame → the card, as the 1-byte APDU a client sent (6700).
  vpcd frames a client's 1-byte APDU 00/01/02/04 exactly like its control
  messages, so those read as power events / an ATR request; when vpcd then
  goes silent (it waits for an answer that a control message must not get)
  the host logs a WARNING that says so.

Every frame that needs an answer gets one: the card calls run under
``host.lock`` (the WeChat facade changes routes from other threads), and
anything a call raises — ``KeyboardInterrupt`` and ``SystemExit`` from a
plugin included, since no signal ever reaches these threads — is answered
6F00 while the connection goes on. Stopping takes no new frame, lets the
APDU in flight be answered (by the card, or 6F00 at its deadline), powers the
card off and only then disconnects: vpcd turns a connection closed under an
unanswered APDU into an empty *success* for the client.

Latency: with default socket options every exchange with Debian's vpcd
stalls for the 40 ms delayed-ACK timer. The host sets ``TCP_NODELAY`` and
re-arms ``TCP_QUICKACK`` before every read (Linux clears it by itself), so a
round trip costs tens of microseconds.

Deadline: vpcd waits for an answer forever, so a hung plugin would hang the
reader and every application using it; every card call runs under a deadline
(:mod:`hcekit.hosts.vpcd_calls`: 6F00 at the deadline, the card *busy* until
the stuck call returns, then reset).

Reconnects: when vpcd goes away (pcscd stopped or restarted) the host waits
and connects again with exponential backoff; the card object, so the
plugins' state, survives.

Restarts: pcscd powers a card up when it sees it arrive, so a new connection
gets POWER ON within a poll or two. One that gets only ATR polls for
:data:`REANNOUNCE_AFTER` seconds is one pcscd never saw arrive: its reader
state still holds the card of the previous connection (see docs/pcsc.md,
"Restarts"). The host then closes that connection once, so pcscd's next poll
sees the card leave and the following one sees it come back and powers it;
it does so again only after a connection that was powered.

A busy port (vpcd serves one card per port) is told apart from a slow one
when dialling (:mod:`hcekit.hosts.vpcd_connection`): the host stops and
:attr:`VpcdHost.failure` names the port (``hcekit serve`` exits with it).
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from dataclasses import replace

from ..atr import DEFAULT_ATR, check_atr
from ..card import Card
from ..device import DeviceState
from ..sw import SW, sw_bytes
from .base import SimulatedDeviceHost
from .reader_commands import ContactlessReader
from .vpcd_calls import CardCalls, VpcdControl, VpcdStats
from .vpcd_connection import HAS_QUICKACK, Dialer, VpcdConnection

__all__ = ["DEFAULT_PORT", "MAX_RESPONSE_DATA", "VpcdControl", "VpcdHost", "VpcdStats"]

log = logging.getLogger("hcekit.vpcd")

#: vpcd's first slot (0x8C7B); slot *n* listens on ``DEFAULT_PORT + n``.
DEFAULT_PORT = 35963
DEFAULT_DEADLINE = 2.0
MAX_PORT = 65535

#: A frame's length is 16 bits, so a response APDU carries at most this much data
#: (+ SW1 SW2); longer answers go out in pieces with 61xx / GET RESPONSE.
MAX_RESPONSE_DATA = 0xFFFF - 2
_SW_UNKNOWN = sw_bytes(SW.UNKNOWN)
#: pcscd asks for the ATR every 0.4 s (its presence poll); this long without any
#: frame after a power message means vpcd is waiting for an answer instead.
SILENCE_AFTER_POWER = 3.0
#: pcscd powers a card up within a poll or two of seeing it arrive; a new connection
#: that gets only ATR polls for this long is one pcscd never saw arrive (module doc).
REANNOUNCE_AFTER = 3.0


_POWER_EVENTS = frozenset({VpcdControl.POWER_OFF, VpcdControl.POWER_ON, VpcdControl.RESET})


class VpcdHost(SimulatedDeviceHost):
    """Serves one :class:`~hcekit.card.Card` on one vpcd slot.

    vpcd has no message for a reader's polling loop, so this host never sees
    one: :meth:`poll` refuses, and a card whose plugins declared polling-loop
    filters or observe mode answers every reader, said in one log line at start.

    ``start()`` runs it in a background thread; ``serve_forever()`` in the
    calling one. Several hosts (one card each) may serve several slots of one
    process: each has its own port.
    """

    def __init__(
        self,
        card: Card,
        port: int = DEFAULT_PORT,
        *,
        address: str = "127.0.0.1",
        atr: bytes | None = None,
        deadline: float = DEFAULT_DEADLINE,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.05, 2.0),
        device: DeviceState | None = None,
        uid: bytes | None = None,
    ) -> None:
        super().__init__(card, device)
        if not math.isfinite(deadline) or deadline <= 0:
            # nan compares false with everything: the watchdog would never fire
            raise ValueError(f"deadline must be a finite number of seconds above 0, not {deadline}")
        if not 1 <= port <= MAX_PORT:
            raise ValueError(f"port {port}: a TCP port is 1 to {MAX_PORT}")
        if card.config.max_response_data > MAX_RESPONSE_DATA:
            # CardConfig is the host's to tune: longer answers chain with 61xx
            card.config = replace(card.config, max_response_data=MAX_RESPONSE_DATA)
        self.port = port
        self.address = address
        # --atr (an explicit atr=) wins, then the plugins' hcekit_atr, then hcekit's default.
        self.atr = check_atr(bytes(atr)) if atr is not None else (card.atr() or DEFAULT_ATR)
        self.reader = ContactlessReader(self.atr, uid)  # FF pseudo-APDUs; uid None = random
        self.deadline = deadline
        self.reconnect = reconnect
        self.backoff = backoff
        self.stats = VpcdStats()
        self._lock = threading.Lock()
        self._running = False
        self._stopped = threading.Event()
        self._connected = threading.Event()
        self._conn: VpcdConnection | None = None
        self._threads: list[threading.Thread] = []
        self._owner: object = None
        self._dialer = Dialer(address, port, backoff=backoff, reconnect=reconnect,
                              stopped=self._stopped)
        self._calls = CardCalls(self, self.reader, self.stats, deadline=deadline,
                                endpoint=self.endpoint, lock=self._lock, take_over=self._take_over)
        #: Why the host stopped on its own (a taken port), else None.
        self.failure: str | None = None
        self._may_reannounce = True

    # -- Host interface ------------------------------------------------------------

    # -- lifecycle ------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def connected(self) -> bool:
        """True while a vpcd connection is open."""
        return self._connected.is_set()

    @property
    def busy(self) -> bool:
        """True while a card call that missed its deadline is still running."""
        return self._calls.busy

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    polling_unsupported = ("vpcd's protocol carries only power, reset, ATR and APDUs: "
                           "no polling frame reaches a card behind pcscd")

    def start(self) -> None:
        """Serve in a background thread (returns at once)."""
        if self._running:
            return
        downgrade = self.polling_downgrade()
        if downgrade is not None:
            log.warning("vpcd %s: %s", self.endpoint, downgrade)
        self._running = True
        self._stopped.clear()
        self._calls.start_watchdog(f"hcekit-vpcd-{self.port}-watch")
        self._spawn(None)

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` (from another thread or a signal)."""
        self.start()
        try:
            while not self._stopped.wait(0.5):
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving (see :meth:`stop_serving`), then close the card (``hcekit_shutdown``)."""
        self.stop_serving()
        if not self._calls.busy:
            super().stop()
        else:
            log.warning("vpcd %s: a card call is still stuck; not closing the card", self.endpoint)

    def stop_serving(self) -> None:
        """Stop taking frames, answer the one in hand, power the card off, disconnect.

        The card stays open (tests reuse it). vpcd turns a connection that
        closes under an unanswered APDU into an *empty success* for the PC/SC
        client, so the APDU in flight is answered first: by the card when it
        returns within its deadline, else 6F00 by the watchdog, which keeps
        running until the connection thread has finished.
        """
        self._running = False
        self._stopped.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.shutdown_read()
        current = threading.current_thread()
        for thread in list(self._threads):
            if thread is not current:
                thread.join(timeout=self.deadline + 1.0)
        with self._lock:
            conn, self._conn = self._conn, None
            self._connected.clear()
        if conn is not None:
            conn.close()
        self._calls.stop_watchdog()

    def _spawn(self, conn: VpcdConnection | None) -> None:
        token = object()
        self._owner = token
        thread = threading.Thread(target=self._run, args=(token, conn),
                                  name=f"hcekit-vpcd-{self.port}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    # -- connecting -------------------------------------------------------------------

    def _connect(self) -> VpcdConnection | None:
        """A connection vpcd spoke on; None when stopped, or when the port is taken (``failure``)."""
        got = self._dialer.dial(lambda: self._running)
        if isinstance(got, str):
            self.failure = got
            log.error("%s", got)
            self._running = False
            self._stopped.set()
            return None
        if got is not None:
            self.stats.connects += 1
            log.info("vpcd %s: connected", self.endpoint)
        return got

    # -- the connection loop -----------------------------------------------------------

    def _run(self, token: object, conn: VpcdConnection | None) -> None:
        try:
            while self._running and self._owner is token:
                if conn is None:
                    conn = self._connect()
                    if conn is None:
                        return
                    with self._lock:
                        if self._owner is not token or not self._running:
                            conn.close()
                            return
                        self._conn = conn
                    self._connected.set()
                if not self._pump(conn):
                    return  # superseded by the watchdog's thread
                # the connection ended: vpcd went away or we are stopping
                with self._lock:
                    if self._conn is conn:
                        self._conn = None
                        self._connected.clear()
                self._calls.power(VpcdControl.POWER_OFF)  # the card is off before vpcd sees us go
                conn.close()
                conn = None
                if self._running:
                    log.info("vpcd %s: connection closed; reconnecting", self.endpoint)
                    if not self.reconnect:
                        self._stopped.set()
                        return
        except BaseException:  # a bug here must not kill the reader silently
            log.exception("vpcd %s: connection thread failed", self.endpoint)
            self._stopped.set()

    def _pump(self, conn: VpcdConnection) -> bool:
        """Serve frames until the connection ends (True) or another thread owns it (False)."""
        # The hot loop: locals only, one recv per header and per payload.
        sock = conn.sock
        recv = sock.recv
        setsockopt = sock.setsockopt
        send = conn.send_frame
        finish = conn.recv_exact
        quickack = HAS_QUICKACK
        tcp, quick, waitall = socket.IPPROTO_TCP, getattr(socket, "TCP_QUICKACK", 0), \
            socket.MSG_WAITALL
        get_atr = VpcdControl.GET_ATR
        after_power: int | None = None
        unpowered_since: float | None = None  # ATR polls, no power event yet on this connection
        awaiting_power = True
        while True:
            if after_power is not None:
                if conn.quiet_for(SILENCE_AFTER_POWER) and self._running:
                    _warn_silent_after_power(self.stats, self.endpoint, after_power)
                after_power = None
            try:
                if quickack:
                    setsockopt(tcp, quick, 1)
                head = recv(2, waitall)
                if len(head) != 2:
                    rest = finish(2 - len(head)) if head else None
                    if rest is None:
                        return True
                    head += rest
                size = head[0] << 8 | head[1]
                if size == 0:
                    continue
                if quickack:
                    setsockopt(tcp, quick, 1)
                payload = recv(size, waitall)
            except OSError:
                return True
            if len(payload) != size:
                rest = finish(size - len(payload)) if payload else None
                if rest is None:
                    return True
                payload += rest
            if size == 1:
                control = payload[0]
                if control == get_atr:
                    if not send(self.atr):
                        return True
                    if awaiting_power:
                        now = time.monotonic()
                        if unpowered_since is None:
                            unpowered_since = now
                        elif now - unpowered_since > REANNOUNCE_AFTER and self._may_reannounce:
                            self._reannounce()
                            return True
                    continue
                if control in _POWER_EVENTS:
                    awaiting_power, self._may_reannounce = False, True
                    if not self._calls.power(VpcdControl(control)):
                        return False
                    after_power = control
                    continue
                # not a control message: a PC/SC client sent this 1-byte APDU, and vpcd
                # waits for its answer with no timeout; the card answers it (6700)
                log.info("vpcd %s: 1-byte frame %02X is no vpcd control message; a client's "
                         "1-byte APDU, passed to the card", self.endpoint, control)
            response = self._calls.apdu(payload)
            if response is None:
                return False
            if not send(response):
                return True

    def _reannounce(self) -> None:
        """Leave once, so pcscd sees the card go and come back (module doc, "Restarts")."""
        self._may_reannounce = False  # again only after a connection that got powered
        self.stats.reannounced += 1
        log.warning("vpcd %s: pcscd polls the card but never powered it up after %g s: it "
                    "still counts the previous connection's card as present (a restart while "
                    "a client held the card); reconnecting so it sees the card arrive",
                    self.endpoint, REANNOUNCE_AFTER)

    def _take_over(self, is_apdu: bool) -> None:
        """The watchdog gave up on a card call (under ``self._lock``): 6F00 for an APDU, and a
        fresh thread takes the connection; the stuck thread keeps the card."""
        conn = self._conn
        if is_apdu and conn is not None:
            conn.send_frame(_SW_UNKNOWN)
        self._spawn(conn)


def _warn_silent_after_power(stats: VpcdStats, endpoint: str, control: int) -> None:
    """Warn when vpcd goes quiet after a power message: it may be a client's APDU.

    vpcd frames a client's 1-byte APDU 00, 01 or 02 exactly like its power
    off / on / reset message (and 04 like its ATR request), so the card
    cannot tell them apart. A real power message needs no answer and
    pcscd's presence poll follows within 0.4 s; a 1-byte APDU leaves vpcd
    waiting for an answer, with no timeout, and nothing more arrives.
    Answering would desynchronise the protocol if it was a real power
    message, so the host only says what happened.
    """
    stats.silent_after_power += 1
    log.warning(
        "vpcd %s: nothing from vpcd for %.0f s after its %s message %02X, although pcscd "
        "polls every 0.4 s: a PC/SC client probably sent the 1-byte APDU %02X, which vpcd "
        "frames exactly like that control message. vpcd now waits for an answer without a "
        "timeout, so that client and this reader hang until pcscd or this host restarts. "
        "Fix the client: an ISO 7816-4 command is at least 4 bytes (see docs/pcsc.md)",
        endpoint, SILENCE_AFTER_POWER, VpcdControl(control).name, control, control)
