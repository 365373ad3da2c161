"""BER-TLV: multi-byte tags, long lengths, nesting, strict vs lenient."""

from __future__ import annotations

import pytest
from hcekit import SW
from hcekit.tlv import Tlv, TlvError, encode, encode_length, encode_tag, find, parse
from hypothesis import given
from hypothesis import strategies as st


def test_multi_byte_tags_and_long_lengths() -> None:
    value = bytes(range(200))
    raw = encode(0x9F02, value)
    assert raw[:5] == bytes.fromhex("9F 02 81 C8 00")
    assert parse(raw) == [Tlv(0x9F02, value)]
    assert encode_length(0x100) == bytes.fromhex("820100")
    assert encode_tag(0x5F2D) == bytes.fromhex("5F2D")


def test_constructed_objects_nest() -> None:
    fci = encode(0x6F, [encode(0x84, b"AID"), encode(0xA5, [encode(0x50, b"LABEL")])])
    (top,) = parse(fci)
    assert top.constructed
    assert [c.tag for c in top.children()] == [0x84, 0xA5]
    assert find(fci, 0x50) == b"LABEL"
    assert find(fci, 0x9F38) is None


@pytest.mark.parametrize(
    ("hex_data", "message"),
    [
        ("9F", "truncated"),
        ("84", "no length"),
        ("8405AABB", "announces 5 bytes"),
        ("8480", "indefinite"),
        ("848105" + "00" * 5, "not minimally encoded"),
        ("8485", "too many"),
    ],
)
def test_strict_errors(hex_data: str, message: str) -> None:
    with pytest.raises(TlvError, match=message) as info:
        parse(bytes.fromhex(hex_data))
    assert info.value.sw == SW.INCORRECT_DATA


def test_lenient_mode_skips_padding_and_non_minimal_lengths() -> None:
    raw = bytes.fromhex("00 84 81 02 AA BB FF 00")
    with pytest.raises(TlvError):
        parse(raw)
    assert parse(raw, strict=False) == [Tlv(0x84, b"\xaa\xbb")]


def test_invalid_tags_are_refused_when_encoding() -> None:
    with pytest.raises(ValueError):
        encode_tag(0x1F)
    with pytest.raises(ValueError):
        encode_tag(0x9F82)  # continuation bit set on the last byte


first_bytes = st.integers(0, 0xFF).filter(lambda b: b & 0x1F != 0x1F)
tags = first_bytes | st.builds(lambda a, b: ((a | 0x1F) << 8) | b, st.integers(0, 0xE0), st.integers(0, 0x7F))


@given(st.lists(st.tuples(tags, st.binary(max_size=400)), max_size=5))
def test_round_trip(objects: list[tuple[int, bytes]]) -> None:
    raw = b"".join(encode(t, v) for t, v in objects)
    assert parse(raw) == [Tlv(t, v) for t, v in objects]


@given(st.binary(max_size=200))
def test_random_bytes_only_raise_tlv_errors(raw: bytes) -> None:
    try:
        parse(raw)
        parse(raw, strict=False)
    except TlvError:
        pass
