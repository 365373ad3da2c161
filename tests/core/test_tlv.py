"""BER-TLV: multi-byte tags, long lengths, nesting, strict vs lenient."""

from __future__ import annotations

import pytest
from hcekit import SW
from hcekit.tlv import (
    Tlv,
    TlvError,
    TlvHeader,
    encode,
    encode_length,
    encode_tag,
    find,
    parse,
    read_header,
    read_tag,
)
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


@given(tags, st.binary(max_size=70000))
def test_header_alone_gives_the_object_size(tag: int, value: bytes) -> None:
    raw = encode(tag, value)
    header = read_header(raw)
    assert (header.tag, header.length) == (tag, len(value))
    assert header.total == len(raw)
    # Only the header bytes are needed: that is how a reader sizes a file before fetching it.
    assert read_header(raw[:header.size]) == header
    with pytest.raises(TlvError):
        read_header(raw[:header.size - 1])


def test_header_of_a_long_form_length_and_lenient_non_minimal() -> None:
    assert read_header(bytes.fromhex("7F61 82 01 00")) == TlvHeader(0x7F61, 0x100, 5)
    with pytest.raises(TlvError, match="not minimally encoded"):
        read_header(bytes.fromhex("75 82 00 10"))
    assert read_header(bytes.fromhex("75 82 00 10"), strict=False).total == 4 + 0x10


def test_read_tag_walks_a_dol() -> None:
    dol = bytes.fromhex("9F02 06 9F37 04 95 05")
    tag, offset = read_tag(dol)
    assert (tag, offset) == (0x9F02, 2)
    assert read_tag(dol, offset + 1) == (0x9F37, 5)
    assert read_tag(dol, 6) == (0x95, 7)
    with pytest.raises(TlvError, match="truncated"):
        read_tag(bytes.fromhex("9F"))
