"""Property tests: no PIV command the badge knows can make it fail internally (6F00)."""

from __future__ import annotations

from hcekit import SW, CommandApdu, tlv
from hcekit.fuzzing.strategies import command_apdus
from hcekit.store import MemoryStore
from hcekit.testing import loopback_rig
from hcekit_access import PIV_AID, AccessPlugin, personalize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_STORE = MemoryStore()
personalize(_STORE.namespace("access"))
RIG = loopback_rig([AccessPlugin()], store=_STORE)

tlv_items = st.lists(
    st.tuples(st.sampled_from([0x5C, 0x7C, 0x80, 0x81, 0x82, 0x85, 0x53, 0x5F2F]),
              st.binary(max_size=70)),
    max_size=4,
).map(lambda items: b"".join(tlv.encode(tag, value) for tag, value in items))
piv_data = st.one_of(st.binary(max_size=80), tlv_items,
                     tlv_items.map(lambda inner: tlv.encode(0x7C, inner)))


def _check_still_serving(response_sw: int) -> None:
    assert response_sw != SW.UNKNOWN
    chuid = RIG.terminal.transmit(CommandApdu(0, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C035FC102"),
                                              256))
    assert chuid.sw == SW.NO_ERROR


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_apdus(cla=st.sampled_from([0x00, 0x10, 0x0C, 0x80]),
                     ins=st.sampled_from([0xCB, 0x87, 0x20, 0xA4, 0xCA]),
                     p1=st.sampled_from([0x00, 0x11, 0x14, 0x3F, 0xFF, 0x04]),
                     p2=st.sampled_from([0x00, 0x80, 0x9E, 0x9A, 0xFF, 0x0C]),
                     data=piv_data, extended=False))
def test_piv_commands_never_answer_6f00(command: CommandApdu) -> None:
    terminal = RIG.terminal
    with terminal.tap():
        assert terminal.select(PIV_AID).sw == SW.NO_ERROR
        response = terminal.transmit(command)
        if command.cla & 0x10:  # a chain part: finish it (or let the next command drop it)
            response = terminal.transmit(command.replace(cla=command.cla & ~0x10))
        if command.ins == 0xA4 and response.sw == SW.FILE_NOT_FOUND:
            return
        if command.ins == 0xA4 and command.p1 == 0x04:
            terminal.select(PIV_AID)
        _check_still_serving(response.sw)
