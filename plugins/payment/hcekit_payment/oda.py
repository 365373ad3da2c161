"""Offline data authentication, card side (EMV Book 2 §5–§6): certificates and signatures.

Personalisation (:func:`issue`) plays the issuer: it makes an issuer key,
has the TEST CA certify it (tag 90), signs the card's static data (SDA, 93)
and certifies a fresh ICC key (9F46) over the same static data. Only the
certificates and the ICC private key stay on the card; the issuer's private
key is dropped, as a real issuer's never leaves its HSM. At transaction time
:func:`sign_dynamic_data` makes the Signed Dynamic Application Data (9F4B)
of DDA, fDDA and CDA.

Every signed block is ``6A || format || … || SHA-1 || BC`` (Book 2 Annex
A2.1); the fields per format are in the tables cited at each builder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import assumptions
from .ca import ca_key
from .rsa_recovery import modulus_length, private_operation

__all__ = ["OdaData", "issue", "aip_byte1", "sign_dynamic_data", "dynamic_data_cda",
           "dynamic_data_dda", "sha1", "to_json", "from_json", "icc_key_der", "load_icc_key"]

HEADER, TRAILER, PAD = 0x6A, 0xBC, 0xBB
FORMAT_ISSUER, FORMAT_SSAD, FORMAT_ICC, FORMAT_SDAD = 0x02, 0x03, 0x04, 0x05
SHA1_ALGORITHM, RSA_ALGORITHM = 0x01, 0x01
#: AIP byte 1 (Book 3 Annex C1): b7 SDA, b6 DDA, b1 CDA.
AIP_SDA, AIP_DDA, AIP_CDA = 0x40, 0x20, 0x01


@dataclass(frozen=True)
class OdaData:
    """What ODA leaves on the card; the ICC private key is secret (``repr=False``)."""

    ca_index: int
    issuer_certificate: bytes
    issuer_remainder: bytes
    issuer_exponent: bytes
    ssad: bytes = b""
    icc_certificate: bytes = b""
    icc_remainder: bytes = b""
    icc_exponent: bytes = b""
    icc_key: rsa.RSAPrivateKey | None = field(default=None, repr=False, compare=False)


def sha1(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())
    digest.update(data)
    return digest.finalize()


def aip_byte1(methods: tuple[str, ...]) -> int:
    """The AIP's ODA bits for the chosen methods (fDDA is DDA's bit, Book 3 Annex C1)."""
    bits = AIP_SDA if "sda" in methods else 0
    if "dda" in methods or "fdda" in methods:
        bits |= AIP_DDA
    if "cda" in methods:
        bits |= AIP_CDA
    return bits


def _public_parts(key: rsa.RSAPrivateKey) -> tuple[bytes, bytes]:
    numbers = key.public_key().public_numbers()
    return (numbers.n.to_bytes(modulus_length(key), "big"),
            numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))


def _sign(key: rsa.RSAPrivateKey, body: bytes, hashed_extra: bytes, *,
          bad_hash: bool = False) -> bytes:
    """6A || body || SHA-1(body || hashed_extra) || BC, with the private operation."""
    digest = sha1(body + hashed_extra)
    if bad_hash:
        digest = bytes((digest[0] ^ 0xFF,)) + digest[1:]
    block = bytes((HEADER,)) + body + digest + bytes((TRAILER,))
    assert len(block) == modulus_length(key), "a signed block fills the signer's modulus"
    return private_operation(key, block)


def _certify(signer: rsa.RSAPrivateKey, fmt: int, identity: bytes, expiry: str, serial: bytes,
             subject: rsa.RSAPrivateKey, overhead: int, extra: bytes = b"", *,
             bad_hash: bool = False) -> tuple[bytes, bytes, bytes]:
    """A public key certificate (Book 2 Tables 13, 14): (certificate, remainder, exponent)."""
    modulus, exponent = _public_parts(subject)
    room = modulus_length(signer) - overhead
    shown, remainder = modulus[:room], modulus[room:]
    body = (bytes((fmt,)) + identity + bytes.fromhex(expiry) + serial
            + bytes((SHA1_ALGORITHM, RSA_ALGORITHM, len(modulus), len(exponent)))
            + shown + bytes((PAD,)) * (room - len(shown)))
    certificate = _sign(signer, body, remainder + exponent + extra, bad_hash=bad_hash)
    return certificate, remainder, exponent


def _issuer_identifier(pan: str) -> bytes:
    """Leftmost PAN digits, F-padded to 4 bytes (Book 2 Table 13: 3–8 digits; ours 6, the BIN)."""
    return bytes.fromhex(pan[:6] + "FF")


def _application_pan(pan: str) -> bytes:
    return bytes.fromhex(pan.ljust(20, "F"))


def issue(pan: str, methods: tuple[str, ...], fault: str, static_data: bytes) -> OdaData:
    """Play the issuer: certificates for *methods* over *static_data*, with *fault* applied."""
    issuer_key = rsa.generate_private_key(assumptions.ISSUER_EXPONENT, assumptions.ISSUER_KEY_BITS)
    issuer_cert, issuer_rem, issuer_exp = _certify(
        ca_key(), FORMAT_ISSUER, _issuer_identifier(pan),
        assumptions.EXPIRED_CERT_EXPIRY if fault == "expired-issuer-cert"
        else assumptions.ISSUER_CERT_EXPIRY,
        assumptions.ISSUER_CERT_SERIAL, issuer_key, 36, bad_hash=fault == "bad-hash")
    ca_index = assumptions.CA_INDEX ^ (0x01 if fault == "wrong-ca-index" else 0)
    ssad = b""
    if "sda" in methods:  # Book 2 Table 7
        pad = modulus_length(issuer_key) - 26
        body = (bytes((FORMAT_SSAD, SHA1_ALGORITHM)) + assumptions.DATA_AUTHENTICATION_CODE
                + bytes((PAD,)) * pad)
        ssad = _sign(issuer_key, body, static_data)
    if not {"dda", "fdda", "cda"} & set(methods):
        return OdaData(ca_index, issuer_cert, issuer_rem, issuer_exp, ssad)
    icc_key = rsa.generate_private_key(assumptions.ICC_EXPONENT, assumptions.ICC_KEY_BITS)
    icc_cert, icc_rem, icc_exp = _certify(
        issuer_key, FORMAT_ICC, _application_pan(pan), assumptions.ICC_CERT_EXPIRY,
        assumptions.ICC_CERT_SERIAL, icc_key, 42, static_data)
    return OdaData(ca_index, issuer_cert, issuer_rem, issuer_exp, ssad,
                   icc_cert, icc_rem, icc_exp, icc_key)


def dynamic_data_dda(icc_dynamic_number: bytes) -> bytes:
    """ICC Dynamic Data of DDA and fDDA (Book 2 Table 17): length || ICC Dynamic Number."""
    return bytes((len(icc_dynamic_number),)) + icc_dynamic_number


def dynamic_data_cda(icc_dynamic_number: bytes, cid: int, cryptogram: bytes,
                     transaction_data_hash: bytes) -> bytes:
    """ICC Dynamic Data of CDA (Book 2 Table 19): number, CID, AC, transaction data hash."""
    return (dynamic_data_dda(icc_dynamic_number) + bytes((cid,)) + cryptogram
            + transaction_data_hash)


def sign_dynamic_data(key: rsa.RSAPrivateKey, icc_dynamic_data: bytes,
                      terminal_dynamic_data: bytes) -> bytes:
    """Signed Dynamic Application Data, 9F4B (Book 2 Table 17)."""
    pad = modulus_length(key) - len(icc_dynamic_data) - 25
    body = (bytes((FORMAT_SDAD, SHA1_ALGORITHM, len(icc_dynamic_data))) + icc_dynamic_data
            + bytes((PAD,)) * pad)
    return _sign(key, body, terminal_dynamic_data)


def to_json(data: OdaData) -> dict[str, str | int]:
    """The public part, for the store (the ICC key goes apart: :func:`icc_key_der`)."""
    return {"ca_index": data.ca_index,
            **{name: getattr(data, name).hex().upper() for name in (
                "issuer_certificate", "issuer_remainder", "issuer_exponent", "ssad",
                "icc_certificate", "icc_remainder", "icc_exponent")}}


def from_json(raw: dict[str, str | int], icc_key: rsa.RSAPrivateKey | None) -> OdaData:
    values = {k: bytes.fromhex(v) if isinstance(v, str) else v for k, v in raw.items()}
    return OdaData(icc_key=icc_key, **values)  # type: ignore[arg-type]


def icc_key_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_icc_key(der: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(der, None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the stored ICC key is not an RSA key")
    return key
