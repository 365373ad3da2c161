"""The door reader: PKI-based Card Authentication (SP 800-116 "PKI-CAK"), then an allow-list.

One tap: SELECT the PIV application, read the CHUID and the Card
Authentication certificate, check the certificate against the trust anchors
(issuer signature, validity, card-authentication key purpose), check that the
CHUID names the same card as the certificate, send a fresh random challenge
and verify the card's signature with the certificate's key, then look the
card up in the allow-list. The first failed check decides: the reader fails
closed, and says why. :func:`decide` is the logic, free of printing, so the
tests and the benchmark call it directly; :data:`DOOR_SCRIPT` wraps it for
``hcekit demo`` / ``hcekit tap``.
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hcekit import SW, CommandApdu, tlv
from hcekit.sw import describe
from hcekit.terminal import ScriptContext, ScriptOptionError, Terminal, TerminalScript
from hcekit.terminal.script import existing_file

from . import testca
from .badge import card_identifier, certificate_identifiers
from .fascn import Fascn
from .objects import Chuid, PivDataError, parse_certificate_object, unwrap_object
from .piv import OID_PIV_CARD_AUTH_EKU, PIV_AID, Alg, Ins, KeyRef, ObjectTag, Tag

__all__ = ["Decision", "DoorPolicy", "decide", "normalize_identifier", "DOOR_SCRIPT",
           "CHALLENGE_LENGTH"]

#: A SHA-256-sized challenge: the card signs it as a digest (ECDSA P-256).
CHALLENGE_LENGTH = 32
_SHORT_NE = 256


@dataclass(frozen=True)
class Decision:
    granted: bool
    reason: str
    #: The card's identifier when it got far enough to tell (UUID or FASC-N).
    identifier: str | None = None

    def __str__(self) -> str:
        verdict = "GRANT" if self.granted else "DENY"
        return f"{verdict} {self.identifier or '(unidentified card)'}: {self.reason}"


@dataclass(frozen=True)
class DoorPolicy:
    """Who the door trusts and lets in."""

    trust_anchors: tuple[x509.Certificate, ...]
    #: Card identifiers let in; None lets in every card a trust anchor vouches for
    #: (only chosen automatically in TEST mode).
    allow: frozenset[str] | None
    #: True when the trust anchor is the built-in TEST CA (said in every decision).
    test_mode: bool = False

    @classmethod
    def test(cls) -> DoorPolicy:
        """Trust the TEST CA and let in any badge it issued: ``hcekit demo`` with no setup."""
        return cls((testca.ca_certificate(),), None, test_mode=True)


def normalize_identifier(text: str) -> str:
    """Canonical form of an allow-list entry: UUID (lower case, dashed) or FASC-N fields."""
    text = text.strip()
    try:  # first: 32 FASC-N digits would also pass as a UUID's 32 hex digits
        return str(Fascn.parse(text))
    except ValueError:
        pass
    candidate = text[len("urn:uuid:"):] if text.lower().startswith("urn:uuid:") else text
    try:
        return str(uuid.UUID(candidate))
    except ValueError:
        return text


class _Deny(Exception):
    def __init__(self, reason: str, identifier: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.identifier = identifier


def _get_data(terminal: Terminal, tag: ObjectTag, what: str) -> bytes:
    tag_bytes = tlv.tag_bytes(tag)
    command = CommandApdu(0x00, Ins.GET_DATA, 0x3F, 0xFF,
                          tlv.encode(Tag.TAG_LIST, tag_bytes), _SHORT_NE)
    response = terminal.transmit(command)
    if response.sw != SW.NO_ERROR:
        raise _Deny(f"card has no readable {what} (GET DATA answered "
                    f"{response.sw:04X} {describe(response.sw)})")
    try:
        return unwrap_object(response.data)
    except PivDataError as exc:
        raise _Deny(f"malformed {what}: {exc}") from None


def _trusted_issuer(cert: x509.Certificate,
                    anchors: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for anchor in anchors:
        if anchor.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return anchor
    return None


def _check_certificate(cert: x509.Certificate, policy: DoorPolicy,
                       now: datetime.datetime) -> ec.EllipticCurvePublicKey:
    anchor = _trusted_issuer(cert, policy.trust_anchors)
    if anchor is None:
        raise _Deny(f"certificate issued by {cert.issuer.rfc4514_string()!r}, "
                    "which is not a trusted CA")
    if not anchor.not_valid_before_utc <= now <= anchor.not_valid_after_utc:
        raise _Deny("the issuing CA certificate is outside its validity period")
    if now < cert.not_valid_before_utc:
        raise _Deny(f"certificate not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if now > cert.not_valid_after_utc:
        raise _Deny(f"certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise _Deny("certificate has no extended key usage; id-PIV-cardAuth required") from None
    if x509.ObjectIdentifier(OID_PIV_CARD_AUTH_EKU) not in usages:
        raise _Deny("certificate is not for card authentication (no id-PIV-cardAuth)")
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _Deny("certificate key is not ECC P-256 (algorithm 11)")
    return key


def _authenticate(terminal: Terminal, key: ec.EllipticCurvePublicKey, challenge: bytes) -> None:
    template = tlv.encode(Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, [
        tlv.encode(Tag.RESPONSE, b""), tlv.encode(Tag.CHALLENGE, challenge),
    ])
    command = CommandApdu(0x00, Ins.GENERAL_AUTHENTICATE, Alg.ECC_P256,
                          KeyRef.CARD_AUTHENTICATION, template, _SHORT_NE)
    with terminal.sensitive():  # the card's signature: redacted as on the card
        response = terminal.transmit(command)
    if response.sw != SW.NO_ERROR:
        raise _Deny(f"card refused to sign the challenge ({response.sw:04X} "
                    f"{describe(response.sw)})")
    try:
        outer, end = tlv.parse_one(response.data)
        if outer.tag != Tag.DYNAMIC_AUTHENTICATION_TEMPLATE or end != len(response.data):
            raise _Deny("authentication response is not a 7C template")
        signature = next((c.value for c in outer.children() if c.tag == Tag.RESPONSE), b"")
    except tlv.TlvError as exc:
        raise _Deny(f"malformed authentication response: {exc.message}") from None
    if not signature:
        raise _Deny("authentication response carries no signature (82)")
    try:
        key.verify(signature, challenge, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except InvalidSignature:
        raise _Deny("challenge signature does not verify: the card does not hold "
                    "the certificate's private key") from None


def decide(terminal: Terminal, policy: DoorPolicy, *,
           now: datetime.datetime | None = None, challenge: bytes | None = None) -> Decision:
    """Run the door checks over *terminal* (already in a tap). Never raises for card faults."""
    now = now or datetime.datetime.now(datetime.UTC)
    challenge = challenge if challenge is not None else os.urandom(CHALLENGE_LENGTH)
    identifier: str | None = None
    try:
        selected = terminal.select(PIV_AID)
        if selected.sw != SW.NO_ERROR:
            raise _Deny(f"no PIV application (SELECT answered {selected.sw:04X} "
                        f"{describe(selected.sw)})")
        try:
            chuid = Chuid.parse(_get_data(terminal, ObjectTag.CHUID, "CHUID"))
            identifier = card_identifier(chuid)
        except (PivDataError, ValueError) as exc:
            raise _Deny(f"malformed CHUID: {exc}") from None
        container = _get_data(terminal, ObjectTag.CARD_AUTHENTICATION_CERT,
                              "Card Authentication certificate")
        try:
            cert = x509.load_der_x509_certificate(parse_certificate_object(container))
        except ValueError as exc:
            raise _Deny(f"malformed Card Authentication certificate: {exc}") from None
        key = _check_certificate(cert, policy, now)
        if identifier not in certificate_identifiers(cert):
            raise _Deny("CHUID names another card than the certificate (copied data?)")
        if chuid.expiration < now.strftime("%Y%m%d"):
            raise _Deny(f"CHUID expired on {chuid.expiration}")
        _authenticate(terminal, key, challenge)
    except _Deny as deny:
        return Decision(False, deny.reason, identifier)
    if policy.allow is None:
        return Decision(True, "authenticated badge of a trusted issuer (TEST mode: no allow-list)",
                        identifier)
    if identifier in policy.allow:
        return Decision(True, "authenticated and on the allow-list", identifier)
    if not policy.allow:
        return Decision(False, "no allow-list configured: nobody is let in", identifier)
    return Decision(False, "authenticated, but not on the allow-list", identifier)


def policy_from_options(ctx: ScriptContext) -> DoorPolicy:
    """Options: ``trust=PEM[,PEM]``, ``allow=ID[,ID]``, ``allow-file=PATH``; extras override."""
    anchors: list[x509.Certificate] = list(ctx.extras.get("trust_anchors", ()))
    for raw in ctx.listing("trust"):
        path = existing_file("trust", raw)
        try:
            anchors.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except ValueError as exc:
            raise ScriptOptionError(f"option trust={raw}: not PEM certificates ({exc})") from None
    allow: set[str] | None = None
    if "allow" in ctx.extras:
        allow = {normalize_identifier(i) for i in ctx.extras["allow"]}
    if "allow" in ctx.options:
        allow = (allow or set()) | {normalize_identifier(i) for i in ctx.listing("allow")}
    allow_file = ctx.path("allow-file")
    if allow_file is not None:
        lines = allow_file.read_text(errors="replace").splitlines()
        entries = {normalize_identifier(line.split("#", 1)[0]) for line in lines}
        allow = (allow or set()) | {e for e in entries if e}
    if not anchors:
        test = DoorPolicy.test()
        return DoorPolicy(test.trust_anchors, frozenset(allow) if allow is not None else None,
                          test_mode=True)
    return DoorPolicy(tuple(anchors), frozenset(allow or ()), test_mode=False)


def run_door(ctx: ScriptContext) -> int:
    """``hcekit tap access-door``: one decision for the tap the caller opened. 0 = granted."""
    policy = policy_from_options(ctx)
    if policy.test_mode:
        ctx.echo("door: trusting the built-in TEST CA (publicly known key) — demo only")
    try:
        decision = decide(ctx.terminal, policy, now=ctx.extras.get("now"))
    except Exception as exc:  # the door fails closed on any reader fault
        decision = Decision(False, f"reader error: {exc}")
    ctx.echo(f"door: {decision}")
    return 0 if decision.granted else 1


DOOR_SCRIPT = TerminalScript(
    name="access-door",
    description="Door reader: PIV Card Authentication (certificate + challenge), then an "
                "allow-list",
    run=run_door,
    demo=True,
    options={
        "trust": "PEM file(s) of trusted issuer CAs, comma-separated (default: the TEST CA)",
        "allow": "card identifiers (UUID or FASC-N) to let in, comma-separated",
        "allow-file": "file with one card identifier per line (# comments)",
    },
)
