#!/usr/bin/env python3
"""APDU throughput and tap time through the real pcscd: hcekit's vpcd host vs a bare echo card.

Starts a private pcscd with two vpcd slots (the test fixtures' machinery) and
serves, in this process:

  hcekit   a Card with one trivial plugin behind :class:`hcekit.hosts.vpcd.VpcdHost`
  echo     a minimal vpcd client written here: same protocol, same socket
           options (TCP_NODELAY, TCP_QUICKACK re-armed per read), answers
           every APDU 90 00 inline — the floor for any card behind vpcd

A pyscard client on the low-level ``smartcard.scard`` API (one C call per
APDU) then runs, against each card in turn: SELECT + N short APDUs, timing
each; and M taps (connect + SELECT + 10 APDUs + disconnect with
SCARD_UNPOWER_CARD). Rounds alternate between the two cards so drift hits
both. Prints APDU/s (count / total time), median and p99 round trip in µs,
median tap in ms, and the ratios hcekit/echo (target ≥ 0.8). On a shared
machine the mean-based APDU/s swings with other load (see p99); the verdict
uses the median round trip, the steady-state cost. Last, a few APDUs against
the echo card with plain sockets show the delayed-ACK stall (~44 ms per APDU)
that TCP_NODELAY + TCP_QUICKACK remove.

    python benchmarks/pcsc_throughput.py [--apdus 1000] [--taps 20] [--rounds 10] [--plain-apdus 20]
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import struct
import tempfile
import threading
import time
from pathlib import Path

from hcekit import AppContext, Card, Claim, CommandApdu, PluginContext
from hcekit.hosts.vpcd import VpcdHost
from hcekit.testing.pcsc import PrivatePcscd

AID = bytes.fromhex("F0BE0C4D41524B")
SELECT = [0x00, 0xA4, 0x04, 0x00, len(AID), *AID, 0x00]
COMMAND = [0x80, 0x10, 0x00, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0x00]  # case 4, 4 bytes
APDUS_PER_TAP = 10


class Trivial:
    """The plugin under test: answers every command 90 00 with no data."""

    name = "bench"

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim.parse(AID.hex(), description="benchmark")]

    def hcekit_select(self, app: AppContext, command: CommandApdu) -> None:
        return None

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> None:
        return None


class EchoCard:
    """The baseline: the vpcd protocol with nothing behind it."""

    ATR = bytes.fromhex("3B80800101")

    def __init__(self, port: int, *, tuned: bool = True) -> None:
        self.port = port
        #: False: plain sockets (no TCP_NODELAY / TCP_QUICKACK), to show the stall.
        self.tuned = tuned
        self.sock: socket.socket | None = None
        self.thread = threading.Thread(target=self._run, name="echo-card", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.sock is not None:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        self.thread.join(2)

    def _run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port))
        if self.tuned:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.connected.set()
        ok = b"\x00\x02\x90\x00"
        atr = struct.pack(">H", len(self.ATR)) + self.ATR
        quickack = socket.TCP_QUICKACK
        tcp = socket.IPPROTO_TCP if self.tuned else None
        waitall = socket.MSG_WAITALL
        try:
            while True:
                if tcp is not None:
                    sock.setsockopt(tcp, quickack, 1)
                head = sock.recv(2, waitall)
                if len(head) < 2:
                    return
                size = head[0] << 8 | head[1]
                if tcp is not None:
                    sock.setsockopt(tcp, quickack, 1)
                payload = sock.recv(size, waitall)
                if size == 1:
                    if payload[0] == 4:
                        sock.sendall(atr)
                    continue
                sock.sendall(ok)
        except OSError:
            return


def _check(what: str, hresult: int) -> None:
    if hresult != 0:
        from smartcard import scard

        raise SystemExit(f"{what}: {scard.SCardGetErrorMessage(hresult)}")


def _wait_present(context: object, reader: str, timeout: float = 10.0) -> None:
    from smartcard import scard

    deadline = time.monotonic() + timeout
    state = scard.SCARD_STATE_UNAWARE
    while time.monotonic() < deadline:
        hresult, states = scard.SCardGetStatusChange(context, 500, [(reader, state)])
        if hresult == 0:
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if state & scard.SCARD_STATE_PRESENT:
                return
    raise SystemExit(f"no card appeared in {reader!r}")


def measure_apdus(context: object, reader: str, count: int) -> list[int]:
    """Round-trip times (ns) of *count* APDUs after one SELECT, in one connection."""
    from smartcard import scard

    hresult, card, protocol = scard.SCardConnect(
        context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T1)
    _check("SCardConnect", hresult)
    transmit = scard.SCardTransmit
    clock = time.perf_counter_ns
    hresult, response = transmit(card, protocol, SELECT)
    _check("SELECT", hresult)
    if response[-2:] != [0x90, 0x00]:
        raise SystemExit(f"SELECT answered {bytes(response).hex()}")
    times = []
    for _ in range(count):
        start = clock()
        hresult, response = transmit(card, protocol, COMMAND)
        times.append(clock() - start)
        if hresult != 0 or response[-2:] != [0x90, 0x00]:
            raise SystemExit(f"APDU failed: {hresult:#x} {bytes(response).hex()}")
    scard.SCardDisconnect(card, scard.SCARD_UNPOWER_CARD)
    return times


def measure_taps(context: object, reader: str, count: int) -> list[int]:
    """Times (ns) of *count* taps: connect, SELECT, 10 APDUs, disconnect (unpower)."""
    from smartcard import scard

    clock = time.perf_counter_ns
    times = []
    for _ in range(count):
        start = clock()
        hresult, card, protocol = scard.SCardConnect(
            context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T1)
        _check("SCardConnect", hresult)
        hresult, _ = scard.SCardTransmit(card, protocol, SELECT)
        _check("SELECT", hresult)
        for _ in range(APDUS_PER_TAP):
            hresult, _ = scard.SCardTransmit(card, protocol, COMMAND)
            _check("APDU", hresult)
        _check("SCardDisconnect", scard.SCardDisconnect(card, scard.SCARD_UNPOWER_CARD))
        times.append(clock() - start)
    return times


def _p99(values: list[int]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apdus", type=int, default=1000, help="APDUs per round (default 1000)")
    parser.add_argument("--taps", type=int, default=20, help="taps per round (default 20)")
    parser.add_argument("--rounds", type=int, default=10,
                        help="rounds, alternating which card goes first (default 10)")
    parser.add_argument("--plain-apdus", type=int, default=20,
                        help="APDUs against an echo card with plain sockets, to show the "
                             "delayed-ACK stall the socket options remove (default 20; 0: skip)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hcekit-bench-pcscd-"))
    with PrivatePcscd(workdir, slots=3) as pcscd:
        pcscd.apply_env()
        from smartcard import scard

        host = VpcdHost(Card([Trivial()]), pcscd.port(1))
        echo = EchoCard(pcscd.port(0))
        host.start()
        echo.start()
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check("SCardEstablishContext", hresult)
        readers = {"hcekit": pcscd.reader_name(1), "echo": pcscd.reader_name(0)}
        for reader in readers.values():
            _wait_present(context, reader)
        # warm up both paths (pcscd threads, caches, branch predictors)
        for reader in readers.values():
            measure_apdus(context, reader, 200)
            measure_taps(context, reader, 3)

        apdu_ns: dict[str, list[int]] = {name: [] for name in readers}
        tap_ns: dict[str, list[int]] = {name: [] for name in readers}
        names = list(readers)
        for round_number in range(args.rounds):
            for name in names if round_number % 2 == 0 else reversed(names):
                apdu_ns[name] += measure_apdus(context, readers[name], args.apdus)
                tap_ns[name] += measure_taps(context, readers[name], args.taps)
        plain_ns: list[int] = []
        if args.plain_apdus:
            plain = EchoCard(pcscd.port(2), tuned=False)
            plain.start()
            _wait_present(context, pcscd.reader_name(2))
            plain_ns = measure_apdus(context, pcscd.reader_name(2), args.plain_apdus)
            plain.stop()
        scard.SCardReleaseContext(context)
        served = host.stats.apdus
        host.stop()
        echo.stop()

    print(f"pcsc_throughput: {platform.python_implementation()} {platform.python_version()}, "
          f"{args.rounds} rounds x {args.apdus} APDUs + {args.taps} taps per card, "
          f"through a private pcscd + vpcd")
    print(f"{'card':8} {'APDU/s':>9} {'median µs':>10} {'p99 µs':>8} {'tap ms':>8}")
    rate: dict[str, float] = {}
    tap_median: dict[str, float] = {}
    for name in readers:
        times = apdu_ns[name]
        rate[name] = len(times) / sum(times) * 1e9
        tap_median[name] = statistics.median(tap_ns[name]) / 1e6
        print(f"{name:8} {rate[name]:9.0f} {statistics.median(times) / 1000:10.1f} "
              f"{_p99(times) / 1000:8.1f} {tap_median[name]:8.2f}")
    if plain_ns:
        print(f"{'plain':8} {len(plain_ns) / sum(plain_ns) * 1e9:9.0f} "
              f"{statistics.median(plain_ns) / 1000:10.1f} {_p99(plain_ns) / 1000:8.1f}"
              f"{'':>9}  (echo card without TCP_NODELAY / TCP_QUICKACK)")
    expected = args.rounds * (args.apdus + args.taps * (APDUS_PER_TAP + 1))
    print(f"(the hcekit host answered {served} APDUs; this run sent it {expected} + warm-up)")
    ratio = rate["hcekit"] / rate["echo"]
    median_ratio = statistics.median(apdu_ns["echo"]) / statistics.median(apdu_ns["hcekit"])
    tap_ratio = tap_median["echo"] / tap_median["hcekit"]
    print(f"ratio hcekit/echo: APDU/s {ratio:.2f} (mean), {median_ratio:.2f} (median round "
          f"trip), taps/s {tap_ratio:.2f} (median tap)")
    # the mean swings with whatever else runs on the machine (p99 shows it);
    # the median is the steady-state cost, so the verdict uses it
    print(f"verdict (median round trip, target >= 0.8): "
          f"{'OK' if median_ratio >= 0.8 else 'BELOW TARGET'} {median_ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
