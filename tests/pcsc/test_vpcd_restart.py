"""The card comes back after a serve restart (issue 31 item 0).

The field report: stop ``serve`` while a PC/SC client holds the card; when
the client lets go before the new ``serve`` is up, pcscd kept showing "no
card" while the new host answered its polls. pcscd powers a card up when it
sees it arrive; a connection that gets ATR polls but no POWER ON is one
pcscd never saw arrive, and the host then re-announces the card once.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from hcekit import Card
from hcekit.hosts.vpcd import REANNOUNCE_AFTER, VpcdControl, VpcdHost
from hcekit.terminal import Terminal
from hcekit.terminal.pcsc import PcscTransport, wait_for_card
from hcekit.testing.pcsc import PrivatePcscd, free_port_block

from .pcsc_cards import ECHO_AID, EchoCard


def test_the_card_comes_back_after_a_restart_while_a_client_held_it(
        pcscd: PrivatePcscd) -> None:
    slot = pcscd.acquire_slot()
    reader, port = pcscd.reader_name(slot), pcscd.port(slot)
    card = Card([EchoCard()])
    first = VpcdHost(card, port)
    first.start()
    holder = PcscTransport(reader, wait=10.0)
    second: VpcdHost | None = None
    try:
        assert wait_for_card(reader, True, 10)
        holder.connect()  # a client holds the card, idle
        first.stop_serving()  # serve stops under it
        holder.close()  # the client lets go before the new serve is up
        second = VpcdHost(card, port)
        second.start()
        assert wait_for_card(reader, True, 10), "the card did not come back"
        terminal = Terminal(PcscTransport(reader, wait=10.0))
        with terminal.tap():
            assert terminal.select(ECHO_AID).ok
    finally:
        holder.close()
        first.stop_serving()
        if second is not None:
            second.stop_serving()
        card.close()
        pcscd.release_slot(slot)


class _StuckPcscd:
    """A vpcd peer in the state of the report: it polls the ATR, never powers the card.

    It stands in for pcscd's reader state, which cannot be put there on
    demand; from the second connection on it powers the card (``power_from``).
    """

    def __init__(self, power_from: int) -> None:
        self.server = socket.create_server(("127.0.0.1", free_port_block(1)))
        self.port = self.server.getsockname()[1]
        self.power_from = power_from
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _send(self, conn: socket.socket, payload: bytes) -> None:
        conn.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            powered = self.connections >= self.power_from
            with conn:
                conn.settimeout(1.0)
                try:
                    while not self._stop.is_set():
                        self._send(conn, bytes((VpcdControl.GET_ATR,)))
                        head = conn.recv(2, socket.MSG_WAITALL)
                        if len(head) < 2:
                            break  # the host left
                        conn.recv(struct.unpack(">H", head)[0], socket.MSG_WAITALL)
                        if powered:
                            self._send(conn, bytes((VpcdControl.POWER_ON,)))
                            powered = False
                        time.sleep(0.1)
                except OSError:
                    continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self.server.close()


def _wait(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_a_connection_polled_but_never_powered_is_announced_again() -> None:
    peer = _StuckPcscd(power_from=2)
    card = Card([EchoCard()])
    host = VpcdHost(card, peer.port)
    host.start()
    try:
        assert _wait(lambda: card.field_active, REANNOUNCE_AFTER + 5)
        assert host.stats.reannounced == 1 and peer.connections == 2
    finally:
        host.stop()
        peer.close()


def test_the_card_is_announced_again_only_once() -> None:
    peer = _StuckPcscd(power_from=99)  # a pcscd that never powers cards up on its own
    card = Card([EchoCard()])
    host = VpcdHost(card, peer.port)
    host.start()
    try:
        time.sleep(3 * REANNOUNCE_AFTER)
        assert host.stats.reannounced == 1 and peer.connections == 2
        assert host.connected
    finally:
        host.stop()
        peer.close()
