"""Round trip Java processCommandApdu → Python plugin → answer, on a desktop JVM.

Compiles the shim and the desktop stand-ins, starts a JVM through pyjnius and
times, from Java (org.hcekit.desktop.NfcStack.roundTrips), each command from
the NFC stack's hand-off to the "main" thread until the answer is back:

  java echo      a pure-Java ApduListener on the same bridge: the floor
  python inline  card + plugin answer inside the pyjnius callback (shim returns it)
  python worker  a Python thread answers; the shim sends it with sendResponseApdu

Target: python median <= 1 ms.  Usage: python benchmarks/android_bridge.py [--count N]
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


class Echo:
    name = "bench"

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID, description="benchmark echo")]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return command.data


def summarise(label: str, times_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(times_ns)
    median = statistics.median(ordered) / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    print(f"{label:<15} median {median:8.1f} µs   p99 {p99:8.1f} µs   (n={len(ordered)})")
    return median, p99


def run(stack: Any, count: int) -> list[int]:
    stack.roundTrips(COMMAND, max(200, count // 10), 5000)  # warm-up (JIT, caches)
    return list(stack.roundTrips(COMMAND, count, 5000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()

    start_desktop_jvm(compile_java(Path(tempfile.mkdtemp(prefix="hcekit-bench-"))))
    from hcekit_android import AndroidHost
    from hcekit_android.desktop import new_service
    from jnius import autoclass

    bridge = autoclass("org.hcekit.android.HcekitBridge")
    autoclass("org.hcekit.desktop.Phone").reset()
    context = autoclass("android.content.Context")()
    _service, stack = new_service()

    print(f"command: {len(COMMAND)} bytes (CLA INS P1 P2 Lc, 32 data bytes, Le)")
    echo = autoclass("org.hcekit.desktop.EchoListener")()
    bridge.setListener(echo)
    floor, _ = summarise("java echo", run(stack, args.count))
    bridge.clearListener(echo)

    results = {}
    for dispatch in ("inline", "worker"):
        host = AndroidHost(Card([Echo()]), context=context, dispatch=dispatch)
        host.start()
        stack.transceive(SELECT, 5000)
        results[dispatch] = summarise(f"python {dispatch}", run(stack, args.count))
        host.stop()
        stack.deactivate(0)
    inline_median = results["inline"][0]
    print(f"python inline over the Java floor: {inline_median - floor:+.1f} µs median; "
          f"target <= 1000 µs: {'met' if inline_median <= 1000 else 'MISSED'}")
    stack.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
