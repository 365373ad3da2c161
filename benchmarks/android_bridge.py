"""Round trip reader → Android's NFC service → shim → Python plugin → answer, on a desktop JVM.

Compiles the shim and the AOSP-modelled stand-ins, starts a JVM through
pyjnius and times, from Java (org.hcekit.desktop.NfcStack.roundTrips), each
command from the reader's hand-off to the NFC service's thread until the
answer is back at the reader. Every run crosses the model's threads as on a
phone: NFC thread → the app's main thread (processCommandApdu) → the shim's
dispatch thread (Python) → sendResponseApdu, which posts to the main thread →
NFC thread → reader.

  java floor     a pure-Java ApduListener (echo) called on the shim's own dispatch thread
  python worker  the default: the card's Python thread pulls the command (awaitEvent)
                 and answers (respond); no Java-to-Python callback
  python inline  opt-in (unsafe: blocks the main thread): a pyjnius callback on the
                 main thread, for comparison

Target: python worker median <= 150 µs.  Usage: python benchmarks/android_bridge.py [--count N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from hcekit import AppContext, Card, Claim, CommandApdu, PluginContext, hookimpl
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()

    start_desktop_jvm(compile_java(Path(tempfile.mkdtemp(prefix="hcekit-bench-"))))
    from hcekit_android import AndroidHost
    from hcekit_android.desktop import install_service, reset_phone
    from hcekit_android.manifest import aid_xml
    from jnius import autoclass

    bridge = autoclass("org.hcekit.bridge.HcekitBridge")
    phone = reset_phone()
    with Card([Echo()]) as card:  # the AID in the service's static group, as an APK ships it
        install_service(aid_xml(card.claims()))
    context = autoclass("org.hcekit.desktop.Phone").context()
    stack = phone.nfc()

    print(f"command: {len(COMMAND)} bytes (CLA INS P1 P2 Lc, 32 data bytes, Le)")
    echo = autoclass("org.hcekit.desktop.EchoListener")()
    bridge.setListener(echo)
    run(stack, args.count)  # a first, discarded pass: JIT and page-in for every thread
    floor = summarise("java floor", run(stack, args.count))
    bridge.clearListener(echo)
    results = {}
    for dispatch in ("worker", "inline"):
        host = AndroidHost(Card([Echo()]), context=context, dispatch=dispatch,
                           register_claims=False)
        host.start()
        results[dispatch] = summarise(f"python {dispatch}", run(stack, args.count))
        host.stop()
    worker = results["worker"]
    print(f"python worker / java floor: {worker / floor:.1f}x ({worker - floor:+.1f} µs); "
          f"target median <= {TARGET_US:.0f} µs: {'met' if worker <= TARGET_US else 'MISSED'}")
    stack.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
