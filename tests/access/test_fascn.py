"""FASC-N encoding against Yubico's published CHUID template, and its error checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hcekit_access.fascn import Fascn, FascnError

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "piv_fascn_yubico_chuid.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["vectors"])
def test_known_answer(vector: dict[str, str]) -> None:
    fascn = Fascn.parse(vector["fields"])
    assert fascn.encode() == bytes.fromhex(vector["fascn"])
    assert Fascn.decode(bytes.fromhex(vector["fascn"])) == fascn


def test_round_trip_of_other_fields() -> None:
    fascn = Fascn("0032", "0001", "092446", "0", "1", "1112223333", "1", "1223", "2")
    raw = fascn.encode()
    assert len(raw) == 25
    assert Fascn.decode(raw) == fascn
    assert str(Fascn.parse(str(fascn))) == str(fascn)


def test_single_bit_flip_is_caught() -> None:
    raw = bytearray(Fascn.parse(VECTORS["vectors"][0]["fields"]).encode())
    for bit in (0, 37, 101, 199):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        with pytest.raises(FascnError, match="parity"):
            Fascn.decode(bytes(flipped))


def test_lrc_mismatch_is_caught() -> None:
    raw = bytearray(Fascn("1234", "5678", "000000", "0", "1", "0000000000", "1", "0000",
                          "1").encode())
    # character 1 (first agency digit, bits 5..9): flip its two lowest data bits,
    # 1 -> 2. Parity still holds, so only the LRC can notice.
    for bit in (5, 6):
        raw[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(FascnError, match="redundancy"):
        Fascn.decode(bytes(raw))


@pytest.mark.parametrize("text", ["9999-9999", "999A-9999-999999-0-1-0000000000-3-0000-1",
                                  "9999-9999-99999-0-1-0000000000-3-0000-1"])
def test_bad_fields_are_refused(text: str) -> None:
    with pytest.raises(FascnError):
        Fascn.parse(text)


def test_wrong_length_is_refused() -> None:
    with pytest.raises(FascnError, match="25 bytes"):
        Fascn.decode(bytes(24))
