"""Known-answer tests for the crypto building blocks, from public vector files."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hcekit.sm import (
    CounterLocation,
    SmError,
    aes_cmac,
    aes_cmac_chained,
    cmac_subkeys,
    decode_point,
    diversification_input,
    diversify_aes128,
    ecdsa_sign,
    ecdsa_verify,
    encode_point,
    ephemeral_ephemeral,
    ephemeral_static,
    generate_p256,
    hkdf,
    kbkdf_cmac,
    load_p256_private,
    pad,
    scp03_derive,
    shared_secret,
    tags_equal,
    unpad,
    x963_kdf,
    zero_pad,
)
from hcekit.sw import SW
from hypothesis import given
from hypothesis import strategies as st

from .sm_vectors import ids as _ids
from .sm_vectors import load as _load

CMAC = _load("aes_cmac_sp800_38b.json")["vectors"]
HKDF = _load("hkdf_rfc5869.json")["vectors"]
KBKDF = _load("kbkdf_ctr_cmac_aes128.json")["vectors"]
X963 = _load("x963_kdf_sha256.json")["vectors"]
AN10922 = _load("an10922_aes128.json")["vectors"]
P256 = _load("p256_ecdh_ecdsa.json")


@pytest.mark.parametrize("v", CMAC, ids=_ids(CMAC))
def test_aes_cmac_sp800_38b(v: dict[str, Any]) -> None:
    assert aes_cmac(bytes.fromhex(v["key"]), bytes.fromhex(v["message"])).hex() == v["tag"]


@pytest.mark.parametrize("v", HKDF, ids=_ids(HKDF))
def test_hkdf_rfc5869(v: dict[str, Any]) -> None:
    salt = bytes.fromhex(v["salt"]) or None
    okm = hkdf(bytes.fromhex(v["ikm"]), v["length"], salt=salt, info=bytes.fromhex(v["info"]),
               hash_name=v["hash"])
    assert okm.hex() == v["okm"]


@pytest.mark.parametrize("v", KBKDF, ids=_ids(KBKDF))
def test_kbkdf_cmac_counter_before_fixed(v: dict[str, Any]) -> None:
    ko = kbkdf_cmac(bytes.fromhex(v["ki"]), bytes.fromhex(v["fixed"]), v["l_bits"] // 8,
                    counter_bytes=v["rlen_bits"] // 8, location=CounterLocation.BeforeFixed)
    assert ko.hex() == v["ko"]


SCP03 = _load("scp03_card_traces_pysim.json")["vectors"]


@pytest.mark.parametrize("v", SCP03, ids=_ids(SCP03))
def test_scp03_derivation_reproduces_real_card_cryptograms(v: dict[str, Any]) -> None:
    k_mac = bytes.fromhex(v["k_mac"])
    host = bytes.fromhex(v["initialize_update"])[5:13]
    response = bytes.fromhex(v["initialize_update_response"])
    card, card_cryptogram = response[13:21], response[21:29]
    context = host + card
    s_mac = scp03_derive(k_mac, 0x06, context, len(k_mac) * 8)
    assert scp03_derive(s_mac, 0x00, context, 64) == card_cryptogram
    host_cryptogram = bytes.fromhex(v["external_authenticate"])[5:13]
    assert scp03_derive(s_mac, 0x01, context, 64) == host_cryptogram


def test_scp03_layout_is_sp800_108_with_the_counter_after_the_length() -> None:
    # The SCP03 layout places the 1-byte counter between [L]2 and the context:
    # check it against the generic KDF with the same bytes laid out by hand.
    key = bytes(range(16))
    context = bytes.fromhex("0102030405060708" "1112131415161718")
    derived = scp03_derive(key, 0x04, context, 128)
    fixed = bytes(11) + b"\x04" + b"\x00" + (128).to_bytes(2, "big") + context
    by_hand = kbkdf_cmac(key, fixed, 16, location=CounterLocation.MiddleFixed,
                         break_location=15)
    assert derived == by_hand
    assert scp03_derive(key, 0x06, context, 128) != derived  # constants separate keys
    assert len(scp03_derive(key, 0x00, context, 64)) == 8


@pytest.mark.parametrize("v", X963, ids=_ids(X963))
def test_x963_kdf(v: dict[str, Any]) -> None:
    out = x963_kdf(bytes.fromhex(v["z"]), len(v["key_data"]) // 2,
                   bytes.fromhex(v["shared_info"]))
    assert out.hex() == v["key_data"]


@pytest.mark.parametrize("v", AN10922, ids=_ids(AN10922))
def test_an10922_diversification(v: dict[str, Any]) -> None:
    m = diversification_input(bytes.fromhex(v["uid"]), bytes.fromhex(v["aid"]),
                              bytes.fromhex(v["system_identifier"]))
    assert diversify_aes128(bytes.fromhex(v["master_key"]), m).hex() == v["diversified_key"]


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=31))
def test_an10922_equals_plain_cmac_for_long_inputs(key: bytes, m: bytes) -> None:
    # From 16 bytes of input on, 01 ‖ M is longer than one block and AN10922 is plain CMAC.
    assert diversify_aes128(key, m) == aes_cmac(key, b"\x01" + m)


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=1, max_size=15))
def test_an10922_short_inputs_differ_from_cmac_but_are_deterministic(key: bytes,
                                                                    m: bytes) -> None:
    k = diversify_aes128(key, m)
    assert len(k) == 16 and k == diversify_aes128(key, m)
    assert k != aes_cmac(key, b"\x01" + m)  # 32-byte padding, not 16


def test_an10922_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match=r"1\.\.31"):
        diversify_aes128(bytes(16), bytes(32))
    with pytest.raises(ValueError, match="16-byte key"):
        diversify_aes128(bytes(24), b"\x01")


def test_p256_ecdh_cavs() -> None:
    (v,) = P256["ecdh"]
    own = load_p256_private(bytes.fromhex(v["d_iut"]))
    assert own.public_point == bytes.fromhex("04" + v["qiut_x"] + v["qiut_y"])
    peer = bytes.fromhex("04" + v["qcavs_x"] + v["qcavs_y"])
    assert shared_secret(own, peer).hex() == v["z_iut"]


def test_ecdsa_verifies_rfc6979_signature_and_rejects_tampering() -> None:
    (v,) = P256["ecdsa"]
    key = load_p256_private(bytes.fromhex(v["private"]))
    point = bytes.fromhex("04" + v["ux"] + v["uy"])
    assert key.public_point == point
    message = v["message_ascii"].encode()
    signature = bytes.fromhex(v["r"] + v["s"])
    assert ecdsa_verify(point, message, signature)
    assert not ecdsa_verify(point, b"samplf", signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not ecdsa_verify(point, message, flipped)


def test_ecdsa_sign_round_trip_raw_and_der() -> None:
    key = generate_p256()
    raw = ecdsa_sign(key, b"tap")
    assert len(raw) == 64 and ecdsa_verify(key.public_point, b"tap", raw)
    der = ecdsa_sign(key, b"tap", raw=False)
    assert ecdsa_verify(key.public_point, b"tap", der, raw=False)
    assert not ecdsa_verify(generate_p256().public_point, b"tap", raw)


def test_ecdh_ephemeral_static_and_ephemeral_ephemeral_agree() -> None:
    card_static = generate_p256()
    eph_point, reader_keys = ephemeral_static(card_static.public_point, 32, b"ctx")
    assert ephemeral_ephemeral(card_static, eph_point, 32, b"ctx") == reader_keys
    a, b = generate_p256(), generate_p256()
    assert ephemeral_ephemeral(a, b.public_point) == ephemeral_ephemeral(b, a.public_point)
    assert "private" not in repr(a).lower() or "public" in repr(a).lower()


def test_invalid_point_is_rejected() -> None:
    point = bytearray(generate_p256().public_point)
    point[-1] ^= 1  # off the curve
    with pytest.raises(ValueError, match="P-256"):
        decode_point(bytes(point))
    assert decode_point(encode_point(decode_point(generate_p256().public_point)))


@given(st.binary(max_size=64), st.sampled_from([8, 16]))
def test_padding_round_trip(data: bytes, block: int) -> None:
    padded = pad(data, block)
    assert len(padded) % block == 0 and len(padded) > len(data)
    assert unpad(padded, block) == data


@pytest.mark.parametrize("bad", ["", "0000000000000000", "8000000000000001",
                                 "01800000000000000000000000000000"])
def test_bad_padding_is_6988(bad: str) -> None:
    with pytest.raises(SmError) as info:
        unpad(bytes.fromhex(bad), 8)
    assert info.value.sw == SW.SM_DATA_OBJECTS_INCORRECT


def test_tags_equal() -> None:
    assert tags_equal(b"\x01" * 8, b"\x01" * 8)
    assert not tags_equal(b"\x01" * 8, b"\x01" * 7 + b"\x00")


@pytest.mark.parametrize("v", CMAC, ids=_ids(CMAC))
def test_chained_cmac_from_zero_is_sp800_38b(v: dict[str, Any]) -> None:
    key, message = bytes.fromhex(v["key"]), bytes.fromhex(v["message"])
    assert aes_cmac_chained(key, message) == bytes.fromhex(v["tag"])
    assert aes_cmac_chained(key, message, subkeys=cmac_subkeys(key)) == bytes.fromhex(v["tag"])


@given(st.binary(min_size=16, max_size=16), st.integers(1, 3), st.binary(min_size=1, max_size=40))
def test_chained_cmac_continues_a_cbc_chain(key: bytes, blocks: int, tail: bytes) -> None:
    """CMAC(A ‖ B) = CMAC of B started from the CBC state after A: what EV1's session IV is."""
    head = bytes(range(16 * blocks))
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    state = (enc.update(head) + enc.finalize())[-16:]
    assert aes_cmac_chained(key, tail, state) == aes_cmac(key, head + tail)


def test_chained_cmac_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="start value"):
        aes_cmac_chained(bytes(16), b"x", bytes(8))
    with pytest.raises(ValueError, match="multiple of 16"):
        aes_cmac_chained(bytes(16), b"x", pad_to=24)


def test_zero_padding_is_method_1() -> None:
    assert zero_pad(b"\x01" * 8, 8) == b"\x01" * 8
    assert zero_pad(b"\x01" * 9, 8) == b"\x01" * 9 + bytes(7)
    assert zero_pad(b"", 16) == b""
    assert pad(b"\x01" * 8, 8) == b"\x01" * 8 + b"\x80" + bytes(7)
    assert pad(b"", 8) == b"\x80" + bytes(7)
