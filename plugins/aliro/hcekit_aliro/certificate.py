"""The reader certificate of LOAD CERT / AUTH1 tag 90, in its compressed profile.

A reader whose public key the credential does not know proves it with an
X.509 certificate signed by the reader-system issuer. On the air it travels
compressed (CSA aliro-actuator ``trust_framework/certificate.py``): a DER
SEQUENCE of the profile (OCTET STRING 0000) and a SEQUENCE of implicit
context fields, [0] serial, [1] issuer CN, [2] notBefore, [3] notAfter,
[4] subject CN (each optional, with defaults), [5] the public key bit-string
content (00 04 X Y) and [6] the signature bit-string content (00 + DER
ECDSA). The credential rebuilds the X.509 TBSCertificate those fields stand
for (v3, ecdsa-with-SHA256, CN names, P-256 key, authority key identifier =
SHA-1 of the issuer key, basicConstraints CA:false and keyUsage
digitalSignature, both critical) and checks the signature with the issuer
key. Our own DER writer: a handful of fixed structures, no ASN.1 library.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit import tlv

from .assumptions import CERTIFICATE_PROFILE
from .crypto import P256_OPS, CryptoError, digest, load_point, point_of

__all__ = ["CertificateError", "ReaderCertificate", "DEFAULTS"]

_SEQUENCE, _SET, _INTEGER, _BIT_STRING, _OCTET_STRING, _OID = 0x30, 0x31, 0x02, 0x03, 0x04, 0x06
_BOOLEAN, _UTF8, _UTC_TIME, _GENERALIZED_TIME = 0x01, 0x0C, 0x17, 0x18
_OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
_OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_OID_P256 = "1.2.840.10045.3.1.7"
_OID_COMMON_NAME = "2.5.4.3"
_OID_AUTHORITY_KEY_ID = "2.5.29.35"
_OID_BASIC_CONSTRAINTS = "2.5.29.19"
_OID_KEY_USAGE = "2.5.29.15"
_FIELD_TAGS = range(0x80, 0x87)

#: Field defaults when the compressed form leaves them out (the tool's profile 0000).
DEFAULTS = {
    0: bytes.fromhex("01"),
    1: b"issuer",
    2: b"200101000000Z",
    3: b"490101000000Z",
    4: b"subject",
}
_MAX = {0: (1, 20), 1: (1, 32), 2: (13, 15), 3: (13, 15), 4: (1, 32)}


class CertificateError(CryptoError):
    """A compressed certificate that is malformed or not signed by the issuer."""


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray((40 * arcs[0] + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv.encode(_OID, bytes(body))


def _integer(value: bytes) -> bytes:
    value = value.lstrip(b"\x00") or b"\x00"
    if value[0] & 0x80:
        value = b"\x00" + value
    return tlv.encode(_INTEGER, value)


def _name(common_name: bytes) -> bytes:
    return tlv.encode(_SEQUENCE, [tlv.encode(_SET, [tlv.encode(_SEQUENCE, [
        _oid(_OID_COMMON_NAME), tlv.encode(_UTF8, common_name)])])])


def _time(value: bytes) -> bytes:
    return tlv.encode(_UTC_TIME if len(value) == 13 else _GENERALIZED_TIME, value)


@dataclass(frozen=True)
class ReaderCertificate:
    serial: bytes
    issuer: bytes
    not_before: bytes
    not_after: bytes
    subject: bytes
    public_key: bytes   # uncompressed point
    signature: bytes    # DER ECDSA

    @classmethod
    def decode(cls, data: bytes) -> ReaderCertificate:
        try:
            outer = tlv.parse(data)
            if len(outer) != 1 or outer[0].tag != _SEQUENCE:
                raise CertificateError("not one DER SEQUENCE")
            parts = outer[0].children()
            if len(parts) != 2 or parts[0].tag != _OCTET_STRING or parts[1].tag != _SEQUENCE:
                raise CertificateError("expected profile OCTET STRING and field SEQUENCE")
            if parts[0].value != CERTIFICATE_PROFILE:
                raise CertificateError(f"unknown certificate profile {parts[0].value.hex()}")
            fields: dict[int, bytes] = {}
            last = -1
            for item in parts[1].children():
                if item.tag not in _FIELD_TAGS:
                    raise CertificateError(f"unexpected field tag {item.tag:02X}")
                number = item.tag - 0x80
                if number <= last:
                    raise CertificateError("certificate fields out of order or repeated")
                last = number
                fields[number] = item.value
        except tlv.TlvError as exc:
            raise CertificateError(f"certificate is not DER: {exc.message}") from None
        if 5 not in fields or 6 not in fields:
            raise CertificateError("certificate lacks its public key [5] or signature [6]")
        for number, (low, high) in _MAX.items():
            if number in fields and not low <= len(fields[number]) <= high:
                raise CertificateError(f"certificate field [{number}] has a bad length")
        key, signature = fields[5], fields[6]
        if key[:1] != b"\x00" or signature[:1] != b"\x00":
            raise CertificateError("key and signature must be whole-byte bit strings")
        load_point(key[1:])
        values = {n: fields.get(n, DEFAULTS[n]) for n in DEFAULTS}
        return cls(values[0], values[1], values[2], values[3], values[4], key[1:], signature[1:])

    def encode(self) -> bytes:
        """The compressed form (fields equal to the defaults are left out)."""
        fields = []
        for number, value in enumerate((self.serial, self.issuer, self.not_before,
                                        self.not_after, self.subject)):
            if value != DEFAULTS[number]:
                fields.append(tlv.encode(0x80 + number, value))
        fields.append(tlv.encode(0x85, b"\x00" + self.public_key))
        fields.append(tlv.encode(0x86, b"\x00" + self.signature))
        return tlv.encode(_SEQUENCE, [tlv.encode(_OCTET_STRING, CERTIFICATE_PROFILE),
                                      tlv.encode(_SEQUENCE, fields)])

    def tbs(self, issuer_public: bytes) -> bytes:
        """The X.509 TBSCertificate these fields stand for, issued by *issuer_public*."""
        key_id = digest(issuer_public, hashes.SHA1())  # RFC 5280 key identifier
        extensions = tlv.encode(0xA3, [tlv.encode(_SEQUENCE, [
            tlv.encode(_SEQUENCE, [_oid(_OID_AUTHORITY_KEY_ID), tlv.encode(
                _OCTET_STRING, tlv.encode(_SEQUENCE, [tlv.encode(0x80, key_id)]))]),
            tlv.encode(_SEQUENCE, [_oid(_OID_BASIC_CONSTRAINTS), tlv.encode(_BOOLEAN, b"\xff"),
                                   tlv.encode(_OCTET_STRING, tlv.encode(_SEQUENCE, b""))]),
            tlv.encode(_SEQUENCE, [_oid(_OID_KEY_USAGE), tlv.encode(_BOOLEAN, b"\xff"),
                                   tlv.encode(_OCTET_STRING, tlv.encode(_BIT_STRING, b"\x07\x80"))]),
        ])])
        return tlv.encode(_SEQUENCE, [
            tlv.encode(0xA0, tlv.encode(_INTEGER, b"\x02")),
            _integer(self.serial),
            tlv.encode(_SEQUENCE, [_oid(_OID_ECDSA_SHA256)]),
            _name(self.issuer),
            tlv.encode(_SEQUENCE, [_time(self.not_before), _time(self.not_after)]),
            _name(self.subject),
            tlv.encode(_SEQUENCE, [tlv.encode(_SEQUENCE, [_oid(_OID_EC_PUBLIC_KEY), _oid(_OID_P256)]),
                                   tlv.encode(_BIT_STRING, b"\x00" + self.public_key)]),
            extensions,
        ])

    def verify(self, issuer: ec.EllipticCurvePublicKey) -> None:
        """Raise :class:`CertificateError` unless *issuer* signed this certificate."""
        P256_OPS.count += 1
        try:
            issuer.verify(self.signature, self.tbs(point_of(issuer)), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            raise CertificateError("reader certificate is not signed by the reader-system "
                                   "issuer") from None
