"""ATR construction and validation (no PC/SC stack needed)."""

import pytest
from hcekit.atr import (
    ATR_NO_HISTORICAL_BYTES,
    DEFAULT_ATR,
    AtrError,
    check_atr,
    contactless_atr,
)


def test_no_historical_bytes_is_the_well_known_phone_atr() -> None:
    assert ATR_NO_HISTORICAL_BYTES == bytes.fromhex("3B80800101")


def test_default_atr_carries_hcekit_in_compact_tlv() -> None:
    assert DEFAULT_ATR[:4] == bytes.fromhex("3B888001")
    assert DEFAULT_ATR[4:6] == bytes.fromhex("8056") and DEFAULT_ATR[6:12] == b"hcekit"
    assert check_atr(DEFAULT_ATR) == DEFAULT_ATR


@pytest.mark.parametrize("historical", [b"", b"\x80", bytes(range(15))])
def test_contactless_atr_has_a_valid_check_byte(historical: bytes) -> None:
    atr = contactless_atr(historical)
    assert atr[1] & 0x0F == len(historical)
    assert check_atr(atr) == atr


def test_real_card_atr_passes() -> None:
    # PC/SC part 3 ATR of a MIFARE-style contactless storage card (T=1 indicated)
    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
    assert check_atr(atr) == atr


@pytest.mark.parametrize(
    ("atr", "message"),
    [
        ("3B", "2 to 33"),
        ("3A80800101", "TS must be"),
        ("3B80800100", "TCK is wrong"),
        ("3B8080", "truncated"),
        ("3B808001010203", "does not match"),
    ],
)
def test_bad_atrs_are_rejected_precisely(atr: str, message: str) -> None:
    with pytest.raises(AtrError, match=message):
        check_atr(bytes.fromhex(atr))


def test_too_many_historical_bytes() -> None:
    with pytest.raises(AtrError, match="at most 15"):
        contactless_atr(bytes(16))
