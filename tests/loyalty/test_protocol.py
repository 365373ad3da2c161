"""Every Smart Tap message: encode → parse is the identity; junk gets 'format invalid' only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hcekit_loyalty import protocol as P
from hcekit_loyalty.status import SmartTapSW
from hypothesis import given, settings
from hypothesis import strategies as st

b8 = st.binary(min_size=8, max_size=8)
b32 = st.binary(min_size=32, max_size=32)
u8 = st.integers(0, 255)
u32 = st.integers(0, 2**32 - 1)
sessions = st.builds(P.Session, b8, u8, u8)
codes = st.binary(min_size=1, max_size=40)


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(sessions, b32, st.booleans(), st.binary(min_size=33, max_size=33), u32,
       st.binary(min_size=8, max_size=72), u32)
def test_negotiate_request(session: P.Session, nonce: bytes, live: bool, key: bytes,
                           version: int, sig: bytes, collector: int) -> None:
    msg = P.NegotiateRequest(session, nonce, live, key, version, sig, collector)
    assert P.NegotiateRequest.parse(msg.encode()) == msg


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(sessions, u32, st.lists(u8, min_size=1, max_size=5),
       st.one_of(st.none(), st.binary(min_size=5, max_size=5)))
def test_service_request(session: P.Session, collector: int, types: list[int],
                         caps: bytes | None) -> None:
    msg = P.ServiceRequest(session, collector, tuple(types), caps)
    assert P.ServiceRequest.parse(msg.encode()) == msg


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.lists(st.builds(P.LoyaltyObject, b8, codes, st.one_of(st.none(), u32),
                          st.one_of(st.none(), u32)), max_size=2),
       st.lists(st.builds(P.OfferObject, b8, codes), max_size=3),
       st.one_of(st.none(), st.builds(P.CustomerObject, st.binary(min_size=16, max_size=16))))
def test_service_objects(loyalty: list[P.LoyaltyObject], offers: list[P.OfferObject],
                         customer: P.CustomerObject | None) -> None:
    objects = P.ServiceObjects(loyalty, offers, customer)
    if not (loyalty or offers or customer):
        with pytest.raises(ValueError):
            objects.encode()
        return
    assert P.ServiceObjects.parse(objects.encode()) == objects


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(sessions, b8, u8, u32, u32, st.binary(min_size=8, max_size=72),
       st.binary(min_size=32, max_size=32))
def test_push_request_and_its_covered_bytes(session: P.Session, oid: bytes, op: int,
                                            points: int, counter: int, sig: bytes,
                                            mac: bytes) -> None:
    msg = P.PushRequest(session, oid, op, points, counter, sig, mac)
    parsed, signed, covered = P.PushRequest.parse(msg.encode())
    assert parsed == msg
    assert signed == msg.signed_part() and covered == msg.authenticated_part()
    assert covered.startswith(signed) and len(covered) > len(signed)


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(b8, u8, u32, u32)
def test_ledger_result(oid: bytes, status: int, balance: int, counter: int) -> None:
    msg = P.LedgerResult(oid, status, balance, counter)
    assert P.LedgerResult.parse(msg.encode()) == msg


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(sessions, u8, st.binary(max_size=300))
def test_service_and_push_responses(session: P.Session, flags: int, bundle: bytes) -> None:
    assert P.ServiceResponse.parse(P.ServiceResponse(session, flags, bundle).encode()) == \
        P.ServiceResponse(session, flags, bundle)
    assert P.PushResponse.parse(P.PushResponse(session, flags, bundle).encode()) == \
        P.PushResponse(session, flags, bundle)


CARD_PARSERS: list[Callable[[bytes], Any]] = [
    P.NegotiateRequest.parse, P.ServiceRequest.parse, P.PushRequest.parse,
]
SAMPLES = [
    P.NegotiateRequest(P.Session(bytes(8), 1), bytes(32), True, bytes(33), 1, bytes(70), 7).encode(),
    P.ServiceRequest(P.Session(bytes(8), 2), 7, (0, 3), bytes(5)).encode(),
    P.PushRequest(P.Session(bytes(8), 3), bytes(8), 3, 10, 1, bytes(70), bytes(32)).encode(),
]


@pytest.mark.parametrize("index", range(3))
@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(data=st.data())
def test_damaged_requests_only_ever_answer_format_invalid(index: int, data: st.DataObject) -> None:
    raw = bytearray(SAMPLES[index])
    action = data.draw(st.sampled_from(["truncate", "flip", "junk"]))
    if action == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif action == "flip":
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    else:
        raw = bytearray(data.draw(st.binary(max_size=80)))
    try:
        CARD_PARSERS[index](bytes(raw))
    except P.SmartTapFormatError as exc:
        assert exc.sw == SmartTapSW.FORMAT_INVALID


def test_service_number_as_rtd_text() -> None:
    """Google's service-object table allows ``n`` as RTD_TEXT (well-known ``T``, ID ``n``)."""
    from hcekit.ndef import NdefRecord, Tnf, encode_message

    fields = encode_message([
        NdefRecord.external(b"oid", b"\x04" + bytes(8), b"oid"),
        NdefRecord(Tnf.WELL_KNOWN, b"T", b"\x02en" + b"MEMBER-9", b"n"),
    ])
    bundle = encode_message([NdefRecord.external(b"asv", encode_message([
        NdefRecord.external(b"ly", fields)]))])
    (card,) = P.ServiceObjects.parse(bundle).loyalty
    assert card.member_id == b"MEMBER-9" and card.balance is None


def test_smart_tap_names_and_lookup() -> None:
    from hcekit.ndef import NdefRecord, Tnf

    well_known = NdefRecord(Tnf.WELL_KNOWN, b"T", b"\x02enUSD", b"ccd")
    external = NdefRecord.external(b"mdn", b"\x04" + bytes(32), b"mdn")
    assert P.smart_tap_name(well_known) == b"ccd" and P.smart_tap_name(external) == b"mdn"
    assert P.find_record([well_known, external], b"ccd") is well_known
    assert P.find_record([well_known, external], b"T") is well_known
    assert P.find_record([well_known], b"xyz") is None
