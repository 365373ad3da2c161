"""The loyalty card and its till over loopback: happy paths and every refusal."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit import SW, Card, CommandApdu
from hcekit.errors import PluginLoadError
from hcekit.store import SqliteStore
from hcekit_loyalty import LoyaltyPlugin
from hcekit_loyalty import protocol as P
from hcekit_loyalty.crypto import compressed, ledger_mac, ledger_signed_data, sign
from hcekit_loyalty.status import SmartTapSW
from hcekit_loyalty.testkeys import TEST_COLLECTOR_ID, TEST_PROGRAM_NAME
from hcekit_loyalty.till import MerchantCredentials, SmartTapTill, TillError

from .conftest import LoyaltyRig, RigMaker


def merchant(collector: int) -> tuple[MerchantCredentials, dict[str, Any]]:
    key = ec.generate_private_key(ec.SECP256R1())
    entry = {"collector_id": collector, "name": f"shop {collector}",
             "merchant_keys": {"1": compressed(key.public_key()).hex()},
             "member_id": f"M-{collector}", "balance": 50}
    return MerchantCredentials(collector, 1, key), entry


def open_session(r: LoyaltyRig, creds: MerchantCredentials | None = None) -> SmartTapTill:
    till = SmartTapTill(r.terminal, creds or MerchantCredentials.test())
    r.terminal.connect()
    till.select()
    till.negotiate()
    till.get_data()
    return till


def test_default_test_program_is_labelled(lrig: LoyaltyRig) -> None:
    (program,) = lrig.book.all()
    assert program.test and program.name == TEST_PROGRAM_NAME
    assert program.collector_id == TEST_COLLECTOR_ID
    assert program.member_id.startswith(b"TEST-")


def test_till_earns_redeems_and_reads(lrig: LoyaltyRig) -> None:
    member = lrig.book.get(TEST_COLLECTOR_ID).member_id.decode()  # type: ignore[union-attr]
    assert lrig.till(op="earn", points="25") == 0
    assert f"Member ID: {member}" in lrig.last_output
    assert "balance 25" in lrig.last_output
    assert lrig.till(op="redeem", points="7") == 0
    assert "Redeemed 7 points: balance 18 (ledger counter 2)" in lrig.last_output
    assert lrig.till(op="read") == 0
    assert "balance: 18 points" in lrig.last_output
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 18
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 2


def test_demo_script_is_offered_by_the_installed_plugin() -> None:
    card = Card.with_installed_plugins(only=["loyalty"])
    scripts = [s for group in card.plugin_manager.hook.hcekit_terminal_scripts() for s in group]
    till = [s for s in scripts if s.name == "loyalty-till"]
    assert len(till) == 1 and till[0].demo
    card.close()


def test_session_keys_agree_on_both_sides(lrig: LoyaltyRig) -> None:
    till = open_session(lrig)
    tap = lrig.plugin.applet._tap
    assert tap is not None and tap.secure is not None and till._session is not None
    assert tap.secure.keys == till._session.keys


def test_card_answers_only_programs_it_holds(make_rig: RigMaker) -> None:
    shop_a, entry_a = merchant(11111111)
    shop_b, entry_b = merchant(22222222)
    r = make_rig({"programs": [entry_a, entry_b]})
    assert sorted(r.book.collector_ids()) == [11111111, 22222222]  # no TEST program
    assert r.till({"merchant": shop_a}, op="read") == 0
    assert "Member ID: M-11111111  balance: 50 points" in r.last_output
    assert r.till({"merchant": shop_b}, op="redeem", points="20") == 0
    assert "balance 30" in r.last_output
    assert r.book.balance(11111111) == 50
    assert r.till(op="read") == 1  # the TEST collector: not held
    assert "REJECTED" in r.last_output and "9303" in r.last_output


def test_test_program_can_sit_beside_configured_ones(make_rig: RigMaker) -> None:
    _, entry = merchant(33333333)
    r = make_rig({"programs": [entry], "test_program": True})
    assert sorted(r.book.collector_ids()) == [TEST_COLLECTOR_ID, 33333333]


def test_wrong_merchant_key_is_reported(lrig: LoyaltyRig) -> None:
    impostor = MerchantCredentials(TEST_COLLECTOR_ID, 1, ec.generate_private_key(ec.SECP256R1()))
    assert lrig.till({"merchant": impostor}) == 1
    assert "refused the merchant key" in lrig.last_output
    assert SmartTapSW.AUTHENTICATION_FAILED in lrig.sws()
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 0


def test_unknown_key_version_is_refused(lrig: LoyaltyRig) -> None:
    assert lrig.till(key_version="2") == 1
    assert "9302" in lrig.last_output


def _flip_in_bundle(target_ins: int) -> Any:
    def mutate(command: bytes, response: bytes) -> bytes:
        if len(command) > 1 and command[1] == target_ins and len(response) > 40:
            body = bytearray(response)
            body[-10] ^= 0x01  # inside the HMAC'd bundle
            return bytes(body)
        return response
    return mutate


def test_tampered_get_data_response_is_reported(lrig: LoyaltyRig) -> None:
    lrig.transport.mutate = _flip_in_bundle(P.INS_GET_DATA)
    assert lrig.till(op="earn") == 1
    assert "GET DATA: response failed its integrity check" in lrig.last_output
    assert P.INS_PUSH_DATA not in [c[1] for c, _ in lrig.transport.log]  # nothing else sent
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 0


def test_tampered_push_response_is_reported(lrig: LoyaltyRig) -> None:
    lrig.transport.mutate = _flip_in_bundle(P.INS_PUSH_DATA)
    assert lrig.till(op="earn", points="5") == 1
    assert "PUSH DATA: response failed its integrity check" in lrig.last_output


def test_tampered_push_request_is_refused_by_the_card(lrig: LoyaltyRig) -> None:
    def more_points(command: bytes) -> bytes:
        if command[1] == P.INS_PUSH_DATA:
            request, _, _ = P.PushRequest.parse(CommandApdu.parse(command).data)
            forged = replace(request, points=request.points + 1000)
            return CommandApdu(0x90, P.INS_PUSH_DATA, 0, 0, forged.encode(), 256).to_bytes()
        return command
    lrig.transport.rewrite = more_points
    assert lrig.till(op="earn", points="5") == 1
    assert "9302" in lrig.last_output
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 0
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 0


def test_replayed_push_apdu_is_refused(lrig: LoyaltyRig) -> None:
    till = open_session(lrig)
    assert till.update(P.UpdateOperation.ADD_BALANCE, 5).balance == 5
    push = next(c for c, _ in reversed(lrig.transport.log) if c[1] == P.INS_PUSH_DATA)
    # Same session: the session sequence has moved on.
    assert lrig.terminal.transmit(push).sw == SmartTapSW.INVALID_SEQUENCE
    lrig.terminal.disconnect()
    # A later session: another session ID.
    till = open_session(lrig)
    assert till._session is not None
    assert lrig.terminal.transmit(push).sw == SmartTapSW.INVALID_SEQUENCE
    # Re-targeted at the new session with the old MAC: the new session key rejects it.
    old, _, _ = P.PushRequest.parse(CommandApdu.parse(push).data)
    retarget = replace(old, session=till._session.record)
    answer = lrig.terminal.transmit(CommandApdu(0x90, 0x52, 0, 0, retarget.encode(), 256))
    assert answer.sw == SmartTapSW.AUTHENTICATION_FAILED
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 5
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 1
    lrig.terminal.disconnect()


def _push(r: LoyaltyRig, till: SmartTapTill, counter: int, points: int = 3,
          op: int = P.UpdateOperation.ADD_BALANCE,
          signer: ec.EllipticCurvePrivateKey | None = None) -> int:
    """Send a well-formed, signed and MAC'd ledger update with a chosen counter."""
    session = till._session
    assert session is not None and session.loyalty is not None
    bare = P.PushRequest(session.record, session.loyalty.object_id, op, points, counter)
    key = signer or till.merchant.private_key
    signed = replace(bare, signature=sign(key, ledger_signed_data(till.device_nonce,
                                                                   bare.signed_part())))
    request = replace(signed, mac=ledger_mac(session.keys, signed.authenticated_part()))
    return r.terminal.transmit(CommandApdu(0x90, 0x52, 0, 0, request.encode(), 256)).sw


