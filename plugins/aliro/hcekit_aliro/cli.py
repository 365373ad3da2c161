"""``hcekit aliro personalize``, ``show`` and ``reader``.

``personalize`` and ``show`` are a declaration on the core's personalisation
framework (:mod:`hcekit.cli.personalization`, which owns ``--store``,
``--force`` and the exit statuses); ``reader`` is the door reader
(:mod:`.reader`) as a command. Keys are read from PEM files and written to
the store only; nothing here prints a private key.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from hcekit.cli.common import UsageError, add_store_option, hexbytes, open_cli_store
from hcekit.errors import PersonalizationError
from hcekit.personalization import Personalization
from hcekit.store import PluginStore

from . import credential
from .credential import Credential, TrustedGroup
from .crypto import load_point, point_of
from .storage import is_personalised
from .testkeys import TEST_GROUP_ID, test_credential_issuer_key, test_issuer_key, test_reader_key

__all__ = ["cmd_reader", "personalization"]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _public_pem(path: str) -> bytes:
    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except ValueError as exc:
        raise PersonalizationError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise PersonalizationError(f"{path}: not a P-256 public key")
    return point_of(key)


def _private_pem(path: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise PersonalizationError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise PersonalizationError(f"{path}: not a P-256 private key")
    return key


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", type=hexbytes, metavar="HEX",
                        help="reader group identifier, 16 bytes (default: the TEST group)")
    parser.add_argument("--reader-key", metavar="PEM",
                        help="the readers' P-256 verification (public) key")
    parser.add_argument("--issuer-key", metavar="PEM",
                        help="the reader-system issuer's P-256 public key (for reader "
                             "certificates)")
    parser.add_argument("--document-issuer", metavar="PEM",
                        help="credential issuer private key that signs the Access and Revocation "
                             "Documents (default: the TEST issuer)")
    parser.add_argument("--no-document", action="store_true", help="provision no step-up documents")
    parser.add_argument("--read-only-mailbox", action="store_true",
                        help="refuse mailbox writes and sets from readers")


def _prepare(args: argparse.Namespace) -> credential.Personalization:
    if args.group is None:
        if args.reader_key or args.issuer_key:
            raise PersonalizationError("--reader-key/--issuer-key need --group")
        group = TrustedGroup(TEST_GROUP_ID, point_of(test_reader_key()),
                             point_of(test_issuer_key()))
    else:
        if len(args.group) != 16:
            raise PersonalizationError(f"--group: 16 bytes (32 hex digits), got {len(args.group)}")
        if not (args.reader_key or args.issuer_key):
            raise PersonalizationError("--group needs --reader-key or --issuer-key")
        group = TrustedGroup(args.group,
                             _public_pem(args.reader_key) if args.reader_key else None,
                             _public_pem(args.issuer_key) if args.issuer_key else None)
    issuer = None
    if not args.no_document:
        issuer = (_private_pem(args.document_issuer) if args.document_issuer
                  else test_credential_issuer_key())
    return credential.Personalization(groups=[group], document_issuer=issuer,
                                      mailbox_write=not args.read_only_mailbox,
                                      test=args.group is None)


def _write(store: PluginStore, request: credential.Personalization) -> list[str]:
    request.write(store)
    group = request.groups[0]
    label = ("the TEST reader group (public keys)" if request.test
             else f"reader group {group.group_id.hex().upper()}")
    return [f"personalised an Aliro credential for {label}; the private half of its endpoint "
            "key is stored only",
            f"endpoint public key (uncompressed, hex): {point_of(request.endpoint_key).hex().upper()}"]


def _public_key_lines(point: bytes) -> list[str]:
    """The credential's whole public key, as a reader enrols it: PEM and uncompressed hex."""
    pem = load_point(point).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return [f"endpoint public key (uncompressed, hex): {point.hex().upper()}",
            *pem.decode("ascii").splitlines()]


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--public-key", action="store_true",
                        help="print the credential's whole public key (PEM and uncompressed "
                             "hex), as a reader system enrols it")


