"""Personalization: the badge's key pair, its certificate and CHUID, kept in the plugin store.

The Card Authentication private key is generated here and written only to
the plugin's store; nothing in this module returns, prints or logs it —
:class:`Badge` holds it for signing and its ``repr`` hides it. Everything a
badge is made of lands in one store transaction, so an interrupted
personalization leaves the previous badge (or none), never half of one.
"""

from __future__ import annotations

import datetime
import os
import uuid
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hcekit.store import PluginStore

from . import testca
from .fascn import Fascn
from .objects import CCC_CARD_ID_LENGTH, NON_FEDERAL_FASCN, Chuid
from .piv import OID_PIV_CARD_AUTH_EKU, OID_PIV_FASCN
from .storage import (
    DEFAULT_PIN,
    KEY_CCC_ID,
    KEY_CERT,
    KEY_CHUID,
    KEY_META,
    KEY_PIN,
    KEY_PIN_TRIES,
    KEY_PRIVATE,
    PIN_LENGTH,
    PIN_TRIES,
    PersonalizationError,
    is_personalized,
)

__all__ = [
    "Badge",
    "BadgeRequest",
    "PersonalizationError",
    "personalize",
    "load_badge",
    "card_identifier",
    "certificate_identifiers",
    "DEFAULT_PIN",
    "PIN_TRIES",
]

DEFAULT_VALIDITY = datetime.timedelta(days=365)
_BACKDATE = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class BadgeRequest:
    """What to put on a badge. Empty fields get TEST defaults."""

    #: Card UUID (CHUID GUID, certificate SAN). Random if None and no FASC-N is given.
    card_uuid: uuid.UUID | None = None
    #: Key the badge on a FASC-N instead of (or as well as) the UUID.
    fascn: Fascn | None = None
    #: Issuer of the Card Authentication certificate; None: the TEST CA (or self-signed).
    issuer_key: ec.EllipticCurvePrivateKey | None = None
    issuer_cert: x509.Certificate | None = None
    self_signed: bool = False
    subject: str = ""
    not_before: datetime.datetime | None = None
    not_after: datetime.datetime | None = None
    label: str = "hcekit access badge"
    pin: str = DEFAULT_PIN


@dataclass(frozen=True)
class Badge:
    """A personalized badge as the applet serves it."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate
    chuid: Chuid
    label: str
    ccc_card_id: bytes

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def identifier(self) -> str:
        return card_identifier(self.chuid)


def card_identifier(chuid: Chuid) -> str:
    """The identifier an allow-list holds: the UUID, or the FASC-N fields when there is none."""
    card_uuid = chuid.uuid
    if card_uuid is not None:
        return str(card_uuid)
    return str(Fascn.decode(chuid.fascn))


def certificate_identifiers(cert: x509.Certificate) -> set[str]:
    """UUIDs (``urn:uuid:`` URIs) and FASC-Ns (otherName) the certificate's subjectAltName binds."""
    found: set[str] = set()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return found
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.lower().startswith("urn:uuid:"):
            try:
                found.add(str(uuid.UUID(uri[len("urn:uuid:"):])))
            except ValueError:
                continue
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string == OID_PIV_FASCN:
            raw = other.value
            # DER OCTET STRING of 25 bytes: 04 19 …
            if len(raw) == 27 and raw[:2] == b"\x04\x19":
                try:
                    found.add(str(Fascn.decode(raw[2:])))
                except ValueError:
                    continue
    return found


def _pin_bytes(pin: str) -> bytes:
    if not (6 <= len(pin) <= PIN_LENGTH and pin.isdigit() and pin.isascii()):
        raise PersonalizationError("the PIN must be 6 to 8 decimal digits")
    return pin.encode("ascii").ljust(PIN_LENGTH, b"\xff")


