"""The router state machine, driven with bytes like h11's connection tests."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from hcekit import (
    SW,
    Card,
    CardConfig,
    Claim,
    ClaimConflictError,
    CommandApdu,
    DeactivationReason,
    ResponseApdu,
)
from hcekit.errors import PluginLoadError
from hcekit.ppse import PPSE_AID
from hcekit.testing import loopback_rig
from hcekit.tlv import find, parse
from hypothesis import event, given, settings
from hypothesis import strategies as st

from .routing_plugins import (
    AID_A,
    AID_A2,
    AID_B,
    AID_PAY,
    INS_CRASH,
    INS_ECHO,
    INS_FAIL_ISO,
    INS_REPEAT,
    INS_WHO,
    Recorder,
)


def tx(card: Card, hex_apdu: str) -> ResponseApdu:
    return ResponseApdu.parse(card.transceive(bytes.fromhex(hex_apdu)))


def select(card: Card, aid: bytes, p2: int = 0) -> ResponseApdu:
    return card.transmit(CommandApdu(0, 0xA4, 0x04, p2, aid, 256))


def test_command_before_select_answers_6f00(rig: Any) -> None:
    assert tx(rig.card, "00010000").sw == SW.UNKNOWN


def test_select_routes_and_deselects_previous(rig: Any, plugins: tuple[Recorder, Recorder]) -> None:
    a = plugins[0]
    assert select(rig.card, AID_A).data == AID_A
    assert tx(rig.card, "0005000000").data == b"alpha"
    assert select(rig.card, AID_B).ok
    assert tx(rig.card, "0005000000").data == b"beta"
    assert ("deselect", AID_A) in a.events
    assert rig.card.selected.plugin.name == "beta"


def test_failed_select_leaves_selection_unchanged(rig: Any, plugins: tuple[Recorder, Recorder]) -> None:
    select(rig.card, AID_A)
    assert select(rig.card, bytes.fromhex("F0000000FF")).sw == SW.FILE_NOT_FOUND
    assert tx(rig.card, "0005000000").data == b"alpha"
    refusing = Recorder("gamma", Claim(bytes.fromhex("F0000000C1")), refuse_select=True)
    rig.card.register(refusing)
    assert select(rig.card, bytes.fromhex("F0000000C1")).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED
    assert tx(rig.card, "0005000000").data == b"alpha"
    assert not any(e[0] == "deselect" for e in plugins[0].events)


def test_partial_selection_and_next_occurrence(rig: Any) -> None:
    partial = bytes.fromhex("F0000000")
    assert select(rig.card, partial).data == AID_A
    assert select(rig.card, partial, p2=0x02).data == AID_A2
    assert select(rig.card, partial, p2=0x02).data == AID_B
    assert select(rig.card, partial, p2=0x02).sw == SW.FILE_NOT_FOUND
    assert rig.card.selected.aid == AID_B  # unchanged after the failed next
    assert select(rig.card, partial, p2=0x01).sw == SW.INCORRECT_P1P2


@pytest.mark.parametrize("order", ["zeta first", "alpha first"])
def test_partial_names_step_in_aid_order_whatever_the_plugin_order(order: str) -> None:
    """ISO 7816-4 first/next occurrence, one rule for every plugin: by AID, then owner name."""
    zeta = Recorder("zeta", Claim(bytes.fromhex("F0000000A1")))
    alpha = Recorder("alpha", Claim(bytes.fromhex("F0000000B1")), Claim.parse("F0000000C1*"))
    mid = Recorder("mid", Claim.parse("F0000000A2010203#"))
    card = Card([zeta, alpha, mid] if order == "zeta first" else [mid, alpha, zeta])
    partial = bytes.fromhex("F0000000")
    walked = [select(card, partial)]
    walked += [select(card, partial, p2=0x02) for _ in range(4)]
    assert [r.data.hex().upper() for r in walked[:4]] == [
        "F0000000A1", "F0000000A2010203", "F0000000B1", "F0000000C1"]
    assert walked[4].sw == SW.FILE_NOT_FOUND
    assert card.selected is not None and card.selected.aid == bytes.fromhex("F0000000C1")


def test_a_partial_name_shorter_than_an_aid_reaches_subset_and_prefix_claims() -> None:
    subset = Recorder("subset", Claim.parse("F0AABBCCDD0102#"))
    prefix = Recorder("prefix", Claim.parse("F0BBCCDDEE*"))
    card = Card([subset, prefix])
    assert select(card, bytes.fromhex("F0AABB")).data == bytes.fromhex("F0AABBCCDD0102")
    assert select(card, bytes.fromhex("F0AABBCCDD")).data == bytes.fromhex("F0AABBCCDD")
    assert select(card, bytes.fromhex("F0BBCC")).data == bytes.fromhex("F0BBCCDDEE")


def test_a_4_byte_partial_name_reaches_the_piv_badge_as_it_reaches_payment() -> None:
    from hcekit_access.piv import PIV_AID

    card = Card.with_installed_plugins(only=["access", "payment"])
    name = bytes.fromhex("A0000003")
    assert select(card, name).ok and card.selected is not None
    assert (card.selected.plugin.name, card.selected.aid) == ("access", PIV_AID)
    assert select(card, bytes.fromhex("A0000000")).ok
    assert card.selected.plugin.name == "payment"
    rid_start = bytes.fromhex("A00000")  # both: payment's A0000000031010 sorts first
    assert select(card, rid_start).ok and card.selected.plugin.name == "payment"
    assert select(card, rid_start, p2=0x02).ok and card.selected.plugin.name == "access"
    assert select(card, rid_start, p2=0x02).sw == SW.FILE_NOT_FOUND
    card.close()


def test_prefix_claim_sees_the_full_selected_name() -> None:
    p = Recorder("prefix", Claim.parse("F0AABBCCDD*"))
    card = Card([p])
    full = bytes.fromhex("F0AABBCCDD0102")
    assert select(card, full).data == full
    assert card.selected.aid == full


def test_iso_error_and_crash(rig: Any, caplog: pytest.LogCaptureFixture) -> None:
    select(rig.card, AID_A)
    assert tx(rig.card, f"00{INS_FAIL_ISO:02X}0000").sw == SW.FILE_NOT_FOUND
    with caplog.at_level(logging.ERROR, "hcekit.card"):
        assert tx(rig.card, f"00{INS_CRASH:02X}0000").sw == SW.UNKNOWN
    assert "plugin bug" in caplog.text  # traceback logged
    assert tx(rig.card, f"00{INS_ECHO:02X}000001AA00").data == b"\xaa"  # still serving


def test_response_chaining_with_get_response(rig: Any) -> None:
    select(rig.card, AID_A)
    first = tx(rig.card, f"00{INS_REPEAT:02X}0000020258" + "00")  # 600 bytes, Le=256
    assert (len(first.data), first.sw) == (256, 0x6100)
    second = tx(rig.card, "00C0000000")
    assert (len(second.data), second.sw) == (256, 0x6158)
    assert tx(rig.card, "00C0000100").sw == SW.INCORRECT_P1P2  # pending kept
    third = tx(rig.card, "00C0000058")
    assert (len(third.data), third.sw) == (0x58, SW.NO_ERROR)
    assert first.data + second.data + third.data == bytes(i & 0xFF for i in range(600))
    assert tx(rig.card, "00C0000000").sw == SW.INS_NOT_SUPPORTED  # nothing pending: plugin's answer


def test_le_shorter_than_data_and_extended_le(rig: Any) -> None:
    select(rig.card, AID_A)
    short = tx(rig.card, f"00{INS_REPEAT:02X}000002001008")
    assert (len(short.data), short.sw) == (8, 0x6108)
    ext = tx(rig.card, f"00{INS_REPEAT:02X}0000000002025800 00")
    assert (len(ext.data), ext.sw) == (600, SW.NO_ERROR)
    no_le = tx(rig.card, f"00{INS_REPEAT:02X}0000020010")
    assert len(no_le.data) == 16


def test_wrong_le_policy_6c() -> None:
    card = Card([Recorder("a", Claim(AID_A))], config=CardConfig(wrong_le="6c"))
    select(card, AID_A)
    assert tx(card, f"00{INS_REPEAT:02X}000002001008").sw == 0x6C10


def test_extended_length_can_be_disabled() -> None:
    card = Card([Recorder("a", Claim(AID_A))], config=CardConfig(extended_length=False))
    select(card, AID_A)
    assert tx(card, "00010000000001AA0000").sw == SW.WRONG_LENGTH


def test_command_chaining(rig: Any, plugins: tuple[Recorder, Recorder]) -> None:
    select(rig.card, AID_A)
    assert tx(rig.card, "1001000002AABB").sw == SW.NO_ERROR
    assert tx(rig.card, "1001000002CCDD").sw == SW.NO_ERROR
    assert tx(rig.card, "0001000001EE00").data == bytes.fromhex("AABBCCDDEE")
    assert [e for e in plugins[0].events if e[0] == "process"] == [
        ("process", INS_ECHO, bytes.fromhex("AABBCCDDEE"))
    ]
    assert tx(rig.card, "1001000001AA").sw == SW.NO_ERROR
    assert tx(rig.card, "0002000001BB").sw == SW.LAST_COMMAND_OF_CHAIN_EXPECTED


def test_a_select_after_an_abandoned_chain_is_answered(
        rig: Any, plugins: tuple[Recorder, Recorder]) -> None:
    """A reader that gives up a chain and starts again with SELECT must get its answer.

    Issue 31 item 10: the card answered 6883 and lost the SELECT. As a Java Card
    runtime handles SELECT itself, before any applet sees it, a SELECT by DF
    name ends the abandoned chain and is processed; any other command still
    gets 6883.
    """
    select(rig.card, AID_A)
    assert tx(rig.card, "1001000002AABB").sw == SW.NO_ERROR
    answer = tx(rig.card, f"00A40400{len(AID_B):02X}{AID_B.hex()}00")
    assert answer.ok and answer.data == AID_B
    assert tx(rig.card, "0001000001EE00").data == b"\xee"  # the chain is gone, not resumed
    assert not any(e[0] == "process" and e[2] == bytes.fromhex("AABBEE")
                   for p in plugins for e in p.events)


def test_proprietary_class_is_not_interpreted(rig: Any) -> None:
    select(rig.card, AID_A)
    # CLA 90 has b5 set but is proprietary (DESFire): no chaining, passed through.
    assert tx(rig.card, "9001000001AA00").data == b"\xaa"


@pytest.mark.parametrize(("hex_apdu", "sw"), [
    ("FF010000", SW.CLA_NOT_SUPPORTED),
    ("01010000", SW.LOGICAL_CHANNEL_NOT_SUPPORTED),
    ("41010000", SW.LOGICAL_CHANNEL_NOT_SUPPORTED),
    ("00A4", SW.WRONG_LENGTH),
    ("00A4040005AA", SW.WRONG_LENGTH),
    ("00A40400", SW.FILE_NOT_FOUND),
])
def test_core_status_words(rig: Any, hex_apdu: str, sw: int) -> None:
    assert tx(rig.card, hex_apdu).sw == sw


def test_field_loss_deactivates(rig: Any, plugins: tuple[Recorder, Recorder]) -> None:
    select(rig.card, AID_A)
    rig.card.field_off(DeactivationReason.LINK_LOSS)
    assert plugins[0].events[-1] == ("deactivated", AID_A, DeactivationReason.LINK_LOSS)
    assert tx(rig.card, "0005000000").sw == SW.UNKNOWN
    rig.card.field_on()


def test_unregister_selected_plugin_deactivates_with_deselected(rig: Any,
                                                                plugins: tuple[Recorder, Recorder]) -> None:
    select(rig.card, AID_A)
    rig.card.unregister("alpha")
    assert plugins[0].events[-1] == ("deactivated", AID_A, DeactivationReason.DESELECTED)
    assert select(rig.card, AID_A).sw == SW.FILE_NOT_FOUND


def test_ppse_lists_payment_claims(rig: Any) -> None:
    fci = select(rig.card, PPSE_AID)
    assert fci.ok
    assert find(fci.data, 0x84) == PPSE_AID
    entry = find(fci.data, 0x61)
    assert entry is not None
    assert {t.tag: t.value for t in parse(entry)} == {0x4F: AID_PAY, 0x50: b"TESTPAY", 0x87: b"\x01"}
    assert tx(rig.card, "00B2010C00").sw == SW.INS_NOT_SUPPORTED


def test_no_ppse_without_payment_claims() -> None:
    card = Card([Recorder("a", Claim(AID_A))])
    assert select(card, PPSE_AID).sw == SW.FILE_NOT_FOUND


def test_conflicting_plugins_are_reported_with_both_names() -> None:
    with pytest.raises(ClaimConflictError, match=r"'one'.*'two'"):
        Card([Recorder("one", Claim(AID_A)), Recorder("two", Claim.parse("F0000000A1*"))])


def test_conflict_on_register_changes_nothing(rig: Any) -> None:
    with pytest.raises(ClaimConflictError):
        rig.card.register(Recorder("dup", Claim(AID_A)))
    assert "dup" not in rig.card.plugins
    assert select(rig.card, AID_A).data == AID_A


def test_misspelt_hook_is_an_error() -> None:
    class Typo:
        name = "typo"

        def hcekit_proces(self) -> None: ...

    with pytest.raises(PluginLoadError, match="hcekit_proces"):
        Card([Typo()])


def test_plugin_returning_wrong_type_answers_6f00() -> None:
    class Wrong:
        name = "wrong"

        def hcekit_claims(self, plugin: Any) -> list[Claim]:
            return [Claim(AID_A)]

        def hcekit_process(self, app: Any, command: Any) -> object:
            return 42

    card = Card([Wrong()])
    select(card, AID_A)
    assert tx(card, "00010000").sw == SW.UNKNOWN


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40) | st.sampled_from([
    bytes.fromhex("00A40400 05 F0000000A1 00"), bytes.fromhex("00A4040005F0000000B1"),
    bytes.fromhex("00C00000 00"), bytes.fromhex("10010000 01 AA"), bytes.fromhex("0002000002 0400 00"),
    bytes.fromhex("00A40402 04 F0000000"),
]), max_size=12))
def test_random_sequences_never_crash_the_card(commands: list[bytes]) -> None:
    rig = loopback_rig([Recorder("a", Claim(AID_A)), Recorder("b", Claim(AID_B))])
    for raw in commands:
        response = rig.card.transceive(raw)
        assert isinstance(response, bytes) and len(response) >= 2
    rig.card.field_off()
    assert rig.card.selected is None


def test_reselecting_the_same_application_does_not_deselect(rig: Any,
                                                            plugins: tuple[Recorder, Recorder]) -> None:
    a = plugins[0]
    select(rig.card, AID_A)
    first = rig.card.selected
    select(rig.card, AID_A)
    assert [e[0] for e in a.events] == ["select", "select"]
    assert rig.card.selected is not first  # a fresh AppContext (fresh session dict)
    select(rig.card, AID_A2)  # another claim of the same plugin: a different application
    assert [e[0] for e in a.events] == ["select", "select", "select", "deselect"]


def test_a_host_may_replace_the_config() -> None:
    """vpcd caps one response at a frame's size by replacing card.config; the parts follow it."""
    card = Card([Recorder("alpha", Claim(AID_A))])
    card.field_on()
    assert card.transceive(CommandApdu(0, 0xA4, 4, 0, AID_A, 256).to_bytes())[-2:] == b"\x90\x00"
    card.config = replace(card.config, max_response_data=16, extended_length=False)
    answer = card.transceive(CommandApdu(0, INS_REPEAT, 0, 0, (40).to_bytes(2, "big"), 256).to_bytes())
    assert answer == bytes(range(16)) + b"\x61\x18"
    extended = CommandApdu(0, INS_WHO, 0, 0, b"", 1000)
    assert extended.extended and card.transceive(extended.to_bytes()) == b"\x67\x00"


