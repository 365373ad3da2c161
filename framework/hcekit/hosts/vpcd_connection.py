"""One TCP connection to vpcd, and the dialling that makes it.

vpcd listens (it is the server); the card connects. While nothing listens the
dialler retries with exponential backoff. vpcd accepts one card per port
(``listen`` with a backlog, ``accept`` only while it has no card), so a
second card's connect succeeds into the backlog and then hears nothing; vpcd
asks a newly accepted card for its ATR within one presence poll, so a
connection that hears nothing for :data:`FIRST_FRAME_WAIT` seconds is a
taken port, told apart from a slow one.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable

from ..sw import SW, sw_bytes

__all__ = ["FIRST_FRAME_WAIT", "HAS_QUICKACK", "HELP_NOT_LISTENING", "Dialer", "VpcdConnection"]

log = logging.getLogger("hcekit.vpcd")

#: The hint logged while nothing listens on the vpcd port.
HELP_NOT_LISTENING = "is pcscd with vsmartcard-vpcd running? see docs/pcsc.md"
#: vpcd asks a newly accepted card for its ATR at its next presence poll (0.4 s); a
#: connection that hears nothing for this long sits in the backlog of a taken port.
FIRST_FRAME_WAIT = 4.0
HAS_QUICKACK = hasattr(socket, "TCP_QUICKACK")
_LENGTH = struct.Struct(">H")
_SW_UNKNOWN = sw_bytes(SW.UNKNOWN)


class VpcdConnection:
    """One TCP connection to vpcd.

    Exactly one thread sends at a time, by construction rather than a lock:
    the thread that read a frame answers it, unless the watchdog popped that
    call from the in-flight table first, in which case only the watchdog
    answers (6F00) and the reading thread sends nothing (``CardCalls.apdu`` → None).
    """

    __slots__ = ("closed", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False

    def recv_exact(self, size: int) -> bytes | None:
        """*size* bytes, or None when the peer closed (or we shut down)."""
        sock = self.sock
        if HAS_QUICKACK:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        try:
            data = sock.recv(size, socket.MSG_WAITALL)
        except OSError:
            return None
        if len(data) == size:
            return data
        if not data:
            return None
        chunks = [data]
        got = len(data)
        while got < size:  # MSG_WAITALL may still return early on a signal
            try:
                more = sock.recv(size - got)
            except OSError:
                return None
            if not more:
                return None
            chunks.append(more)
            got += len(more)
        return b"".join(chunks)

    def send_frame(self, payload: bytes) -> bool:
        if len(payload) > 0xFFFF:
            log.error("a %d-byte response does not fit a vpcd frame; answering 6F00", len(payload))
            payload = _SW_UNKNOWN
        try:
            self.sock.sendall(_LENGTH.pack(len(payload)) + payload)
        except OSError:
            return False
        return True

    def shutdown_read(self) -> None:
        """Take no further frame: a blocked read returns; answers can still be sent."""
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def quiet_for(self, seconds: float) -> bool:
        """True when vpcd sends nothing (and does not close) for *seconds*."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        try:
            return not poller.poll(seconds * 1000)
        except OSError:
            return False

    def first_frame_within(self, seconds: float, running: Callable[[], bool]) -> bool:
        """True once vpcd sends its first frame (left unread); False after *seconds* or a stop."""
        deadline = time.monotonic() + seconds
        while running():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self.quiet_for(min(0.2, left)):
                return True
        return False

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Dialer:
    """Connects to vpcd's port: backoff while nothing listens, a taken port named."""

    def __init__(self, address: str, port: int, *, backoff: tuple[float, float],
                 reconnect: bool, stopped: threading.Event) -> None:
        self.address = address
        self.port = port
        self.backoff = backoff
        self.reconnect = reconnect
        self._stopped = stopped

    def dial(self, running: Callable[[], bool]) -> VpcdConnection | str | None:
        """A connection vpcd spoke on; why the port is taken (a str); None when stopped.

        Without ``reconnect`` a refused connect sets ``stopped`` and gives None.
        """
        endpoint = f"{self.address}:{self.port}"
        delay, cap = self.backoff
        warned = False
        while running():
            try:
                sock = socket.create_connection((self.address, self.port), timeout=2.0)
            except OSError as exc:
                if not self.reconnect:
                    log.error("vpcd %s: %s; %s", endpoint, exc, HELP_NOT_LISTENING)
                    self._stopped.set()
                    return None
                message = "vpcd %s: nothing listens (%s); retrying — " + HELP_NOT_LISTENING
                (log.debug if warned else log.warning)(message, endpoint, exc.strerror or exc)
                warned = True
                if self._stopped.wait(delay):
                    return None
                delay = min(cap, delay * 2)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = VpcdConnection(sock)
            if conn.first_frame_within(FIRST_FRAME_WAIT, running):
                return conn
            conn.close()
            if not running():
                return None
            return (f"vpcd port {self.port} on {self.address} is taken: the connection was "
                    f"accepted but vpcd sent nothing for {FIRST_FRAME_WAIT:g} s, as it does "
                    "while it serves another card there (a second 'hcekit serve' on this "
                    "port?); stop that one or use another --port")
        return None
