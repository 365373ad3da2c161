"""The gate, top-up and inspector flows through a real pcscd + vpcd (hcekit's PC/SC terminal)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from hcekit.store import MemoryStore
from hcekit.terminal import ScriptContext
from hcekit.testing.pcsc import PcscCard
from hcekit_transit import IssuerKeys, TransitPlugin
from hcekit_transit.fares import fare
from hcekit_transit.reader import DesfireReader
from hcekit_transit.terminals import SCRIPTS, gate_tap, inspect, top_up

pytestmark = [pytest.mark.pcsc]

T0 = 1_780_000_000


def test_gate_flow_through_pcscd(pcsc_card: Callable[..., PcscCard]) -> None:
    store = MemoryStore()
    served = pcsc_card([TransitPlugin()], store=store)  # empty store: TEST-key demo card
    keys = IssuerKeys.test_keys()
    term = served.terminal
    reader = DesfireReader(term)

    def retap() -> None:
        term.disconnect()
        term.connect()

    assert gate_tap(reader, keys, 1, T0).accepted
    retap()
    assert gate_tap(reader, keys, 1, T0 + 5).reason == "repeated tap (anti-passback)"
    retap()
    out = gate_tap(reader, keys, 3, T0 + 900)
    assert out.accepted and out.charged == fare(1, 3)
    retap()
    assert top_up(reader, keys, 700, T0 + 1000) == 2000 - fare(1, 3) + 700
    retap()
    report = inspect(reader, keys)
    assert report.balance == 2700 - fare(1, 3) and len(report.log) == 3


def test_demo_script_through_pcscd(pcsc_card: Callable[..., PcscCard]) -> None:
    served = pcsc_card([TransitPlugin()], store=MemoryStore())
    demo = next(s for s in SCRIPTS if s.demo)
    out = io.StringIO()
    assert demo.run(ScriptContext(served.terminal, {"time": str(T0)}, out)) == 0, out.getvalue()


def test_hcekit_tap_cli_through_pcscd(pcsc_card: Callable[..., PcscCard]) -> None:
    """``hcekit tap --reader`` runs the gate and the inspector against the served card."""
    import subprocess
    import sys
    from pathlib import Path

    served = pcsc_card([TransitPlugin()], store=MemoryStore(), connect=False)
    hcekit = str(Path(sys.executable).parent / "hcekit")

    def tap(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([hcekit, "tap", "--reader", served.reader, *args],
                              capture_output=True, text=True, timeout=60, env=served.env)

    gate = tap("transit-gate", "-s", "station=2", "-s", f"time={T0}")
    assert gate.returncode == 0 and "OPEN" in gate.stdout, gate.stdout + gate.stderr
    again = tap("transit-gate", "-s", "station=2", "-s", f"time={T0 + 3}")
    assert again.returncode == 1 and "anti-passback" in again.stdout
    shown = tap("transit-inspect")
    assert shown.returncode == 0 and "in trip since Harbour" in shown.stdout, shown.stdout
