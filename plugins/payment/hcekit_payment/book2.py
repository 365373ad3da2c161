"""What an EMV Book 2 terminal checks to authenticate a card offline, written from the book.

Terminal side, deliberately independent of the card's code (it imports
nothing from the card's ODA modules): it trusts only the CA public keys it
was given (:func:`load_capks`, the JSON ``hcekit payment capk --json``
exports) and recovers every certificate with the public RSA operation.
Each check raises :class:`OdaFailure` naming the Book 2 step, so a test can
assert that a deliberately wrong card fails where a terminal must reject it.

* §5.3 / §6.3 issuer public key: certificate 90 under the CAPK named by RID +
  8F, length N_CA, header 6A, format 02, trailer BC, hash, issuer identifier
  against the PAN, expiry, algorithm; modulus from the certificate + 92.
* §5.4 SDA: 93 under the issuer key, format 03, hash over the static data.
* §6.4 ICC public key: 9F46 under the issuer key, format 04, hash over the
  static data too, PAN, expiry; modulus from the certificate + 9F48.
* §6.5 DDA / fDDA: 9F4B under the ICC key, format 05, hash over the terminal
  dynamic data.
* §6.6 CDA: as §6.5 over the unpredictable number, then the CID and the
  transaction data hash inside must match the answer.
"""

from __future__ import annotations

import calendar
import datetime
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from hcekit.errors import HcekitError

__all__ = ["Capk", "PublicKey", "OdaFailure", "load_capks", "issuer_public_key",
           "icc_public_key", "verify_sda", "verify_dynamic_signature", "verify_cda"]

_CA_INDEX, _ISSUER_CERT, _ISSUER_EXP, _ISSUER_REM = 0x8F, 0x90, 0x9F32, 0x92
_ICC_CERT, _ICC_EXP, _ICC_REM, _SSAD, _PAN = 0x9F46, 0x9F47, 0x9F48, 0x93, 0x5A
_HEADER, _TRAILER, _SHA1 = 0x6A, 0xBC, 0x01


class OdaFailure(HcekitError):
    """The card failed offline data authentication at one step of Book 2."""

    def __init__(self, section: str, message: str) -> None:
        super().__init__(f"Book 2 {section}: {message}")
        self.section = section


@dataclass(frozen=True)
class PublicKey:
    modulus: int
    exponent: int
    length: int  # bytes

    def recover(self, signature: bytes, what: str, section: str) -> bytes:
        """The public RSA operation (Annex A2.1): signature^e mod n, full length."""
        if len(signature) != self.length:
            raise OdaFailure(section, f"{what} is {len(signature)} bytes; the key is "
                                      f"{self.length}")
        value = int.from_bytes(signature, "big")
        if value >= self.modulus:
            raise OdaFailure(section, f"{what} is not below the modulus")
        recovered = pow(value, self.exponent, self.modulus).to_bytes(self.length, "big")
        if recovered[-1] != _TRAILER:
            raise OdaFailure(section, f"{what}: recovered data trailer is not BC")
        if recovered[0] != _HEADER:
            raise OdaFailure(section, f"{what}: recovered data header is not 6A")
        return recovered


@dataclass(frozen=True)
class Capk(PublicKey):
    rid: bytes = b""
    index: int = 0


def _sha1(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())
    digest.update(data)
    return digest.finalize()


def load_capks(text: str) -> dict[tuple[bytes, int], Capk]:
    """CAPKs from the exported JSON, each checked against its SHA-1 check value."""
    raw: dict[str, Any] = json.loads(text)
    out: dict[tuple[bytes, int], Capk] = {}
    for entry in raw["capks"]:
        rid, index = bytes.fromhex(entry["rid"]), int(entry["index"], 16)
        modulus, exponent = bytes.fromhex(entry["modulus"]), bytes.fromhex(entry["exponent"])
        if _sha1(rid + bytes((index,)) + modulus + exponent).hex().upper() != \
                entry["check_value"].upper():
            raise ValueError(f"CAPK {rid.hex().upper()}/{index:02X}: check value mismatch")
        out[(rid, index)] = Capk(int.from_bytes(modulus, "big"), int.from_bytes(exponent, "big"),
                                 len(modulus), rid, index)
    return out


def _expired(mmyy: bytes, today: datetime.date) -> bool:
    month, year = int(mmyy[:1].hex()), 2000 + int(mmyy[1:].hex())
    if not 1 <= month <= 12:
        return True
    return datetime.date(year, month, calendar.monthrange(year, month)[1]) < today


def _need(card: dict[int, bytes], tag: int, section: str) -> bytes:
    value = card.get(tag)
    if value is None:
        raise OdaFailure(section, f"tag {tag:X} missing from the card data")
    return value


def _digits(value: bytes) -> str:
    return value.hex().upper().rstrip("F")