def test_ledger_update_must_be_signed_with_the_merchant_key(lrig: LoyaltyRig) -> None:
    """Session keys alone (a till that lost the merchant key mid-session) are not enough."""
    till = open_session(lrig)
    assert _push(lrig, till, 1, signer=ec.generate_private_key(ec.SECP256R1())) == \
        SmartTapSW.AUTHENTICATION_FAILED
    assert lrig.plugin.applet._tap is not None and lrig.plugin.applet._tap.secure is None  # session dropped
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 0
    lrig.terminal.disconnect()


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_ledger_counter_must_be_the_next_one(lrig: LoyaltyRig, offset: int) -> None:
    assert lrig.till(op="earn", points="4") == 0  # counter is now 1
    till = open_session(lrig)
    assert _push(lrig, till, 1 + offset) == SmartTapSW.INVALID_SEQUENCE
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 1
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 4
    lrig.terminal.disconnect()


def test_same_session_sequence_must_advance(lrig: LoyaltyRig) -> None:
    till = open_session(lrig)
    assert _push(lrig, till, 1) == SW.NO_ERROR
    # till._session.record was not advanced by _push: the stale sequence is refused.
    assert _push(lrig, till, 2) == SmartTapSW.INVALID_SEQUENCE
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 3
    lrig.terminal.disconnect()


