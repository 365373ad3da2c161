"""Known-answer tests for the card's key derivation and cryptograms (public vectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hcekit_payment.cryptogram import (
    CVN,
    CryptogramType,
    TransactionData,
    application_cryptogram,
    cvn_from_iad,
    icc_master_key,
    issuer_application_data,
)
from hcekit_payment.keys import (
    derive_common_session_key,
    derive_icc_master_key_a,
    derive_icc_master_key_b,
    key_check_value,
    odd_parity,
)

VECTORS = Path(__file__).parents[1] / "vectors" / "emv_visa_cvn10_cvn18_ac.json"
DATA_ORDER = ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37")


def _vectors() -> list[dict[str, Any]]:
    loaded = json.loads(VECTORS.read_text())
    assert "pyemv" in loaded["source"]
    vectors: list[dict[str, Any]] = loaded["vectors"]
    return vectors


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"cvn{v['cvn']}")
def test_published_arqc_vector(vector: dict[str, Any]) -> None:
    cvn = CVN(vector["cvn"])
    imk = bytes.fromhex(vector["imk"])
    mk = icc_master_key(cvn, imk, vector["pan"], vector["psn"])
    assert key_check_value(mk, 2).hex().upper() == vector["icc_mk_kcv"]
    atc = bytes.fromhex(vector["atc"])
    if cvn is CVN.VISA_18:
        sk = derive_common_session_key(mk, atc)
        assert key_check_value(sk, 2).hex().upper() == vector["session_key_kcv"]
    data = TransactionData(*(bytes.fromhex(vector["data"][tag]) for tag in DATA_ORDER))
    ac = application_cryptogram(cvn, mk, data, bytes.fromhex(vector["aip"]), atc,
                                bytes.fromhex(vector["iad"]))
    assert ac.hex().upper() == vector["arqc"]


def test_any_changed_input_changes_the_cryptogram() -> None:
    vector = _vectors()[1]
    mk = icc_master_key(CVN.VISA_18, bytes.fromhex(vector["imk"]), vector["pan"], "00")
    fields = [bytes.fromhex(vector["data"][tag]) for tag in DATA_ORDER]
    base = application_cryptogram(CVN.VISA_18, mk, TransactionData(*fields), b"\x18\x00",
                                  b"\x00\x1c", bytes.fromhex(vector["iad"]))
    for i in range(len(fields)):
        changed = list(fields)
        changed[i] = bytes([changed[i][0] ^ 1]) + changed[i][1:]
        ac = application_cryptogram(CVN.VISA_18, mk, TransactionData(*changed), b"\x18\x00",
                                    b"\x00\x1c", bytes.fromhex(vector["iad"]))
        assert ac != base, DATA_ORDER[i]
    assert application_cryptogram(CVN.VISA_18, mk, TransactionData(*fields), b"\x18\x00",
                                  b"\x00\x1d", bytes.fromhex(vector["iad"])) != base


def test_option_a_uses_the_rightmost_16_digits_of_pan_and_psn() -> None:
    imk = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    # 19-digit PAN: only the last 16 digits of PAN||PSN count for option A
    assert derive_icc_master_key_a(imk, "9991234567890123456", "01") == \
        derive_icc_master_key_a(imk, "0001234567890123456", "01")
    # short PAN: left-padded with zeros
    assert derive_icc_master_key_a(imk, "123456789012", "00") == \
        derive_icc_master_key_a(imk, "00123456789012", "00")


def test_option_b_equals_a_up_to_16_digits_and_differs_above() -> None:
    imk = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    assert derive_icc_master_key_b(imk, "4111111111111111", "01") == \
        derive_icc_master_key_a(imk, "4111111111111111", "01")
    assert derive_icc_master_key_b(imk, "4111111111111111111", "01") != \
        derive_icc_master_key_a(imk, "4111111111111111111", "01")


def test_derived_keys_have_odd_parity() -> None:
    mk = derive_icc_master_key_a(bytes(range(16)), "4111111111111111", "00")
    assert odd_parity(mk) == mk
    sk = derive_common_session_key(mk, b"\x00\x01")
    assert all(bin(b).count("1") % 2 == 1 for b in sk)


def test_iad_carries_cvn_and_cryptogram_type() -> None:
    arqc = issuer_application_data(CVN.VISA_18, CryptogramType.ARQC)
    assert arqc == bytes.fromhex("06011203A00000")
    assert issuer_application_data(CVN.VISA_10, CryptogramType.TC)[4] == 0x90
    assert issuer_application_data(CVN.VISA_10, CryptogramType.AAC)[4] == 0x80
    assert cvn_from_iad(arqc) is CVN.VISA_18
    with pytest.raises(ValueError):
        cvn_from_iad(bytes.fromhex("0601FF03A00000"))


@pytest.mark.parametrize("bad", [b"\x00" * 15, b"\x00" * 17])
def test_wrong_key_lengths_are_refused(bad: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        derive_icc_master_key_a(bad, "4111111111111111")


def test_transaction_data_lengths_are_checked() -> None:
    fields = [bytes(n) for n in (6, 6, 2, 5, 2, 3, 1, 4)]
    TransactionData(*fields)
    fields[7] = bytes(3)
    with pytest.raises(ValueError, match="unpredictable number"):
        TransactionData(*fields)