def _certified_key(signer: PublicKey, certificate: bytes, fmt: int, id_length: int,
                   remainder: bytes, exponent: bytes, extra: bytes, what: str,
                   section: str) -> tuple[bytes, bytes, PublicKey]:
    """Recover a public key certificate: (identifier, expiry MMYY, the certified key)."""
    data = signer.recover(certificate, what, section)
    if data[1] != fmt:
        raise OdaFailure(section, f"{what}: certificate format {data[1]:02X}, expected "
                                  f"{fmt:02X}")
    body = data[1:-21]
    if _sha1(body + remainder + exponent + extra) != data[-21:-1]:
        raise OdaFailure(section, f"{what}: hash result does not match")
    i = 2 + id_length
    identifier, expiry = data[2:i], data[i:i + 2]
    hash_alg, pk_alg, key_length, exp_length = data[i + 5:i + 9]
    if hash_alg != _SHA1 or pk_alg != 0x01:
        raise OdaFailure(section, f"{what}: unknown algorithm {hash_alg:02X}/{pk_alg:02X}")
    shown = data[i + 9:-21]
    modulus = shown[:key_length] if key_length <= len(shown) else shown + remainder
    if len(modulus) != key_length or exp_length != len(exponent):
        raise OdaFailure(section, f"{what}: key length {key_length} does not match the "
                                  "certificate and remainder")
    return identifier, expiry, PublicKey(int.from_bytes(modulus, "big"),
                                         int.from_bytes(exponent, "big"), key_length)


def issuer_public_key(capks: dict[tuple[bytes, int], Capk], rid: bytes,
                      card: dict[int, bytes], today: datetime.date) -> PublicKey:
    """Book 2 §5.3 (and §6.3): the issuer key certified by the CA."""
    section = "§5.3"
    index = _need(card, _CA_INDEX, section)
    capk = capks.get((rid, index[0])) if len(index) == 1 else None
    if capk is None:
        raise OdaFailure(section, f"no CAPK for RID {rid.hex().upper()} index "
                                  f"{index.hex().upper()}")
    identifier, expiry, key = _certified_key(
        capk, _need(card, _ISSUER_CERT, section), 0x02, 4, card.get(_ISSUER_REM, b""),
        _need(card, _ISSUER_EXP, section), b"", "issuer certificate", section)
    issuer_id, pan = _digits(identifier), _digits(_need(card, _PAN, section))
    if not 3 <= len(issuer_id) <= 8 or not pan.startswith(issuer_id):
        raise OdaFailure(section, "issuer identifier does not match the PAN")
    if _expired(expiry, today):
        raise OdaFailure(section, f"issuer certificate expired (MMYY {expiry.hex()})")
    return key


def verify_sda(issuer: PublicKey, card: dict[int, bytes], static_data: bytes) -> bytes:
    """Book 2 §5.4: the Signed Static Application Data; returns the Data Authentication Code."""
    section = "§5.4"
    data = issuer.recover(_need(card, _SSAD, section), "signed static data", section)
    if data[1] != 0x03:
        raise OdaFailure(section, f"signed static data format {data[1]:02X}, expected 03")
    if _sha1(data[1:-21] + static_data) != data[-21:-1]:
        raise OdaFailure(section, "signed static data: hash result does not match")
    return data[3:5]


def icc_public_key(issuer: PublicKey, card: dict[int, bytes], static_data: bytes,
                   today: datetime.date) -> PublicKey:
    """Book 2 §6.4: the ICC key certified by the issuer over the static data."""
    section = "§6.4"
    pan_field, expiry, key = _certified_key(
        issuer, _need(card, _ICC_CERT, section), 0x04, 10, card.get(_ICC_REM, b""),
        _need(card, _ICC_EXP, section), static_data, "ICC certificate", section)
    if _digits(pan_field) != _digits(_need(card, _PAN, section)):
        raise OdaFailure(section, "ICC certificate PAN does not match the card's PAN")
    if _expired(expiry, today):
        raise OdaFailure(section, f"ICC certificate expired (MMYY {expiry.hex()})")
    return key


def verify_dynamic_signature(icc: PublicKey, sdad: bytes, terminal_dynamic_data: bytes,
                             section: str = "§6.5") -> bytes:
    """Book 2 §6.5.2: returns the ICC Dynamic Data the signature carries."""
    data = icc.recover(sdad, "signed dynamic data", section)
    if data[1] != 0x05:
        raise OdaFailure(section, f"signed dynamic data format {data[1]:02X}, expected 05")
    length = data[3]
    if 4 + length > len(data) - 21:
        raise OdaFailure(section, "ICC dynamic data length runs past the signature")
    if _sha1(data[1:-21] + terminal_dynamic_data) != data[-21:-1]:
        raise OdaFailure(section, "signed dynamic data: hash result does not match")
    return data[4:4 + length]


def verify_cda(icc: PublicKey, sdad: bytes, unpredictable_number: bytes, cid: int,
               hashed_data: bytes) -> bytes:
    """Book 2 §6.6.2: returns the application cryptogram inside a CDA signature.

    *hashed_data* is what the transaction data hash covers: PDOL, CDOL1 (and CDOL2)
    data as sent, then the answer's TLV objects other than 9F4B, in order.
    """
    section = "§6.6.2"
    dynamic = verify_dynamic_signature(icc, sdad, unpredictable_number, section)
    number_length = dynamic[0] if dynamic else 0
    rest = dynamic[1 + number_length:]
    if len(rest) != 1 + 8 + 20:
        raise OdaFailure(section, "ICC dynamic data is not number, CID, AC, hash code")
    if rest[0] != cid:
        raise OdaFailure(section, f"CID in the signature {rest[0]:02X}, in the answer {cid:02X}")
    if _sha1(hashed_data) != rest[9:]:
        raise OdaFailure(section, "transaction data hash code does not match")
    return rest[1:9]