# -- the partial-name walk against a model ------------------------------------------------------

_KINDS = st.sampled_from(["", "", "", "*", "#"])  # mostly exact: fewer conflicting draws
#: AIDs from a tiny alphabet, so that names and claims share prefixes often.
_AIDS = st.lists(st.sampled_from([0xF0, 0x01, 0x02]), min_size=5, max_size=7).map(bytes)


def _model_reach(name: bytes, aid: bytes, kind: str) -> bytes | None:
    """What ISO partial names + Android's claim kinds select, written out case by case."""
    whole = len(name) >= 5
    if kind == "":
        return aid if aid.startswith(name) else None
    if kind == "*":
        if whole and name.startswith(aid):
            return name
        return aid if aid.startswith(name) else None
    if aid.startswith(name):  # "#": the AID and its truncations down to 5 bytes
        return name if whole else aid
    return None


@settings(max_examples=150, deadline=None)
@given(claims=st.lists(st.tuples(_AIDS, _KINDS), min_size=1, max_size=5,
                      unique_by=lambda c: c[0]),
       cut=st.integers(1, 7), pick=st.integers(0, 4), data=st.data())
def test_first_and_next_occurrence_walk_in_aid_order_whatever_the_load_order(
        claims: list[tuple[bytes, str]], cut: int, pick: int, data: st.DataObject) -> None:
    owners = [f"p{i}" for i in range(len(claims))]
    parsed = [Claim.parse(aid.hex() + kind) for aid, kind in claims]
    try:
        probe = Card([Recorder(o, c) for o, c in zip(owners, parsed, strict=True)])
    except ClaimConflictError:
        return  # overlapping claims never make a card
    probe.close()
    name = claims[pick % len(claims)][0][:cut]
    expected = sorted((reach, owner) for owner, (aid, kind) in zip(owners, claims, strict=True)
                      if (reach := _model_reach(name, aid, kind)) is not None)
    order = data.draw(st.permutations(range(len(claims))))
    card = Card([Recorder(owners[i], parsed[i]) for i in order])
    walked = []
    response = select(card, name)
    while response.ok:
        assert card.selected is not None
        walked.append((card.selected.aid, card.selected.plugin.name))
        response = select(card, name, p2=0x02)
    assert response.sw == SW.FILE_NOT_FOUND
    assert walked == expected
    event(f"{len(walked)} occurrence(s)")


