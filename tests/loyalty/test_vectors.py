"""Byte-level checks of every Smart Tap message against published examples.

The vectors (tests/vectors/loyalty/*.json) name their sources: a real device
exchange captured in kormax/google-smart-tap, and Google's sample terminal.
Each example is parsed field by field and re-encoded by our code byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hcekit.ndef import decode_message, encode_message
from hcekit_loyalty import protocol as P
from hcekit_loyalty.crypto import compressed, signed_data
from hcekit_loyalty.testkeys import TEST_COLLECTOR_ID, load_test_merchant_key

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "loyalty"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    assert data["source"], "every vector file names its source"
    return data


EX = load("smart_tap_examples.json")
H = bytes.fromhex


def test_select_ose_response_fields() -> None:
    info = P.parse_ose_fci(H(EX["select_ose_response"]))
    assert info.label == P.WALLET_LABEL == b"AndroidPay"
    assert info.device_nonce == H(EX["device_nonce"])
    assert info.device_key == H(EX["device_ephemeral_key"])
    assert info.smart_tap_aid == P.AID_SMART_TAP_2
    assert (info.min_version, info.max_version) == (0x0000, P.VERSION)


def test_our_ose_fci_has_the_captured_structure() -> None:
    ours = P.encode_ose_fci(H(EX["device_nonce"]), H(EX["device_ephemeral_key"]))
    info = P.parse_ose_fci(ours)
    assert (info.label, info.device_nonce, info.device_key, info.smart_tap_aid) == (
        b"AndroidPay", H(EX["device_nonce"]), H(EX["device_ephemeral_key"]), P.AID_SMART_TAP_2)
    # Same tag path as the capture (6F … A5/BF0C/61/73/DF4D), minus the C1/DF62 tags
    # whose meaning nobody has published.
    captured = H(EX["select_ose_response"])
    for fragment in ("500a416e64726f6964506179", "c0020001", "4f09a000000476d0000111",
                     "df4d020001"):
        assert H(fragment) in captured and H(fragment) in ours


def test_select_smart_tap_response_round_trip() -> None:
    raw = H(EX["select_smart_tap_response"])
    low, high, nonce = P.parse_select_response(raw)
    assert (low, high, nonce) == (0x0000, 0x0001, H(EX["device_nonce"]))
    assert P.encode_select_response(nonce, low, high) == raw


def test_device_keeps_nonce_and_key_across_ose_select_and_negotiate() -> None:
    """The capture shows one nonce (OSE, SELECT) and one key (OSE, NEGOTIATE) per tap:
    the behaviour our card copies."""
    ose = P.parse_ose_fci(H(EX["select_ose_response"]))
    assert P.parse_select_response(H(EX["select_smart_tap_response"]))[2] == ose.device_nonce
    assert P.NegotiateResponse.parse(H(EX["negotiate_response"])).device_key == ose.device_key


def test_negotiate_request_fields_and_round_trip() -> None:
    raw = H(EX["negotiate_request"])
    f = EX["negotiate_request_fields"]
    req = P.NegotiateRequest.parse(raw)
    assert req.version == P.VERSION
    assert req.session == P.Session(H(f["session_id"]), f["sequence"], f["status"])
    assert req.terminal_nonce == H(f["terminal_nonce"])
    assert req.live_auth is f["live_auth"]
    assert req.terminal_key == H(f["terminal_key"])
    assert req.key_version == f["key_version"]
    assert req.signature == H(f["signature"])
    assert req.collector_id == f["collector_id"]
    assert req.encode() == raw


def test_negotiate_response_round_trip() -> None:
    raw = H(EX["negotiate_response"])
    resp = P.NegotiateResponse.parse(raw)
    assert resp.session == P.Session(H("6b159a80fc8283fd"), 1, P.SessionStatus.OK)
    assert resp.device_key == H(EX["device_ephemeral_key"])
    assert resp.encode() == raw


def test_get_data_request_round_trip() -> None:
    raw = H(EX["get_data_request"])
    f = EX["get_data_request_fields"]
    req = P.ServiceRequest.parse(raw)
    assert req.session.id == H(f["session_id"]) and req.session.sequence == f["sequence"]
    assert req.collector_id == f["collector_id"]
    assert list(req.service_types) == f["service_types"]
    assert req.capabilities == H(f["capabilities"])
    assert req.zlib_supported
    assert req.encode() == raw


def test_get_data_response_structure_and_round_trip() -> None:
    raw = H(EX["get_data_response"])
    resp = P.ServiceResponse.parse(raw)
    assert resp.session.sequence == 2 and resp.session.status == P.SessionStatus.OK
    # zlib was announced in the request: the device flagged the bundle 03
    # (encrypted + compressed) — the reading recorded in assumptions.py.
    assert resp.bundle_flags == 0x03
    assert len(resp.bundle) > 12 + 32  # IV + ciphertext + HMAC
    assert resp.encode() == raw


def test_push_examples_decode_at_the_ndef_layer() -> None:
    for key in ("push_request", "push_response"):
        raw = H(EX[key])
        records = decode_message(raw)
        assert encode_message(records) == raw
    (psr,) = decode_message(H(EX["push_response"]))
    assert P.smart_tap_name(psr) == P.R_PUSH_RESPONSE
    (ses,) = decode_message(psr.payload)
    assert P.Session.parse(ses).sequence == 3


def test_signed_data_layout() -> None:
    s = EX["signature_example"]
    assert signed_data(H(s["reader_nonce"]), H(s["device_nonce"]), s["collector_id"],
                       H(s["reader_ephemeral_key"])) == H(s["data_to_sign"])


def test_signed_data_without_live_auth_zeroes_the_device_nonce() -> None:
    s = EX["signature_example"]
    blob = signed_data(H(s["reader_nonce"]), H(s["device_nonce"]), s["collector_id"],
                       H(s["reader_ephemeral_key"]), live_auth=False)
    assert blob[32:64] == bytes(32) and blob[:32] == H(s["reader_nonce"])


@pytest.mark.parametrize(("collector", "encoded"), [
    (0x01020304, "01020304"), (20180608, "0133ee80"), (0x12, "00000012"),
    (0x0102030405, "02030405"),  # public rule: more than 4 bytes -> the last 4
])
def test_collector_id_bytes(collector: int, encoded: str) -> None:
    assert P.collector_id_bytes(collector) == H(encoded)


def test_google_sample_test_collector() -> None:
    g = load("google_sample_test_collector.json")
    assert TEST_COLLECTOR_ID == g["collector_id"]
    assert P.collector_id_bytes(g["collector_id"]) == H(g["collector_id_bytes"])
    assert compressed(load_test_merchant_key().public_key()) == H(g["public_key_compressed"])
