"""Gate validator, top-up machine, inspector and the demo, over loopback and the CLI."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hcekit.store import MemoryStore, SqliteStore
from hcekit.terminal import ScriptContext
from hcekit_transit import IssuerKeys, TransitPlugin
from hcekit_transit.fares import ANTI_PASSBACK_SECONDS, BASE_FARE, MAX_FARE, ZONE_STEP, fare
from hcekit_transit.layout import CardProfile
from hcekit_transit.records import CardStatus, Contract, LogType
from hcekit_transit.terminals import SCRIPTS, Direction, GateResult, gate_tap, inspect, top_up

from .conftest import UID, RigFactory, TransitRig

T0 = 1_780_000_000  # a fixed "now" (2026-05-28)


def tap(t: TransitRig, station: int, now: int, direction: Direction = "auto") -> GateResult:
    t.retap()
    return gate_tap(t.reader, t.keys, station, now, direction)


def test_tap_in_and_out_charges_the_zone_fare(transit: TransitRig) -> None:
    entry = tap(transit, 1, T0)
    assert entry.accepted and entry.direction == "in" and entry.charged == 0
    out = tap(transit, 4, T0 + 1200)
    expected = fare(1, 4)
    assert expected == BASE_FARE + 2 * ZONE_STEP
    assert out.accepted and out.direction == "out" and out.charged == expected
    transit.retap()
    report = inspect(transit.reader, transit.keys)
    assert report.balance == 2000 - expected
    assert report.trip.counter == 2 and not report.trip.in_trip
    assert [(r.type, r.amount, r.balance, r.counter) for r in report.log] == [
        (LogType.TAP_IN, 0, 2000, 1), (LogType.TAP_OUT, -expected, 2000 - expected, 2)]


def test_repeated_tap_is_refused_without_a_write(transit: TransitRig) -> None:
    assert tap(transit, 2, T0).accepted
    before = transit.snapshot()
    again = tap(transit, 2, T0 + ANTI_PASSBACK_SECONDS - 1)
    assert not again.accepted and "anti-passback" in again.reason
    assert transit.snapshot() == before
    later = tap(transit, 2, T0 + ANTI_PASSBACK_SECONDS)
    assert later.accepted and later.direction == "out"


def test_insufficient_funds_refuses_and_keeps_the_balance(make_rig: RigFactory) -> None:
    t = make_rig(profile=CardProfile(uid=UID, balance=BASE_FARE - 1))
    before = t.snapshot()
    result = tap(t, 1, T0)
    assert not result.accepted and result.reason == "insufficient funds"
    assert t.snapshot() == before


def test_insufficient_funds_at_exit_rolls_the_debit_back(make_rig: RigFactory) -> None:
    t = make_rig(profile=CardProfile(uid=UID, balance=BASE_FARE))
    assert tap(t, 1, T0).accepted
    before = t.snapshot()
    result = tap(t, 4, T0 + 600)  # fare 270 > 150
    assert not result.accepted and result.reason == "insufficient funds"
    assert t.snapshot() == before


def test_blocked_card_is_refused(make_rig: RigFactory) -> None:
    t = make_rig(profile=CardProfile(uid=UID, status=CardStatus.BLOCKED))
    before = t.snapshot()
    result = tap(t, 1, T0)
    assert not result.accepted and result.reason == "card blocked"
    assert t.snapshot() == before


def test_expired_card_is_refused(make_rig: RigFactory) -> None:
    t = make_rig(profile=CardProfile(uid=UID, expiry=20200101))
    assert tap(t, 1, T0).reason == "card expired"


def test_contract_covers_the_journey(make_rig: RigFactory) -> None:
    t = make_rig(profile=CardProfile(uid=UID, balance=0,
                                     contracts=(Contract(1, 2, 20260101, 20261231),)))
    assert tap(t, 1, T0).accepted
    out = tap(t, 3, T0 + 900)
    assert out.accepted and out.charged == 0
    t2 = make_rig(profile=CardProfile(uid=UID, balance=1000,
                                      contracts=(Contract(1, 2, 20260101, 20261231),)))
    tap(t2, 1, T0)
    assert tap(t2, 4, T0 + 900).charged == fare(1, 4)  # zone 3


def test_missing_tap_out_costs_the_maximum_fare(transit: TransitRig) -> None:
    tap(transit, 1, T0)
    again = tap(transit, 3, T0 + 7200, "in")
    assert again.accepted and again.charged == MAX_FARE
    transit.retap()
    assert inspect(transit.reader, transit.keys).log[-1].type is LogType.PENALTY


def test_top_up_and_its_limit(transit: TransitRig) -> None:
    transit.retap()
    assert top_up(transit.reader, transit.keys, 500, T0) == 2500
    transit.retap()
    from hcekit_transit.reader import ReaderError

    before = transit.snapshot()
    with pytest.raises(ReaderError):
        top_up(transit.reader, transit.keys, 50000, T0)
    assert transit.snapshot() == before
    transit.retap()
    assert inspect(transit.reader, transit.keys).log[-1].type is LogType.TOP_UP


def test_inspector_changes_nothing(transit: TransitRig) -> None:
    tap(transit, 1, T0)
    before = transit.snapshot()
    transit.retap()
    report = inspect(transit.reader, transit.keys)
    assert report.trip.in_trip and report.trip.entry_station == 1
    assert transit.snapshot() == before


def test_validator_with_other_issuer_keys_cannot_authenticate(transit: TransitRig) -> None:
    from hcekit_transit.reader import ReaderError

    transit.retap()
    with pytest.raises(ReaderError):
        gate_tap(transit.reader, IssuerKeys.generate(), 1, T0)


def _run(script: str, t: TransitRig, **options: str) -> tuple[int, str]:
    t.retap()
    out = io.StringIO()
    chosen = next(s for s in SCRIPTS if s.name == script)
    status = chosen.run(ScriptContext(t.rig.terminal, options, out))
    return status, out.getvalue()


def test_scripts_print_the_outcome(transit: TransitRig) -> None:
    status, text = _run("transit-gate", transit, station="1", time=str(T0))
    assert status == 0 and "OPEN" in text and "tap-in" in text
    status, text = _run("transit-gate", transit, station="1", time=str(T0 + 5))
    assert status == 1 and "anti-passback" in text
    status, text = _run("transit-topup", transit, amount="250", time=str(T0 + 10))
    assert status == 0 and "balance 22.50" in text
    status, text = _run("transit-inspect", transit)
    assert status == 0 and "balance 22.50" in text and "TAP_IN" in text and "TOP_UP" in text


def test_demo_script_on_a_fresh_card_with_test_keys() -> None:
    """Empty store, no options: the plugin personalises itself; the demo flow passes."""
    from hcekit.testing.loopback import loopback_rig

    store = MemoryStore()
    rig = loopback_rig([TransitPlugin()], store=store)
    demo = next(s for s in SCRIPTS if s.demo)
    out = io.StringIO()
    with rig.terminal.tap():
        status = demo.run(ScriptContext(rig.terminal, {"time": str(T0)}, out))
    rig.close()
    text = out.getvalue()
    assert status == 0, text
    assert "anti-passback" in text and f"charged {fare(1, 4) // 100}." in text
    assert store.namespace("transit").keys()  # personalised on the store


def test_cli_personalize_then_tap(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    hcekit = [str(Path(sys.executable).parent / "hcekit")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*hcekit, *args], capture_output=True, text=True, timeout=60)

    made = run("transit", "personalize", "--store", str(store), "--balance", "300",
               "--uid", UID.hex())
    assert made.returncode == 0, made.stderr
    assert "TEST keys" in made.stdout
    assert run("transit", "personalize", "--store", str(store)).returncode == 1  # no --force
    gate = ["tap", "--only", "transit", "--store", str(store), "transit-gate"]
    first = run(*gate, "-s", "station=1", "-s", f"time={T0}")
    assert first.returncode == 0 and "OPEN" in first.stdout, first.stdout + first.stderr
    second = run(*gate, "-s", "station=4", "-s", f"time={T0 + 1000}")
    assert second.returncode == 0 and "balance 0.30" in second.stdout
    third = run(*gate, "-s", "station=2", "-s", f"time={T0 + 2000}")
    assert third.returncode == 1 and "insufficient funds" in third.stdout
    keyfile = tmp_path / "issuer.json"
    assert run("transit", "keygen", str(keyfile)).returncode == 0
    assert keyfile.stat().st_mode & 0o077 == 0
    # a card of other issuer keys: the TEST-key gate cannot authenticate
    other = tmp_path / "other.sqlite"
    assert run("transit", "personalize", "--store", str(other), "--keys", str(keyfile)).returncode == 0
    refused = run("tap", "--only", "transit", "--store", str(other), "transit-gate")
    assert refused.returncode != 0
    assert keyfile.read_text().split('"picc": "')[1][:32] not in refused.stdout + refused.stderr
    allowed = run("tap", "--only", "transit", "--store", str(other), "transit-gate",
                  "-s", f"keys={keyfile}", "-s", f"time={T0}")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    SqliteStore(store).close()


def test_gate_blocks_a_hotlisted_card(make_rig: RigFactory) -> None:
    t = make_rig(profile=CardProfile(uid=UID, card_number=4242))
    t.retap()
    first = gate_tap(t.reader, t.keys, 1, T0, hotlist=frozenset({4242}))
    assert not first.accepted and "hotlisted" in first.reason
    again = tap(t, 1, T0 + 500)  # any gate now refuses it
    assert not again.accepted and again.reason == "card blocked"
    t.retap()
    assert inspect(t.reader, t.keys).info.status is CardStatus.BLOCKED
    other = make_rig(profile=CardProfile(uid=UID, card_number=7))
    other.retap()
    assert gate_tap(other.reader, other.keys, 1, T0, hotlist=frozenset({4242})).accepted
