"""Session cryptography: key agreement, the HKDF layout (RFC 5869 vectors), sealing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hcekit_loyalty import crypto as C
from hcekit_loyalty.testkeys import load_test_merchant_key
from hypothesis import given, settings
from hypothesis import strategies as st

RFC5869 = Path(__file__).resolve().parents[1] / "vectors" / "sm" / "hkdf_rfc5869.json"


def _keys() -> C.SessionKeys:
    return C.SessionKeys(os.urandom(16), os.urandom(32), os.urandom(32))


@pytest.mark.parametrize("case", [0, 1])
def test_session_key_layout_is_hkdf_sha256(case: int) -> None:
    """aes | hmac | ledger is the HKDF-SHA256 output stream (RFC 5869 A.1, A.2)."""
    vector = json.loads(RFC5869.read_text())["vectors"][case]
    ikm, salt, info = (bytes.fromhex(vector[k]) for k in ("ikm", "salt", "info"))
    okm = bytes.fromhex(vector["okm"])
    keys = C.derive_session_keys(ikm, salt, info[:5], info[5:])
    stream = keys.aes_key + keys.hmac_key + keys.ledger_key
    n = min(len(stream), len(okm))
    assert n >= 42 and stream[:n] == okm[:n]


def test_both_sides_derive_the_same_keys() -> None:
    merchant = load_test_merchant_key()
    device, terminal = C.new_ephemeral(), C.new_ephemeral()
    device_key, terminal_key = C.compressed(device.public_key()), C.compressed(terminal.public_key())
    signed = C.signed_data(os.urandom(32), os.urandom(32), 20180608, terminal_key)
    signature = C.sign(merchant, signed)
    assert C.verify(merchant.public_key(), signature, signed)
    card = C.derive_session_keys(C.ecdh(device, terminal_key), device_key, signed, signature)
    till = C.derive_session_keys(C.ecdh(terminal, device_key), device_key, signed, signature)
    assert card == till
    assert len(card.aes_key) == 16 and len(card.hmac_key) == 32 and len(card.ledger_key) == 32
    other = C.derive_session_keys(C.ecdh(terminal, device_key), device_key, signed,
                                  C.sign(merchant, signed))  # ECDSA is randomised
    assert other != card
    assert "redacted" in repr(card)


def test_signature_checks() -> None:
    merchant = load_test_merchant_key()
    data = os.urandom(101)
    sig = C.sign(merchant, data)
    assert C.verify(merchant.public_key(), sig, data)
    assert not C.verify(merchant.public_key(), sig, data + b"x")
    assert not C.verify(C.new_ephemeral().public_key(), sig, data)
    assert not C.verify(merchant.public_key(), b"\x30\x00", data)


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.binary(max_size=700))
def test_seal_round_trip(plaintext: bytes) -> None:
    keys = _keys()
    blob = C.seal(keys, plaintext)
    assert len(blob) == 12 + len(plaintext) + 32
    assert C.open_sealed(keys, blob) == plaintext


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_flipped_bit_is_detected(plaintext: bytes, data: st.DataObject) -> None:
    keys = _keys()
    blob = bytearray(C.seal(keys, plaintext))
    position = data.draw(st.integers(0, len(blob) - 1))
    blob[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(C.IntegrityError):
        C.open_sealed(keys, bytes(blob))


def test_wrong_keys_and_truncation_are_detected() -> None:
    keys = _keys()
    blob = C.seal(keys, b"member 42")
    with pytest.raises(C.IntegrityError):
        C.open_sealed(_keys(), blob)
    with pytest.raises(C.IntegrityError):
        C.open_sealed(keys, blob[:40])


def test_ctr_counter_block_is_iv_then_zeros() -> None:
    """Same IV, same key: the keystream is fixed (documented IV | 00000000 counter)."""
    keys = _keys()
    iv = bytes(range(12))
    a = C.seal(keys, bytes(32), iv)[12:44]
    b = C.seal(keys, b"\xff" * 32, iv)[12:44]
    assert bytes(x ^ y for x, y in zip(a, b, strict=True)) == b"\xff" * 32
    with pytest.raises(ValueError):
        C.seal(keys, b"", b"short")


def test_ledger_mac() -> None:
    keys = _keys()
    tag = C.ledger_mac(keys, b"covered")
    assert C.ledger_mac_ok(keys, b"covered", tag)
    assert not C.ledger_mac_ok(keys, b"covereD", tag)
    assert not C.ledger_mac_ok(_keys(), b"covered", tag)