def _issue_certificate(request: BadgeRequest, card_key: ec.EllipticCurvePrivateKey,
                       card_uuid: uuid.UUID | None) -> x509.Certificate:
    if (request.issuer_key is None) != (request.issuer_cert is None):
        raise PersonalizationError("give both the issuer key and the issuer certificate, or neither")
    if request.self_signed and request.issuer_key is not None:
        raise PersonalizationError("self-signed and an issuer CA exclude each other")
    now = datetime.datetime.now(datetime.UTC)
    not_before = request.not_before or now - _BACKDATE
    not_after = request.not_after or now + DEFAULT_VALIDITY
    if not_after <= not_before:
        raise PersonalizationError("the certificate would expire before it becomes valid")
    if request.self_signed:
        issuer_key: ec.EllipticCurvePrivateKey = card_key
        issuer_name: x509.Name | None = None
        issuer_public = card_key.public_key()
    else:
        issuer_key = request.issuer_key or testca.ca_key()
        issuer_cert = request.issuer_cert or testca.ca_certificate()
        issuer_public_any = issuer_cert.public_key()
        if not isinstance(issuer_public_any, ec.EllipticCurvePublicKey) or \
                issuer_public_any.public_numbers() != issuer_key.public_key().public_numbers():
            raise PersonalizationError("the issuer key does not belong to the issuer certificate")
        issuer_name = issuer_cert.subject
        issuer_public = issuer_public_any
    label = str(card_uuid) if card_uuid is not None else str(request.fascn)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, request.subject or f"Card Authentication {label}"),
    ])
    names: list[x509.GeneralName] = []
    if card_uuid is not None:
        names.append(x509.UniformResourceIdentifier(f"urn:uuid:{card_uuid}"))
    if request.fascn is not None:
        names.append(x509.OtherName(x509.ObjectIdentifier(OID_PIV_FASCN),
                                    b"\x04\x19" + request.fascn.encode()))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(card_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(OID_PIV_CARD_AUTH_EKU)]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(card_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public),
                       critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def personalize(store: PluginStore, request: BadgeRequest | None = None) -> Badge:
    """Generate the Card Authentication key, issue its certificate, build the CHUID; store all.

    Replaces an existing badge. Returns the new badge (its key stays inside).
    """
    request = request or BadgeRequest()
    pin = _pin_bytes(request.pin)
    card_uuid = request.card_uuid
    if card_uuid is None and request.fascn is None:
        card_uuid = uuid.uuid4()
    card_key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue_certificate(request, card_key, card_uuid)
    chuid = Chuid(
        fascn=(request.fascn or NON_FEDERAL_FASCN).encode(),
        guid=card_uuid.bytes if card_uuid is not None else bytes(16),
        expiration=cert.not_valid_after_utc.strftime("%Y%m%d"),
    )
    private_der = card_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ccc_id = os.urandom(CCC_CARD_ID_LENGTH)
    with store.transaction():
        store.set(KEY_PRIVATE, private_der)
        store.set(KEY_CERT, cert.public_bytes(serialization.Encoding.DER))
        store.set(KEY_CHUID, chuid.encode())
        store.set(KEY_CCC_ID, ccc_id)
        store.set(KEY_PIN, pin)
        store.set_int(KEY_PIN_TRIES, PIN_TRIES)
        store.set_json(KEY_META, {"version": 1, "label": request.label})
    return Badge(card_key, cert, chuid, request.label, ccc_id)


def load_badge(store: PluginStore) -> Badge | None:
    """The stored badge, or None if this store was never personalized."""
    if not is_personalized(store):
        return None
    private_der, cert_der, chuid_raw = store.get(KEY_PRIVATE), store.get(KEY_CERT), store.get(KEY_CHUID)
    meta, ccc_id = store.get_json(KEY_META), store.get(KEY_CCC_ID)
    if private_der is None or cert_der is None or chuid_raw is None or not isinstance(meta, dict) \
            or ccc_id is None:
        raise PersonalizationError("the badge store is incomplete; personalize again")
    key = serialization.load_der_private_key(private_der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PersonalizationError("the stored Card Authentication key is not an EC key")
    return Badge(key, x509.load_der_x509_certificate(cert_der), Chuid.parse(chuid_raw),
                 str(meta.get("label", "")), ccc_id)
