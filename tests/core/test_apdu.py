"""APDU parsing and encoding: every ISO case, both length forms, every malformation."""

from __future__ import annotations

import pytest
from hcekit import SW, ApduFormatError, CommandApdu, IsoError, ResponseApdu
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("hex_apdu", "case", "data", "le", "extended"),
    [
        ("00A40400", 1, b"", None, False),
        ("00B0000010", 2, b"", 16, False),
        ("00B0000000", 2, b"", 256, False),
        ("00D6000002AABB", 3, b"\xaa\xbb", None, False),
        ("00A4040002AABB00", 4, b"\xaa\xbb", 256, False),
        ("00B00000000100", 2, b"", 256, True),
        ("00B00000000000", 2, b"", 65536, True),
        ("00D60000000002AABB", 3, b"\xaa\xbb", None, True),
        ("00D60000000002AABB0400", 4, b"\xaa\xbb", 1024, True),
    ],
)
def test_parse_cases(hex_apdu: str, case: int, data: bytes, le: int | None, extended: bool) -> None:
    apdu = CommandApdu.from_hex(hex_apdu)
    assert (apdu.case, apdu.data, apdu.le, apdu.extended) == (case, data, le, extended)
    assert apdu.to_bytes() == bytes.fromhex(hex_apdu)


@pytest.mark.parametrize(
    ("hex_apdu", "message"),
    [
        ("", "at least 4 header bytes"),
        ("00A404", "at least 4 header bytes"),
        ("00A4040005AABB", "Lc=5 but only 2 data bytes follow"),
        ("00A4040002AABB0000", "1 trailing byte"),
        ("00A404000000", "neither short nor extended"),
        ("00A40400000000AA", "extended Lc of 0000"),
        ("00A4040000000300", "extended Lc=3 but only 1 data bytes follow"),
        ("00A40400000001AA00", "expected 1 or 3"),
    ],
)
def test_malformed_apdus_name_the_defect(hex_apdu: str, message: str) -> None:
    with pytest.raises(ApduFormatError) as info:
        CommandApdu.parse(bytes.fromhex(hex_apdu))
    assert info.value.sw == SW.WRONG_LENGTH
    assert message in info.value.message


apdus = st.builds(
    CommandApdu,
    cla=st.integers(0, 0xFE), ins=st.integers(0, 0xFF), p1=st.integers(0, 0xFF),
    p2=st.integers(0, 0xFF), data=st.binary(max_size=300),
    le=st.none() | st.integers(1, 65536),
)


@given(apdus)
def test_encode_parse_round_trip(apdu: CommandApdu) -> None:
    parsed = CommandApdu.parse(apdu.to_bytes())
    assert parsed == apdu
    assert parsed.extended == apdu.extended


@given(st.binary(max_size=600))
def test_parse_never_raises_anything_but_format_errors(raw: bytes) -> None:
    try:
        apdu = CommandApdu.parse(raw)
    except ApduFormatError:
        return
    assert apdu.to_bytes() == raw


def test_response_apdu() -> None:
    r = ResponseApdu.parse(bytes.fromhex("0102 6A82"))
    assert (r.data, r.sw, r.sw1, r.sw2, r.ok) == (b"\x01\x02", 0x6A82, 0x6A, 0x82, False)
    assert r.to_bytes() == bytes.fromhex("01026A82")
    with pytest.raises(IsoError) as info:
        r.check()
    assert info.value.sw == SW.FILE_NOT_FOUND
    with pytest.raises(ApduFormatError):
        ResponseApdu.parse(b"\x90")


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="cla"):
        CommandApdu(0x100, 0)
    with pytest.raises(ValueError, match="Ne"):
        CommandApdu(0, 0, le=0)
    assert CommandApdu(0, 0xB0, le=257).extended


def test_the_core_names_no_proprietary_status_word_until_a_plugin_does() -> None:
    from hcekit.sw import _DESCRIBERS, describe, register_sw1

    saved = dict(_DESCRIBERS)
    try:
        _DESCRIBERS.clear()
        assert describe(0x9E42) == "SW_9E42"
        register_sw1(0x9E, lambda sw: f"ACME_{sw & 0xFF:02X}")
        assert describe(0x9E42) == "ACME_42"
        with pytest.raises(ValueError, match="ISO/IEC 7816-4"):
            register_sw1(0x6A, lambda sw: "mine")
    finally:
        _DESCRIBERS.clear()
        _DESCRIBERS.update(saved)

