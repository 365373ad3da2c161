"""``hcekit aliro personalize`` and ``hcekit aliro reader`` (added by the plugin's hook).

Keys are read from PEM files and written to the store only; nothing here
prints a private key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from hcekit.cli.common import add_store_option, hexbytes, open_cli_store, store_location

from .credential import Personalization, TrustedGroup
from .crypto import point_of
from .testkeys import TEST_GROUP_ID, test_credential_issuer_key, test_issuer_key, test_reader_key

__all__ = ["add_commands", "cmd_personalize", "cmd_reader"]

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _public_pem(path: str) -> bytes:
    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: not a readable PEM public key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise argparse.ArgumentTypeError(f"{path}: not a P-256 public key")
    return point_of(key)


def _private_pem(path: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: not a readable PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise argparse.ArgumentTypeError(f"{path}: not a P-256 private key")
    return key


def _group(text: str) -> bytes:
    value = hexbytes(text)
    if len(value) != 16:
        raise argparse.ArgumentTypeError(f"reader group {text!r}: 16 bytes (32 hex digits)")
    return value


def add_commands(subparsers: SubParsers) -> None:
    aliro = subparsers.add_parser("aliro", help="Aliro access credential: personalise, read")
    sub = aliro.add_subparsers(title="aliro commands", metavar="COMMAND")

    def usage(args: argparse.Namespace) -> int:
        aliro.print_help()
        return 2

    aliro.set_defaults(handler=usage)
    p = sub.add_parser(
        "personalize", help="write a new Aliro credential into a store",
        description="Personalise the Aliro credential held in the store: a new endpoint key "
        "pair, the reader group it opens (with the reader's verification key and/or the "
        "reader-system issuer key that signs reader certificates) and an Access Document "
        "signed by the credential issuer. Without options the public TEST reader group is "
        "used (docs/aliro.md).")
    add_store_option(p)
    p.add_argument("--group", type=_group, metavar="HEX",
                   help="reader group identifier, 16 bytes (default: the TEST group)")
    p.add_argument("--reader-key", type=_public_pem, metavar="PEM",
                   help="the reader's P-256 verification (public) key")
    p.add_argument("--issuer-key", type=_public_pem, metavar="PEM",
                   help="the reader-system issuer's P-256 public key (for reader certificates)")
    p.add_argument("--document-issuer", type=_private_pem, metavar="PEM",
                   help="credential issuer private key that signs the Access Document "
                        "(default: the TEST issuer)")
    p.add_argument("--no-document", action="store_true", help="provision no Access Document")
    p.add_argument("--read-only-mailbox", action="store_true",
                   help="refuse mailbox writes and sets from readers")
    p.add_argument("--force", action="store_true", help="replace a credential the store holds")
    p.set_defaults(handler=cmd_personalize)

    r = sub.add_parser(
        "reader", help="run the Aliro door reader against a credential",
        description="Tap the credential as a door reader: fast, standard without and with a "
        "certificate, EXCHANGE (mailbox read) and the step-up Access Document; prints the "
        "decision. Uses the TEST reader identity; over the in-process card on the store by "
        "default (personalised for the TEST group if empty), or a PC/SC reader with --reader.")
    r.add_argument("--reader", metavar="NAME", help="PC/SC reader name (substring)")
    add_store_option(r)
    r.add_argument("--no-step-up", action="store_true", help="skip the step-up phase")
    r.set_defaults(handler=cmd_reader)


def cmd_personalize(args: argparse.Namespace) -> int:
    path = store_location(args.store)
    test = args.group is None
    if test and (args.reader_key or args.issuer_key):
        print("hcekit aliro personalize: --reader-key/--issuer-key need --group",
              file=sys.stderr)
        return 2
    if test:
        group = TrustedGroup(TEST_GROUP_ID, point_of(test_reader_key()), point_of(test_issuer_key()))
    else:
        if not (args.reader_key or args.issuer_key):
            print("hcekit aliro personalize: --group needs --reader-key or --issuer-key",
                  file=sys.stderr)
            return 2
        group = TrustedGroup(args.group, args.reader_key, args.issuer_key)
    issuer = None if args.no_document else (args.document_issuer or test_credential_issuer_key())
    personalization = Personalization(groups=[group], document_issuer=issuer,
                                      mailbox_write=not args.read_only_mailbox, test=test)
    backend = open_cli_store(args.store)
    try:
        store = backend.namespace("aliro")
        if store.keys() and not args.force:
            print(f"hcekit aliro personalize: {path} already holds an Aliro credential "
                  "(use --force to replace it)", file=sys.stderr)
            return 1
        personalization.write(store)
    finally:
        backend.close()
    label = "the TEST reader group (public keys)" if test else f"reader group {group.group_id.hex()}"
    print(f"personalised an Aliro credential in {path} for {label}; endpoint key "
          f"{point_of(personalization.endpoint_key)[1:9].hex().upper()}… (private half stored only)")
    return 0


def cmd_reader(args: argparse.Namespace) -> int:
    from hcekit.terminal import ScriptContext

    from .plugin import AliroPlugin
    from .reader import reader_script

    options = {"step_up": "no" if args.no_step_up else "yes"}
    if args.reader and args.store is not None:
        print("hcekit aliro reader: --store is for the in-process card; with --reader the "
              "card is the one the reader sees (its own process owns its store)", file=sys.stderr)
        return 2
    if args.reader:
        from hcekit.terminal import Terminal
        from hcekit.terminal.pcsc import PcscTransport

        terminal = Terminal(PcscTransport(args.reader))
        return reader_script.run(ScriptContext(terminal, options))
    from hcekit.testing.loopback import loopback_rig

    backend = open_cli_store(args.store)
    rig = loopback_rig([AliroPlugin()], store=backend)
    try:
        return reader_script.run(ScriptContext(rig.terminal, options))
    finally:
        rig.close()
        backend.close()
