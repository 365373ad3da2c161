"""The Logical Data Structure (LDS1) files this chip holds, ICAO Doc 9303 Part 10.

EF.COM (tag 60) names the LDS and Unicode versions and lists the data
groups present by their tags (5C); EF.DG1 (tag 61) carries the MRZ (5F1F);
EF.DG2 (tag 75) would carry the facial image — here a clearly-labelled
placeholder in the right envelope (7F61 / 7F60 / 5F2E) so readers see a
long data group to read in pieces. There is no EF.SOD: nothing is signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hcekit.tlv import TlvError, encode, find, parse_one, read_header

from .mrz import Td3Mrz

__all__ = ["ElementaryFile", "EF_COM", "EF_DG1", "EF_DG2", "DATA_GROUP_TAGS", "ef_com",
           "dg1", "dg2_placeholder", "parse_ef_com", "dg1_mrz_text", "object_length",
           "DEFAULT_LDS_VERSION", "DEFAULT_UNICODE_VERSION", "DG2_PLACEHOLDER_LABEL"]

TAG_COM = 0x60
TAG_LDS_VERSION = 0x5F01
TAG_UNICODE_VERSION = 0x5F36
TAG_TAG_LIST = 0x5C
TAG_DG1 = 0x61
TAG_MRZ = 0x5F1F
TAG_DG2 = 0x75
TAG_BIOMETRIC_GROUP = 0x7F61
TAG_INSTANCE_COUNT = 0x02
TAG_BIOMETRIC_TEMPLATE = 0x7F60
TAG_BIOMETRIC_HEADER = 0xA1
TAG_HEADER_VERSION = 0x80
TAG_BIOMETRIC_DATA = 0x5F2E

#: LDS 1.8 and Unicode 4.0.0, as Part 10 (8th edition) specifies for new documents.
DEFAULT_LDS_VERSION = "0108"
DEFAULT_UNICODE_VERSION = "040000"
DG2_PLACEHOLDER_LABEL = b"HCEKIT TEST SPECIMEN - NO FACIAL IMAGE. "

#: Data group number → the tag its EF starts with (Part 10, Table 34).
DATA_GROUP_TAGS = {1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
                   9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F,
                   16: 0x70}


@dataclass(frozen=True)
class ElementaryFile:
    """One LDS file: identifier, short identifier, and its bytes."""

    fid: int
    sfi: int
    name: str
    content: bytes = field(repr=False, default=b"")


EF_COM = ElementaryFile(0x011E, 0x1E, "EF.COM")
EF_DG1 = ElementaryFile(0x0101, 0x01, "EF.DG1")
EF_DG2 = ElementaryFile(0x0102, 0x02, "EF.DG2")


def _version(name: str, value: str, digits: int) -> bytes:
    if len(value) != digits or not value.isdigit():
        raise ValueError(f"{name} must be {digits} digits, got {value!r}")
    return value.encode("ascii")


def ef_com(data_groups: list[int], *, lds_version: str = DEFAULT_LDS_VERSION,
           unicode_version: str = DEFAULT_UNICODE_VERSION) -> bytes:
    """EF.COM: ``60 { 5F01 LDS version, 5F36 Unicode version, 5C tag list }``."""
    tags = bytes(DATA_GROUP_TAGS[n] for n in data_groups)
    return encode(TAG_COM, [encode(TAG_LDS_VERSION, _version("LDS version", lds_version, 4)),
                            encode(TAG_UNICODE_VERSION,
                                   _version("Unicode version", unicode_version, 6)),
                            encode(TAG_TAG_LIST, tags)])


def dg1(mrz: Td3Mrz) -> bytes:
    """EF.DG1: ``61 { 5F1F MRZ }`` with the 88 MRZ characters."""
    return encode(TAG_DG1, [encode(TAG_MRZ, mrz.text.encode("ascii"))])


def dg2_placeholder(size: int) -> bytes:
    """EF.DG2 in its Part 10 envelope, holding *size* bytes of labelled filler, not an image."""
    if size < len(DG2_PLACEHOLDER_LABEL):
        raise ValueError(f"the DG2 placeholder needs at least {len(DG2_PLACEHOLDER_LABEL)} bytes")
    repeats = -(-size // len(DG2_PLACEHOLDER_LABEL))
    filler = (DG2_PLACEHOLDER_LABEL * repeats)[:size]
    template = encode(TAG_BIOMETRIC_TEMPLATE, [
        encode(TAG_BIOMETRIC_HEADER, [encode(TAG_HEADER_VERSION, b"\x01\x01")]),
        encode(TAG_BIOMETRIC_DATA, filler)])
    return encode(TAG_DG2, [encode(TAG_BIOMETRIC_GROUP,
                                   [encode(TAG_INSTANCE_COUNT, b"\x01"), template])])


def object_length(header: bytes) -> int:
    """Total size of the BER-TLV object whose first bytes are *header* (tag + length).

    Lenient about non-minimal lengths, as a reader of real documents must be.
    """
    return read_header(header, strict=False).total


def parse_ef_com(data: bytes) -> tuple[str, str, list[int]]:
    """(LDS version, Unicode version, data group numbers) from EF.COM."""
    com, _ = parse_one(data)
    if com.tag != TAG_COM:
        raise TlvError(f"EF.COM starts with tag {com.tag:X}, expected 60")
    lds = find(com.value, TAG_LDS_VERSION) or b""
    uni = find(com.value, TAG_UNICODE_VERSION) or b""
    tags = find(com.value, TAG_TAG_LIST) or b""
    numbers = {tag: n for n, tag in DATA_GROUP_TAGS.items()}
    groups = [numbers[t] for t in tags if t in numbers]
    return lds.decode("ascii", "replace"), uni.decode("ascii", "replace"), groups


def dg1_mrz_text(data: bytes) -> str:
    """The MRZ characters from EF.DG1."""
    obj, _ = parse_one(data)
    if obj.tag != TAG_DG1:
        raise TlvError(f"EF.DG1 starts with tag {obj.tag:X}, expected 61")
    mrz = find(obj.value, TAG_MRZ)
    if mrz is None:
        raise TlvError("EF.DG1 has no MRZ (5F1F)")
    return mrz.decode("ascii", "replace")