def test_redeeming_more_than_the_balance_is_refused(lrig: LoyaltyRig) -> None:
    assert lrig.till(op="earn", points="10") == 0
    assert lrig.till(op="redeem", points="11") == 1
    assert "Refused by the card (INVALID_VALUE): balance stays 10 points" in lrig.last_output
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 10
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 2  # authenticated, so consumed


def test_commands_need_a_negotiated_session(lrig: LoyaltyRig) -> None:
    t = lrig.terminal
    with t.tap():
        assert t.select(P.AID_SMART_TAP_2).ok
        req = P.ServiceRequest(P.Session(bytes(8), 2), TEST_COLLECTOR_ID)
        assert t.transmit(CommandApdu(0x90, 0x50, 0, 0, req.encode(), 256)).sw == \
            SmartTapSW.SESSION_REQUIRED
        assert t.transmit(CommandApdu(0x90, 0x52, 0, 0, b"\x00", 256)).sw == \
            SmartTapSW.SESSION_REQUIRED
        assert t.transmit(CommandApdu(0x90, 0xC0, 0, 0, b"", 256)).sw == \
            SW.CONDITIONS_OF_USE_NOT_SATISFIED


@pytest.mark.parametrize(("apdu", "sw"), [
    ("8053000001ff00", SW.CLA_NOT_SUPPORTED),
    ("9053010001ff00", SW.INCORRECT_P1P2),
    ("90aa000000", SW.INS_NOT_SUPPORTED),
    ("9053000003d4000000", SmartTapSW.FORMAT_INVALID),
    ("9053000007d403016e67720000", SmartTapSW.FORMAT_INVALID),
])
def test_malformed_commands_get_precise_status_words(lrig: LoyaltyRig, apdu: str, sw: int) -> None:
    with lrig.terminal.tap():
        assert lrig.terminal.select(P.AID_OSE).ok
        assert lrig.terminal.transmit(apdu).sw == sw
        assert lrig.terminal.select(P.AID_OSE).ok  # the card keeps serving


