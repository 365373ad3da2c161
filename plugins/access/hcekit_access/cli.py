"""``hcekit access personalize`` and ``hcekit access show``: the issuer's side of the badge.

Personalization writes to the same store the card uses (``--store``, default
``$HCEKIT_STORE`` or the user store). It prints what a door administrator
needs — the card identifier for the allow-list and the certificate — and
never the private key, which stays in the store.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.cli.common import open_cli_store

from .badge import DEFAULT_PIN, Badge, BadgeRequest, PersonalizationError, load_badge, personalize
from .fascn import Fascn, FascnError

__all__ = ["add_commands"]

PLUGIN_NAMESPACE = "access"


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    access = subparsers.add_parser("access", help="PIV access badge: personalize, show")
    commands = access.add_subparsers(dest="access_command", required=True)

    pers = commands.add_parser(
        "personalize", help="generate the Card Authentication key, issue its certificate, build the CHUID",
        description="Personalise the PIV access badge in the store: a new P-256 Card "
                    "Authentication key (it never leaves the store), its certificate (signed by "
                    "--issuer-key/--issuer-cert, self-signed, or by the TEST CA by default) and "
                    "the CHUID (UUID or FASC-N identifier). Prints the card identifier, never "
                    "the key.")
    pers.add_argument("--store", default=None, metavar="PATH",
                      help="store file (default: $HCEKIT_STORE or ~/.local/share/hcekit/store.sqlite)")
    issuer = pers.add_mutually_exclusive_group()
    issuer.add_argument("--issuer-key", type=Path, metavar="PEM",
                        help="issuer CA private key (EC, PEM; with --issuer-cert)")
    issuer.add_argument("--self-signed", action="store_true",
                        help="self-signed certificate (readers must trust it explicitly)")
    pers.add_argument("--issuer-cert", type=Path, metavar="PEM", help="issuer CA certificate (PEM)")
    pers.add_argument("--uuid", type=uuid.UUID, default=None, help="card UUID (default: random)")
    pers.add_argument("--fascn", default=None, metavar="A-S-C-S-I-P-O-O-A",
                      help="FASC-N fields, e.g. 9999-9999-999999-0-1-0000000000-3-0000-1")
    pers.add_argument("--days", type=int, default=365, help="certificate validity in days")
    pers.add_argument("--subject", default="", help="certificate subject common name")
    pers.add_argument("--label", default="hcekit access badge", help="application label")
    pers.add_argument("--pin", default=DEFAULT_PIN, help="PIV PIN (6-8 digits)")
    pers.add_argument("--cert-out", type=Path, metavar="PEM", help="also write the certificate here")
    pers.add_argument("--force", action="store_true", help="replace an existing badge")
    pers.set_defaults(handler=_personalize)

    show = commands.add_parser("show", help="print the badge identifier and certificate",
                               description="Print the badge's card identifier and certificate "
                                           "summary (or PEM); the private key is never shown.")
    show.add_argument("--store", default=None, metavar="PATH",
                      help="store file (default: $HCEKIT_STORE or ~/.local/share/hcekit/store.sqlite)")
    show.add_argument("--pem", action="store_true", help="print the certificate as PEM")
    show.set_defaults(handler=_show)


def _describe(badge: Badge) -> str:
    cert = badge.certificate
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    return "\n".join((
        f"card identifier: {badge.identifier}",
        f"subject:         {cert.subject.rfc4514_string()}",
        f"issuer:          {cert.issuer.rfc4514_string()}",
        f"valid:           {cert.not_valid_before_utc:%Y-%m-%d} .. {cert.not_valid_after_utc:%Y-%m-%d}",
        f"sha256:          {fingerprint}",
    ))


def _load_issuer(args: argparse.Namespace) -> tuple[ec.EllipticCurvePrivateKey | None,
                                                     x509.Certificate | None]:
    if args.issuer_key is None and args.issuer_cert is None:
        return None, None
    if args.issuer_key is None or args.issuer_cert is None:
        raise PersonalizationError("--issuer-key and --issuer-cert go together")
    key = serialization.load_pem_private_key(args.issuer_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PersonalizationError("the issuer key must be an EC key")
    return key, x509.load_pem_x509_certificate(args.issuer_cert.read_bytes())


def _personalize(args: argparse.Namespace) -> int:
    store = open_cli_store(args.store)
    try:
        ns = store.namespace(PLUGIN_NAMESPACE)
        if load_badge(ns) is not None and not args.force:
            print("hcekit access: this store already holds a badge; --force replaces it",
                  file=sys.stderr)
            return 2
        issuer_key, issuer_cert = _load_issuer(args)
        fascn = Fascn.parse(args.fascn) if args.fascn else None
        now = datetime.datetime.now(datetime.UTC)
        request = BadgeRequest(
            card_uuid=args.uuid, fascn=fascn, issuer_key=issuer_key, issuer_cert=issuer_cert,
            self_signed=args.self_signed, subject=args.subject,
            not_before=now - datetime.timedelta(minutes=5),
            not_after=now + datetime.timedelta(days=args.days), label=args.label, pin=args.pin,
        )
        badge = personalize(ns, request)
    except (PersonalizationError, FascnError, ValueError, OSError) as exc:
        print(f"hcekit access personalize: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if issuer_key is None and not args.self_signed:
        print("note: issued under the built-in TEST CA (publicly known key) — demo only")
    print(_describe(badge))
    if args.cert_out is not None:
        args.cert_out.write_bytes(badge.certificate.public_bytes(serialization.Encoding.PEM))
        print(f"certificate written to {args.cert_out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    store = open_cli_store(args.store, read_only=True)
    try:
        badge = load_badge(store.namespace(PLUGIN_NAMESPACE))
    except PersonalizationError as exc:
        print(f"hcekit access show: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if badge is None:
        print("no badge in this store (the card self-personalizes a TEST badge on first start)")
        return 1
    print(_describe(badge))
    if args.pem:
        print(badge.certificate.public_bytes(serialization.Encoding.PEM).decode(), end="")
    return 0