def test_a_select_ends_an_abandoned_chain_and_is_answered() -> None:
    """The routing row 'chain in progress · SELECT by DF name' (issue 31 item 10, issue 26)."""
    card = Card([Recorder("alpha", Claim(AID_A)), Recorder("beta", Claim(AID_B))])
    card.field_on()
    assert tx(card, "00A4040005" + AID_A.hex() + "00").ok
    assert tx(card, "10" + f"{INS_ECHO:02X}" + "000001AA").ok  # a chain the reader gives up
    again = tx(card, "00A4040005" + AID_B.hex() + "00")
    assert again.ok and again.data == AID_B  # answered, not 6883
    assert tx(card, "00" + f"{INS_ECHO:02X}" + "000001BB00").data == b"\xbb"  # chain gone
    assert tx(card, "10A40400" + "02" + AID_A[:2].hex()).ok  # a chained SELECT …
    whole = tx(card, "00A40400" + "03" + AID_A[2:].hex() + "00")
    assert whole.ok and whole.data == AID_A  # … is reassembled, as any chain
    assert tx(card, "10" + f"{INS_ECHO:02X}" + "000001AA").ok
    assert tx(card, "00" + f"{INS_WHO:02X}" + "000000").sw == SW.LAST_COMMAND_OF_CHAIN_EXPECTED
