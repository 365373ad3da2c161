"""``hcekit access personalize`` and ``hcekit access show``: the issuer's side of the badge.

A declaration on the core's personalisation framework
(:mod:`hcekit.cli.personalization`), which owns ``--store``, ``--force`` and the
exit statuses. Personalisation prints what a door administrator needs — the
card identifier for the allow-list and the certificate — and never the
private key, which stays in the store.
"""

from __future__ import annotations

import argparse
import datetime
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.cli.arguments import int_range, non_empty, open_output
from hcekit.personalization import Personalization
from hcekit.store import PluginStore

from .badge import Badge, BadgeRequest, PersonalizationError, load_badge, personalize
from .fascn import Fascn, FascnError
from .storage import DEFAULT_PIN, KEY_PRIVATE

__all__ = ["PERSONALIZATION"]

#: Longest certificate validity --days accepts (100 years; X.509 ends at 9999-12-31).
MAX_DAYS = 36500


@dataclass(frozen=True)
class _Request:
    badge: BadgeRequest
    cert_out: Path | None
    force: bool


def _arguments(parser: argparse.ArgumentParser) -> None:
    issuer = parser.add_mutually_exclusive_group()
    issuer.add_argument("--issuer-key", type=Path, metavar="PEM",
                        help="issuer CA private key (EC, PEM; with --issuer-cert)")
    issuer.add_argument("--self-signed", action="store_true",
                        help="self-signed certificate (readers must trust it explicitly)")
    parser.add_argument("--issuer-cert", type=Path, metavar="PEM",
                        help="issuer CA certificate (PEM)")
    parser.add_argument("--uuid", type=uuid.UUID, default=None, help="card UUID (default: random)")
    parser.add_argument("--fascn", default=None, metavar="A-S-C-S-I-P-O-O-A",
                        help="FASC-N fields, e.g. 9999-9999-999999-0-1-0000000000-3-0000-1")
    parser.add_argument("--days", type=int_range(1, MAX_DAYS), default=365,
                        help="certificate validity in days (default %(default)s)")
    parser.add_argument("--subject", type=non_empty, default=None,
                        help="certificate subject common name")
    parser.add_argument("--label", type=non_empty, default="hcekit access badge",
                        help="application label")
    parser.add_argument("--pin", default=DEFAULT_PIN, help="PIV PIN (6-8 digits)")
    parser.add_argument("--cert-out", type=Path, metavar="PEM",
                        help="also write the certificate here (an existing file only with --force)")


def _load_issuer(args: argparse.Namespace) -> tuple[ec.EllipticCurvePrivateKey | None,
                                                     x509.Certificate | None]:
    if args.issuer_key is None and args.issuer_cert is None:
        return None, None
    if args.issuer_key is None or args.issuer_cert is None:
        raise PersonalizationError("--issuer-key and --issuer-cert go together")
    try:
        key = serialization.load_pem_private_key(args.issuer_key.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(args.issuer_cert.read_bytes())
    except ValueError as exc:
        raise PersonalizationError(f"cannot read the issuer key or certificate: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PersonalizationError("the issuer key must be an EC key")
    return key, cert


def _prepare(args: argparse.Namespace) -> _Request:
    issuer_key, issuer_cert = _load_issuer(args)
    try:
        fascn = Fascn.parse(args.fascn) if args.fascn else None
    except FascnError as exc:
        raise PersonalizationError(f"--fascn: {exc}") from None
    now = datetime.datetime.now(datetime.UTC)
    return _Request(BadgeRequest(
        card_uuid=args.uuid, fascn=fascn, issuer_key=issuer_key, issuer_cert=issuer_cert,
        self_signed=args.self_signed, subject=args.subject or "",
        not_before=now - datetime.timedelta(minutes=5),
        not_after=now + datetime.timedelta(days=args.days), label=args.label, pin=args.pin,
    ), args.cert_out, args.force)


def _describe(badge: Badge) -> list[str]:
    cert = badge.certificate
    return [
        f"card identifier: {badge.identifier}",
        f"subject:         {cert.subject.rfc4514_string()}",
        f"issuer:          {cert.issuer.rfc4514_string()}",
        f"valid:           {cert.not_valid_before_utc:%Y-%m-%d} .. "
        f"{cert.not_valid_after_utc:%Y-%m-%d}",
        f"sha256:          {cert.fingerprint(hashes.SHA256()).hex()}",
    ]


def _write(store: PluginStore, request: _Request) -> list[str]:
    badge = personalize(store, request.badge)
    lines = []
    if request.badge.issuer_key is None and not request.badge.self_signed:
        lines.append("note: issued under the built-in TEST CA (publicly known key) — demo only")
    lines.extend(_describe(badge))
    if request.cert_out is not None:  # inside the transaction: a failed write keeps no badge
        with open_output(request.cert_out, force=request.force, option="--cert-out") as out:
            out.write(badge.certificate.public_bytes(serialization.Encoding.PEM).decode())
        lines.append(f"certificate written to {request.cert_out}")
    return lines


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pem", action="store_true", help="also print the certificate as PEM")


def _show(store: PluginStore, args: argparse.Namespace) -> list[str]:
    badge = load_badge(store)
    assert badge is not None  # the framework checked that a badge exists
    lines = _describe(badge)
    if args.pem:
        lines.append(badge.certificate.public_bytes(serialization.Encoding.PEM).decode().rstrip())
    return lines


PERSONALIZATION: Personalization[_Request] = Personalization(
    summary="PIV access badge: personalize, show",
    description="Personalise the PIV access badge in the store: a new P-256 Card "
                "Authentication key (it never leaves the store), its certificate (signed by "
                "--issuer-key/--issuer-cert, self-signed, or by the TEST CA by default) and the "
                "CHUID (UUID or FASC-N identifier). Prints the card identifier, never the key.",
    add_arguments=_arguments,
    prepare=_prepare,
    write=_write,
    exists=lambda store: KEY_PRIVATE in store,
    show=_show,
    show_description="Print the badge's card identifier and certificate summary (or PEM); "
                     "the private key is never shown.",
    add_show_arguments=_show_arguments,
    noun="badge",
)
