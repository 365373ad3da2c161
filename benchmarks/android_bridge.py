"""Round trip reader → Android's NFC service → shim → Python plugin → answer, on the real framework.

Compiles the shim against Robolectric's android-all, starts the JVM with
Robolectric's sandbox through pyjnius (the real HostApduService, Messenger,
Looper) and times, from Java (org.hcekit.desktop.NfcStack.roundTrips), each
command from the reader's hand-off to the NFC service's thread until the
answer is back at the reader. Every run crosses the threads as on a phone:
NFC thread → the app's main thread (processCommandApdu) → the card's thread →
sendResponseApdu, which posts to the main thread → NFC thread → reader.

  java floor     a Java thread that pulls and answers exactly as the Python worker
                 does (startPulling, awaitEvent, respond): the same path without Python
  java listener  a pure-Java ApduListener called on the shim's own dispatch thread
  python worker  the default: the card's Python thread pulls the command (awaitEvent)
                 and answers (respond); no Java-to-Python callback
  python inline  opt-in (unsafe: blocks the main thread): a pyjnius callback on the
                 main thread, for comparison

Then the cold start: from the NFC service's bind intent (a SELECT for a
service that is not running) to the first answer, with the card built and
attached only once the command is held, as a cold tap does (the interpreter
and the plugins' modules are already loaded here: benchmarks/cold_start.py
measures that part), for a one-plugin card and for every installed plugin but
payment (Android keeps the default payment service bound: it has no cold bind).

Target: python worker median <= 150 µs.
Usage: python benchmarks/android_bridge.py [--count N] [--api 34|35|36]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from hcekit import AppContext, Card, Claim, CommandApdu, PluginContext, hookimpl
from hcekit.store import MemoryStore
from hcekit_android.jvm import compile_java, start_desktop_jvm

AID = bytes.fromhex("F0BE4E4348010203")
SELECT = CommandApdu(0x00, 0xA4, 0x04, 0x00, AID).to_bytes()
COMMAND = CommandApdu(0x80, 0x01, 0x00, 0x00, bytes(range(32)), 256).to_bytes()
TARGET_US = 150.0


class Echo:
    name = "bench"

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID, description="benchmark echo")]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return command.data


def summarise(label: str, times_ns: list[int]) -> float:
    ordered = sorted(times_ns)
    median = statistics.median(ordered) / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    print(f"{label:<15} median {median:8.1f} µs   p99 {p99:8.1f} µs   (n={len(ordered)})")
    return median


def run(stack: Any, count: int) -> list[int]:
    if stack.transceive(SELECT, 5000) is None:
        raise SystemExit("the SELECT got no answer: the benchmark setup is broken")
    stack.roundTrips(COMMAND, max(200, count // 10), 5000)  # warm-up (JIT, caches)
    times = list(stack.roundTrips(COMMAND, count, 5000))
    stack.fieldOff()
    return times


def cold_start(stack: Any, phone: Any, context: Any, only: list[str] | None,
               aid: bytes, store: MemoryStore) -> float:
    """ms from the bind intent (a SELECT for a stopped service) to its answer, card built late."""
    from hcekit_android import AndroidHost

    phone.closeApp()  # the HCE service is not running: the SELECT makes Android bind it
    stack.drain()
    start = time.perf_counter()
    stack.submit(CommandApdu(0x00, 0xA4, 0x04, 0x00, aid).to_bytes())
    card = Card.with_installed_plugins(only=only, store=store)
    host = AndroidHost(card, context=context, register_claims=False)
    host.start()  # attaches: the command held since the bind goes to the card now
    answer = stack.awaitAnswer(10_000)
    elapsed = (time.perf_counter() - start) * 1000
    if answer is None:
        raise SystemExit("cold start: no answer")
    stack.fieldOff()
    host.stop()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--api", type=int, default=None,
                        help="Android API level of the framework (default $HCEKIT_ANDROID_API or 34)")
    parser.add_argument("--cold-runs", type=int, default=7)
    args = parser.parse_args()

    api = start_desktop_jvm(compile_java(Path(tempfile.mkdtemp(prefix="hcekit-bench-")),
                                         api=args.api), api=args.api)
    from hcekit_android import AndroidHost
    from hcekit_android.desktop import install_service, reset_phone
    from hcekit_android.manifest import aid_xml
    from hcekit_ndef.plugin import NDEF_APP_AID as NDEF_AID
    from jnius import autoclass

    bridge = autoclass("org.hcekit.bridge.HcekitBridge")
    phone = reset_phone()
    with Card([Echo()]) as card:  # the AID in the service's static group, as an APK ships it
        echo_claims = card.claims()
    with Card.with_installed_plugins(store=MemoryStore()) as card:
        install_service(aid_xml([*echo_claims, *card.claims()], banner="@drawable/b"))
    context = autoclass("org.hcekit.desktop.Phone").context()
    stack = phone.nfc()

    print(f"Android API {api} (Robolectric); command: {len(COMMAND)} bytes "
          "(CLA INS P1 P2 Lc, 32 data bytes, Le)")
    puller = autoclass("org.hcekit.desktop.EchoPuller")()
    puller.start()
    run(stack, args.count)  # a first, discarded pass: JIT and page-in for every thread
    floor = summarise("java floor", run(stack, args.count))
    puller.stop()
    listener = autoclass("org.hcekit.desktop.EchoListener")()
    bridge.setListener(listener)
    summarise("java listener", run(stack, args.count))
    bridge.clearListener(listener)
    results = {}
    for dispatch in ("worker", "inline"):
        host = AndroidHost(Card([Echo()]), context=context, dispatch=dispatch,
                           register_claims=False)
        host.start()
        results[dispatch] = summarise(f"python {dispatch}", run(stack, args.count))
        host.stop()
    worker = results["worker"]
    print(f"python worker / java floor (same path): {worker / floor:.1f}x "
          f"({worker - floor:+.1f} µs); target median <= {TARGET_US:.0f} µs: "
          f"{'met' if worker <= TARGET_US else 'MISSED'}")
    from hcekit.plugins import installed_plugins

    # payment is left out: Android keeps the default payment service bound (no cold bind),
    # and only the default payment app may serve its AIDs
    others = [name for name, _ in installed_plugins() if name != "payment"]
    for label, only in (("ndef only", ["ndef"]), ("all but payment", others)):
        store = MemoryStore()  # personalised by the warm-up run, then read: as an app's store
        cold_start(stack, phone, context, only, NDEF_AID, store)  # warm-up: JIT, class loading
        times = [cold_start(stack, phone, context, only, NDEF_AID, store)
                 for _ in range(args.cold_runs)]
        print(f"cold start, {label:<12} bind intent → first answer: median "
              f"{statistics.median(times):7.1f} ms  min {min(times):7.1f}  max {max(times):7.1f} "
              f"(n={len(times)}; card built and attached while the command is held)")
    stack.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
