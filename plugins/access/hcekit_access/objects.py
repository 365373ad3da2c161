"""The PIV data objects the badge serves, built and parsed as SP 800-73-4 Part 1 lays them out.

Builders are used by personalization and the applet; parsers by the door
reader. Every container object (all but Discovery) travels inside tag 53.
Parsers raise :class:`PivDataError` with a message naming what is wrong, so
the door reader can give a precise reason for a denial.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hcekit import tlv
from hcekit.errors import HcekitError

from .fascn import Fascn
from .piv import NIST_RID, PIV_AID, PIV_PIX, Alg, Tag

__all__ = [
    "PivDataError",
    "Chuid",
    "application_property_template",
    "wrap_object",
    "unwrap_object",
    "certificate_object",
    "parse_certificate_object",
    "discovery_object",
    "key_history_object",
    "capability_container",
    "NON_FEDERAL_FASCN",
    "PIN_POLICY_APPLICATION_PIN",
    "CERT_INFO_UNCOMPRESSED",
    "CERT_INFO_GZIP",
]

#: SP 800-73-4 Part 1, 3.3.2: issuers outside the US federal government use
#: agency, system and credential codes of nines when they key on the UUID.
NON_FEDERAL_FASCN = Fascn("9999", "9999", "999999", "0", "1", "0000000000", "3", "0000", "1")
#: Discovery object PIN usage policy, first byte: the PIV Card Application PIN
#: satisfies the access rules (b7); no global PIN, no on-card comparison.
PIN_POLICY_APPLICATION_PIN = bytes((0x40, 0x00))
CERT_INFO_UNCOMPRESSED = 0x00
CERT_INFO_GZIP = 0x01
#: GSC-IS registered application provider ID, the first bytes of the CCC's card identifier.
_GSC_RID = bytes.fromhex("A000000116")
_CCC_MANUFACTURER_UNASSIGNED = 0xFF
_CCC_CARD_TYPE = 0x02
CCC_CARD_ID_LENGTH = 14
_CCC_VERSION = 0x21
_CCC_DATA_MODEL_PIV = 0x10


class PivDataError(HcekitError, ValueError):
    """A PIV data object that does not have the structure SP 800-73-4 gives it."""


def application_property_template(label: str) -> bytes:
    """SELECT's answer (Part 1, table 3): PIX, NIST as tag allocator, label, algorithms."""
    return tlv.encode(Tag.APPLICATION_PROPERTY_TEMPLATE, [
        tlv.encode(Tag.APPLICATION_IDENTIFIER, PIV_PIX),
        tlv.encode(Tag.COEXISTENT_TAG_ALLOCATION_AUTHORITY,
                   [tlv.encode(Tag.APPLICATION_IDENTIFIER, NIST_RID)]),
        tlv.encode(Tag.APPLICATION_LABEL, label.encode("ascii", "replace")[:32]),
        tlv.encode(Tag.CRYPTOGRAPHIC_ALGORITHMS, [
            tlv.encode(Tag.ALGORITHM_IDENTIFIER, bytes((Alg.ECC_P256,))),
            tlv.encode(Tag.OBJECT_IDENTIFIER, b""),
        ]),
    ])


def wrap_object(value: bytes) -> bytes:
    """A data object as GET DATA returns it: tag 53 around its fields."""
    return tlv.encode(Tag.DATA_OBJECT, value)


def unwrap_object(data: bytes) -> bytes:
    """The fields inside a GET DATA answer's tag 53 (exactly one object, nothing after)."""
    try:
        obj, end = tlv.parse_one(data)
    except tlv.TlvError as exc:
        raise PivDataError(f"data object is not BER-TLV: {exc.message}") from None
    if obj.tag != Tag.DATA_OBJECT or end != len(data):
        raise PivDataError(f"expected one data object with tag 53, got tag {obj.tag:X}"
                           + ("" if end == len(data) else " followed by trailing bytes"))
    return obj.value


def _fields(value: bytes, what: str) -> dict[int, bytes]:
    try:
        items = tlv.parse(value)
    except tlv.TlvError as exc:
        raise PivDataError(f"{what} is not BER-TLV: {exc.message}") from None
    found: dict[int, bytes] = {}
    for item in items:
        found.setdefault(item.tag, item.value)
    return found


