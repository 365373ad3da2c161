"""Arbitrary frames never crash the card: every answer is a DESFire status, state stays loadable."""

from __future__ import annotations

from hcekit import CommandApdu
from hcekit.store import MemoryStore
from hcekit.testing.loopback import loopback_rig
from hcekit_transit import PICC_DF_NAME, TRANSIT_DF_NAME, TransitPlugin
from hcekit_transit.persist import CardStore
from hcekit_transit.picc import Ins
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STORE = MemoryStore()
RIG = loopback_rig([TransitPlugin()], store=STORE)
KNOWN = [int(i) for i in Ins]

frames = st.lists(
    st.tuples(st.one_of(st.sampled_from(KNOWN), st.integers(0, 255)),
              st.binary(max_size=40)),
    min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from([PICC_DF_NAME, TRANSIT_DF_NAME]), sequence=frames)
def test_random_native_frames_get_desfire_statuses(start: bytes,
                                                   sequence: list[tuple[int, bytes]]) -> None:
    term = RIG.terminal
    with term.tap():
        assert term.select(start).sw == 0x9000
        for ins, data in sequence:
            response = term.transmit(CommandApdu(0x90, ins, 0, 0, data, 256))
            assert response.sw1 == 0x91, f"{ins:02X} {data.hex()} -> {response.sw:04X}"
    assert CardStore(STORE.namespace("transit")).load() is not None


def test_plugin_passes_the_hcekit_conformance_suite(tmp_path: object) -> None:
    from pathlib import Path

    from hcekit.conformance import run_conformance

    assert isinstance(tmp_path, Path)
    report = run_conformance("transit", tmp=tmp_path)
    failed = [(r.name, r.detail) for r in report.results if r.status != "passed"]
    assert report.ok and not failed, failed
