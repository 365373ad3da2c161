"""``hcekit android manifest`` and ``hcekit android aid-xml``: the files an APK needs.

Both read the claims of the card the common card options describe (by default
every installed plugin) and write to stdout or ``-o FILE``. Invalid or
conflicting AIDs fail with exit status 1 and say why; Android would have
dropped them without a word.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hcekit.cli.common import add_card_options, build_card
from hcekit.errors import HcekitError

from .bridge import SERVICE_CLASS
from .jvm import SHIM_SOURCES
from .manifest import AID_XML_NAME, aid_xml, requirements_xml, service_xml

__all__ = ["add_commands"]


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


def _manifest(args: argparse.Namespace) -> int:
    text = service_xml(service_class=args.service_class, label=args.label,
                       xml_resource=args.xml_name)
    if args.requirements:
        text = requirements_xml() + text
    _write(text, args.output)
    return 0


def _aid_xml(args: argparse.Namespace) -> int:
    try:
        with build_card(args) as card:
            claims = card.claims()
        text = aid_xml(claims, description=args.description,
                       require_device_unlock=args.require_unlock, banner=args.banner)
    except HcekitError as exc:
        print(f"hcekit android aid-xml: {exc}", file=sys.stderr)
        return 1
    if args.banner is None and "payment" in text and args.output not in (None, "-"):
        print("note: payment services need --banner @drawable/… to be listed in "
              "Android's Tap & pay settings", file=sys.stderr)
    _write(text, args.output)
    return 0


def _java_dir(args: argparse.Namespace) -> int:
    print(SHIM_SOURCES)
    return 0


def add_commands(subparsers: Any) -> None:
    android = subparsers.add_parser(
        "android", help="generate the Android manifest entry and AID XML",
        description="Files for an Android app built with python-for-android/buildozer "
                    "(see docs/android.md).")
    commands = android.add_subparsers(title="android commands", metavar="COMMAND")
    android.set_defaults(handler=lambda args: (android.print_help(), 2)[1])

    manifest = commands.add_parser(
        "manifest", help="the <service> element for AndroidManifest.xml",
        description="Print the HCE <service> element (exported, BIND_NFC_SERVICE, "
                    "HOST_APDU_SERVICE intent filter, AID XML meta-data).")
    manifest.add_argument("--service-class", default=SERVICE_CLASS,
                          help=f"the shim class (default {SERVICE_CLASS})")
    manifest.add_argument("--label", default=None, help="android:label of the service")
    manifest.add_argument("--xml-name", default=AID_XML_NAME,
                          help=f"the AID XML resource name (default {AID_XML_NAME})")
    manifest.add_argument("--requirements", action="store_true",
                          help="also print the NFC <uses-permission> and HCE <uses-feature>")
    manifest.add_argument("-o", "--output", default=None, metavar="FILE")
    manifest.set_defaults(handler=_manifest)

    aids = commands.add_parser(
        "aid-xml", help="res/xml AID groups from the plugins' claims",
        description="Print res/xml/hcekit_apduservice.xml: one aid-group per category "
                    "with the installed plugins' AID claims, validated with Android's rules.")
    add_card_options(aids, default_store=":memory:")
    aids.add_argument("--description", default="hcekit",
                      help="android:description of the service (shown by Android)")
    aids.add_argument("--require-unlock", action="store_true",
                      help="android:requireDeviceUnlock=true")
    aids.add_argument("--banner", default=None, metavar="@drawable/NAME",
                      help="android:apduServiceBanner (payment services)")
    aids.add_argument("-o", "--output", default=None, metavar="FILE")
    aids.set_defaults(handler=_aid_xml)

    java_dir = commands.add_parser("java-dir",
                                   help="print the shim's Java source directory (android.add_src)")
    java_dir.set_defaults(handler=_java_dir)