@dataclass(frozen=True)
class Chuid:
    """Card Holder Unique Identifier (Part 1, table 9), the fields a door reader uses."""

    fascn: bytes
    guid: bytes
    expiration: str  # YYYYMMDD
    signature: bytes = b""

    def encode(self) -> bytes:
        """The CHUID fields (without tag 53). The issuer signature stays empty unless given."""
        if len(self.guid) != 16:
            raise PivDataError(f"the CHUID GUID is 16 bytes, got {len(self.guid)}")
        if not (len(self.expiration) == 8 and self.expiration.isdigit()):
            raise PivDataError(f"CHUID expiration date is YYYYMMDD, got {self.expiration!r}")
        return b"".join((
            tlv.encode(Tag.FASCN, self.fascn),
            tlv.encode(Tag.GUID, self.guid),
            tlv.encode(Tag.EXPIRATION_DATE, self.expiration.encode("ascii")),
            tlv.encode(Tag.ISSUER_ASYMMETRIC_SIGNATURE, self.signature),
            tlv.encode(Tag.ERROR_DETECTION_CODE, b""),
        ))

    @classmethod
    def parse(cls, value: bytes) -> Chuid:
        fields = _fields(value, "CHUID")
        for tag, name in ((Tag.FASCN, "FASC-N"), (Tag.GUID, "GUID"),
                          (Tag.EXPIRATION_DATE, "expiration date")):
            if tag not in fields:
                raise PivDataError(f"CHUID has no {name} (tag {int(tag):02X})")
        guid = fields[Tag.GUID]
        if len(guid) != 16:
            raise PivDataError(f"CHUID GUID is {len(guid)} bytes, expected 16")
        expiration = fields[Tag.EXPIRATION_DATE]
        if len(expiration) != 8 or not expiration.isdigit():
            raise PivDataError("CHUID expiration date is not YYYYMMDD")
        return cls(fields[Tag.FASCN], guid, expiration.decode("ascii"),
                   fields.get(Tag.ISSUER_ASYMMETRIC_SIGNATURE, b""))

    @property
    def uuid(self) -> uuid.UUID | None:
        """The card UUID (None when the GUID is all zeros: a FASC-N-only card)."""
        return None if not any(self.guid) else uuid.UUID(bytes=self.guid)


def certificate_object(der: bytes) -> bytes:
    """An X.509 certificate container (Part 1, table 10): 70 cert, 71 CertInfo, FE."""
    return b"".join((
        tlv.encode(Tag.CERTIFICATE, der),
        tlv.encode(Tag.CERT_INFO, bytes((CERT_INFO_UNCOMPRESSED,))),
        tlv.encode(Tag.ERROR_DETECTION_CODE, b""),
    ))


def parse_certificate_object(value: bytes) -> bytes:
    """The DER certificate from a container; compressed certificates are refused."""
    fields = _fields(value, "certificate container")
    cert = fields.get(Tag.CERTIFICATE)
    if not cert:
        raise PivDataError("certificate container has no certificate (tag 70)")
    info = fields.get(Tag.CERT_INFO, bytes((CERT_INFO_UNCOMPRESSED,)))
    if info and info[0] & CERT_INFO_GZIP:
        raise PivDataError("certificate is gzip-compressed (CertInfo 01); not supported")
    return cert


def discovery_object() -> bytes:
    """Discovery object (Part 1, table 18); not wrapped in 53."""
    return tlv.encode(Tag.DISCOVERY, [
        tlv.encode(Tag.APPLICATION_IDENTIFIER, PIV_AID),
        tlv.encode(Tag.PIN_USAGE_POLICY, PIN_POLICY_APPLICATION_PIN),
    ])


def key_history_object() -> bytes:
    """Key history (Part 1, table 19): no retired keys on or off card."""
    return b"".join((
        tlv.encode(Tag.KEYS_WITH_ON_CARD_CERTS, b"\x00"),
        tlv.encode(Tag.KEYS_WITH_OFF_CARD_CERTS, b"\x00"),
        tlv.encode(Tag.ERROR_DETECTION_CODE, b""),
    ))


def capability_container(card_id: bytes) -> bytes:
    """Card Capability Container (Part 1, table 8), the mandatory legacy GSC-IS object.

    Uses simple-TLV tags F0…FE as the standard does; F0 is the card identifier
    (GSC-RID, manufacturer, card type, 14-byte card id).
    """
    if len(card_id) != CCC_CARD_ID_LENGTH:
        raise PivDataError(f"CCC card id is {CCC_CARD_ID_LENGTH} bytes, got {len(card_id)}")
    identifier = _GSC_RID + bytes((_CCC_MANUFACTURER_UNASSIGNED, _CCC_CARD_TYPE)) + card_id
    parts = [
        (0xF0, identifier), (0xF1, bytes((_CCC_VERSION,))), (0xF2, bytes((_CCC_VERSION,))),
        (0xF3, b""), (0xF4, b"\x00"), (0xF5, bytes((_CCC_DATA_MODEL_PIV,))), (0xF6, b""),
        (0xF7, b""), (0xFA, b""), (0xFB, b""), (0xFC, b""), (0xFD, b""), (0xFE, b""),
    ]
    return b"".join(bytes((tag, len(value))) + value for tag, value in parts)