def _show(store: PluginStore, args: argparse.Namespace) -> list[str]:
    held = Credential(store)
    if args.public_key:
        return _public_key_lines(held.endpoint_public)
    lines = [f"endpoint key {held.endpoint_public[1:9].hex().upper()}… "
             f"({'TEST group' if held.config.get('test') else 'personalised'})"]
    for raw in held.config.get("groups", []):
        group = TrustedGroup.from_json(raw)
        how = [n for n, k in (("reader key", group.reader_public),
                              ("certificate issuer", group.issuer_public)) if k]
        lines.append(f"reader group {group.group_id.hex().upper()}: {', '.join(how)}")
    lines.append(f"documents: {', '.join(d.doc_type for d in held.documents) or 'none'}")
    lines.append(f"readers with a Kpersistent (fast flow): {len(held.cached_readers())}")
    mailbox = held.mailbox
    lines.append(f"mailbox: {len(mailbox)} bytes, {sum(1 for b in mailbox if b)} non-zero, "
                 f"{'writable' if held.mailbox_writable else 'read-only'} for readers")
    return lines


def _reader_command(commands: SubParsers, plugin: Callable[[], object]) -> None:
    r = commands.add_parser(
        "reader", help="run the Aliro door reader against a credential",
        description="Tap the credential as a door reader: fast, standard without and with a "
        "certificate, EXCHANGE (mailbox read) and the step-up Access Document; prints the "
        "decision. Uses the TEST reader identity; over the in-process card on the store by "
        "default (personalised for the TEST group if empty), or a PC/SC reader with --reader.")
    r.add_argument("--reader", metavar="NAME", help="PC/SC reader name (substring)")
    add_store_option(r)
    r.add_argument("--no-step-up", action="store_true", help="skip the step-up phase")
    r.set_defaults(handler=lambda args: cmd_reader(args, plugin))


def cmd_reader(args: argparse.Namespace, plugin: Callable[[], object]) -> int:
    """Tap the reader script; in process, against a card with a fresh *plugin()*."""
    from hcekit.terminal import ScriptContext, Terminal

    from .reader import reader_script

    options = {"step_up": "no" if args.no_step_up else "yes"}
    if args.reader and args.store is not None:
        raise UsageError("aliro reader: --store is for the in-process card; with --reader the "
                         "card is the one the reader sees (its own process owns its store)")
    if args.reader:
        from hcekit.terminal.pcsc import PcscTransport

        return reader_script.run(ScriptContext(Terminal(PcscTransport(args.reader)), options))
    from hcekit.testing.loopback import loopback_rig

    backend = open_cli_store(args.store)
    rig = loopback_rig([plugin()], store=backend)
    try:
        return reader_script.run(ScriptContext(rig.terminal, options))
    finally:
        rig.close()
        backend.close()


def personalization(plugin: Callable[[], object]) -> Personalization[credential.Personalization]:
    """The declaration behind ``hcekit aliro …``; *plugin* makes the card ``reader`` taps.

    The plugin passes its own class, so this module never imports the plugin's.
    """
    return Personalization(
        summary="Aliro access credential: personalize, show, reader",
        description="Personalise the Aliro credential in the store: a new endpoint key pair, the "
                    "reader group it opens (with the readers' verification key and/or the "
                    "reader-system issuer key that signs reader certificates) and the Access and "
                    "Revocation Documents signed by the credential issuer. Without options the "
                    "public TEST reader group is used (docs/aliro.md).",
        add_arguments=_arguments,
        prepare=_prepare,
        write=_write,
        exists=is_personalised,
        show=_show,
        show_description="Print the stored credential: reader groups, documents, how many readers "
                         "hold a Kpersistent, the mailbox (never a private key); --public-key "
                         "prints the whole public key a reader system enrols.",
        add_show_arguments=_show_arguments,
        add_commands=lambda commands: _reader_command(commands, plugin),
        noun="credential",
    )