def test_negotiate_version_and_sequence_checks(lrig: LoyaltyRig) -> None:
    till = open_session(lrig)
    session = till._session
    assert session is not None
    wrong_seq = P.ServiceRequest(P.Session(session.record.id, session.record.sequence + 5),
                                 TEST_COLLECTOR_ID)
    assert lrig.terminal.transmit(
        CommandApdu(0x90, 0x50, 0, 0, wrong_seq.encode(), 256)).sw == SmartTapSW.INVALID_SEQUENCE
    other = P.ServiceRequest(session.record, 999)
    assert lrig.terminal.transmit(
        CommandApdu(0x90, 0x50, 0, 0, other.encode(), 256)).sw == SmartTapSW.UNKNOWN_MERCHANT
    v2 = P.ServiceRequest(session.record, TEST_COLLECTOR_ID, version=2)
    assert lrig.terminal.transmit(
        CommandApdu(0x90, 0x50, 0, 0, v2.encode(), 256)).sw == SmartTapSW.UNSUPPORTED_VERSION
    lrig.terminal.disconnect()


def test_field_loss_ends_the_session(lrig: LoyaltyRig) -> None:
    till = open_session(lrig)
    session = till._session
    assert session is not None
    first_nonce = till.device_nonce
    lrig.terminal.disconnect()
    lrig.terminal.connect()
    assert lrig.terminal.select(P.AID_SMART_TAP_2).ok
    req = P.ServiceRequest(session.record, TEST_COLLECTOR_ID)
    assert lrig.terminal.transmit(CommandApdu(0x90, 0x50, 0, 0, req.encode(), 256)).sw == \
        SmartTapSW.SESSION_REQUIRED
    till.select()
    assert till.device_nonce != first_nonce
    lrig.terminal.disconnect()


def test_presigned_session_reads_but_cannot_touch_the_ledger(lrig: LoyaltyRig) -> None:
    till = SmartTapTill(lrig.terminal, live_auth=False)
    with lrig.terminal.tap():
        till.select()
        till.negotiate()
        assert SmartTapSW.OK_PRESIGNED_AUTH in lrig.sws()
        assert till.get_data().loyalty
        with pytest.raises(TillError, match="9302"):
            till.update(P.UpdateOperation.ADD_BALANCE, 5)
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 0


def test_long_answers_use_smart_tap_chaining(make_rig: RigMaker) -> None:
    creds, entry = merchant(44444444)
    entry["offers"] = [f"OFFER-{i:02d}-" + "X" * 30 for i in range(12)]
    r = make_rig({"programs": [entry]})
    till = SmartTapTill(r.terminal, creds)
    with r.terminal.tap():
        till.select()
        till.negotiate()
        objects = till.get_data()
    assert [o.code.decode() for o in objects.offers] == entry["offers"]
    assert SmartTapSW.MORE_DATA in r.sws()
    assert any(c[:2] == b"\x90\xc0" for c, _ in r.transport.log)


def test_bundle_is_compressed_only_when_the_till_says_so(lrig: LoyaltyRig,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def flags() -> int:
        raw = next(r for c, r in reversed(lrig.transport.log) if c[1] == P.INS_GET_DATA)
        return P.ServiceResponse.parse(raw[:-2]).bundle_flags

    assert lrig.till(op="read") == 0
    assert flags() == 0x03
    monkeypatch.setattr("hcekit_loyalty.till.POS_CAPABILITIES", bytes(5))
    assert lrig.till(op="read") == 0
    assert flags() == 0x01


def test_ledger_survives_a_restart(make_rig: RigMaker, tmp_path: Any) -> None:
    path = tmp_path / "card.db"
    store = SqliteStore(path)
    first = make_rig(store=store)
    assert first.till(op="earn", points="12") == 0
    member = first.book.get(TEST_COLLECTOR_ID).member_id  # type: ignore[union-attr]
    first.rig.close()
    store.close()  # one owner at a time: the next card opens the store again
    second = make_rig(store=SqliteStore(path))
    assert second.book.get(TEST_COLLECTOR_ID).member_id == member  # type: ignore[union-attr]
    assert second.till(op="redeem", points="2") == 0
    assert "balance 10 (ledger counter 2)" in second.last_output


def test_a_failing_write_leaves_the_ledger_as_it_was(lrig: LoyaltyRig,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert lrig.till(op="earn", points="8") == 0
    store = lrig.book.store
    real = store.set_int

    def failing(key: str, value: int) -> None:
        real(key, value)
        if key.startswith("balance/"):
            raise OSError("simulated power loss during the ledger write")
    monkeypatch.setattr(store, "set_int", failing)
    assert lrig.till(op="earn", points="5") == 1
    monkeypatch.setattr(store, "set_int", real)
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 8
    assert lrig.book.counter(TEST_COLLECTOR_ID) == 1
    assert lrig.till(op="earn", points="5") == 0  # and the card still works
    assert lrig.book.balance(TEST_COLLECTOR_ID) == 13


@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "x"}, "collector_id"),
    ({"collector_id": 1}, "merchant_keys"),
    ({"collector_id": 1, "merchant_keys": {"1": "zz"}}, "key version 1"),
    ({"collector_id": 2**33, "merchant_keys": {"1": "00"}}, "4 bytes"),
])
def test_bad_program_options_stop_the_card_with_a_reason(entry: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(PluginLoadError, match=message):
        Card([LoyaltyPlugin()], options={"loyalty": {"programs": [entry]}})


def test_command_line_options_are_text(make_rig: RigMaker) -> None:
    """``--option`` values arrive as strings: programs as JSON, test_program as a word."""
    creds, entry = merchant(66666666)
    r = make_rig({"programs": json.dumps([entry]), "test_program": "yes"})
    assert sorted(r.book.collector_ids()) == [TEST_COLLECTOR_ID, 66666666]
    assert r.till({"merchant": creds}, op="read") == 0
    with pytest.raises(PluginLoadError, match="test_program"):
        Card([LoyaltyPlugin()], options={"loyalty": {"test_program": "maybe"}})
    with pytest.raises(PluginLoadError, match="JSON"):
        Card([LoyaltyPlugin()], options={"loyalty": {"programs": "[{"}})


def test_key_rotation_both_versions_accepted(make_rig: RigMaker) -> None:
    old_key, new_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    entry = {"collector_id": 77777777, "member_id": "ROT-1", "merchant_keys": {
        "1": compressed(old_key.public_key()).hex(), "2": compressed(new_key.public_key()).hex()}}
    r = make_rig({"programs": [entry]})
    assert r.till({"merchant": MerchantCredentials(77777777, 2, new_key)}, op="earn") == 0
    assert r.till({"merchant": MerchantCredentials(77777777, 1, old_key)}, op="earn") == 0
    # the old key under the new version number is refused
    assert r.till({"merchant": MerchantCredentials(77777777, 2, old_key)}, op="earn") == 1
    assert r.book.balance(77777777) == 20


@pytest.mark.parametrize(("types", "sw", "customer", "loyalty"), [
    ((P.ServiceType.GIFT_CARD,), SmartTapSW.OK_NO_PASSES, False, False),
    ((P.ServiceType.WALLET_CUSTOMER,), SmartTapSW.OK_NO_PASSES, True, False),
    ((P.ServiceType.LOYALTY,), SW.NO_ERROR, False, True),
    ((P.ServiceType.ALL,), SW.NO_ERROR, True, True),
])
def test_service_type_selection(lrig: LoyaltyRig, types: tuple[int, ...], sw: int,
                                customer: bool, loyalty: bool) -> None:
    till = SmartTapTill(lrig.terminal)
    with lrig.terminal.tap():
        till.select()
        till.negotiate()
        objects = till.get_data(types)
    assert lrig.sws()[-1] == sw
    assert (objects.customer is not None, bool(objects.loyalty)) == (customer, loyalty)
    if customer:
        program = lrig.book.get(TEST_COLLECTOR_ID)
        assert program is not None and objects.customer is not None
        assert objects.customer.customer_id == program.customer_id
