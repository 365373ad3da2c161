"""``hcekit android manifest``, ``aid-xml`` and ``res``: the files an APK needs.

``manifest`` and ``aid-xml`` write to stdout or ``-o FILE`` (an existing file
only with ``--force``); ``res DIR`` writes a compile-ready resource folder (the
AID XML, the strings it refers to, a placeholder banner). ``aid-xml`` and
``res`` read the claims of the card the common card options describe (by
default every installed plugin). Invalid or conflicting AIDs, resource names
Android would reject, and payment groups without a banner fail with exit
status 1 and say why; Android would have dropped most of them without a word.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hcekit.cli.common import UsageError, add_card_options, build_card
from hcekit.errors import ClaimError, HcekitError

from .bridge import SERVICE_CLASS
from .jvm import SHIM_SOURCES
from .manifest import (
    AID_XML_NAME,
    aid_xml,
    check_drawable,
    check_java_class,
    check_p4a_service_name,
    check_resource_name,
    requirements_xml,
    service_xml,
    write_res,
)

__all__ = ["add_commands"]


def _argument(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type from a manifest check: its message becomes the usage error."""

    def convert(value: str) -> str:
        try:
            return check(value)
        except ClaimError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__.removeprefix("check_").replace("_", " ")
    return convert


def _write(text: str, output: str | None, force: bool, command: str) -> int:
    if output is None or output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(output)
    if path.exists() and not force:
        raise HcekitError(f"android {command}: {output} exists; pass --force to overwrite it")
    if path.is_dir():
        raise HcekitError(f"android {command}: {output} is a directory; name the file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
    return 0


def _manifest(args: argparse.Namespace) -> int:
    try:
        text = service_xml(service_class=args.service_class, label=args.label,
                           xml_resource=args.xml_name, python_service=args.python_service,
                           cold_start_ms=args.cold_start_ms)
    except ClaimError as exc:  # a refused value (a label, a class name): exit 2
        raise UsageError(f"android manifest: {exc}") from None
    if args.requirements:
        text = requirements_xml() + text
    return _write(text, args.output, args.force, "manifest")


def _aid_xml(args: argparse.Namespace) -> int:
    try:
        with build_card(args) as card:
            claims = card.claims()
            polling = card.polling.filters()
            observe = card.polling.observe_by_default
        text = aid_xml(claims, require_device_unlock=args.require_unlock,
                       require_screen_on=not args.allow_screen_off, banner=args.banner,
                       dynamic_only=args.dynamic_only, polling=polling,
                       observe_by_default=observe)
    except HcekitError as exc:
        raise HcekitError(f"android aid-xml: {exc}") from None
    return _write(text, args.output, args.force, "aid-xml")


def _res(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        print(f"hcekit android res: {directory} is not a directory", file=sys.stderr)
        return 1
    try:
        with build_card(args) as card:
            claims = card.claims()
            polling = card.polling.filters()
            observe = card.polling.observe_by_default
        written = write_res(directory, claims, description=args.description,
                            require_device_unlock=args.require_unlock,
                            require_screen_on=not args.allow_screen_off, banner=args.banner,
                            dynamic_only=args.dynamic_only, xml_name=args.xml_name,
                            polling=polling, observe_by_default=observe)
    except (HcekitError, OSError) as exc:
        print(f"hcekit android res: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _add_service_xml_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--require-unlock", action="store_true",
                        help="android:requireDeviceUnlock=true")
    parser.add_argument("--allow-screen-off", action="store_true",
                        help="android:requireDeviceScreenOn=false: answer readers with the "
                             "screen off (read from API 31; the default, true, makes Android "
                             "answer 6A82 while the screen is off)")
    parser.add_argument("--banner", default=None, metavar="@drawable/NAME",
                        type=_argument(check_drawable),
                        help="android:apduServiceBanner; required when there are payment AIDs")
    parser.add_argument("--dynamic-only", action="store_true",
                        help="no aid-group: the app registers every AID at run time "
                             "(a WeChat-style app)")


def _java_dir(args: argparse.Namespace) -> int:
    print(SHIM_SOURCES)
    return 0


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="write to FILE instead of stdout ('-': stdout)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


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
                          type=_argument(check_java_class), metavar="CLASS",
                          help=f"fully qualified class of the shim service (default {SERVICE_CLASS})")
    manifest.add_argument("--label", default=None, help="android:label of the service")
    manifest.add_argument("--xml-name", default=AID_XML_NAME, metavar="NAME",
                          type=_argument(lambda n: check_resource_name(n, "--xml-name")),
                          help=f"the AID XML resource, res/xml/NAME.xml (default {AID_XML_NAME}; "
                               "lowercase a-z, 0-9, _)")
    manifest.add_argument("--python-service", default=None, metavar="NAME",
                          type=_argument(check_p4a_service_name),
                          help="run the HCE service in the process of python-for-android's "
                               "service NAME (buildozer: services = NAME:service.py) and start "
                               "that service when a tap finds no card attached (cold start)")
    manifest.add_argument("--cold-start-ms", default=None, type=int, metavar="MS",
                          help="how long a command waits for the Python service to come up "
                               "(default 3000; with --python-service)")
    manifest.add_argument("--requirements", action="store_true",
                          help="also print the NFC <uses-permission> and HCE <uses-feature>")
    _add_output(manifest)
    manifest.set_defaults(handler=_manifest)

    aids = commands.add_parser(
        "aid-xml", help="res/xml AID groups from the plugins' claims",
        description="Print res/xml/hcekit_apduservice.xml: one aid-group per category "
                    "with the installed plugins' AID claims, validated with Android's rules, "
                    "and the plugins' polling-loop filters and shouldDefaultToObserveMode "
                    "(Android 15; see docs/observe-mode.md). Its descriptions are @string "
                    "references: 'hcekit android res' writes the strings too.")
    add_card_options(aids)
    _add_service_xml_options(aids)
    _add_output(aids)
    aids.set_defaults(handler=_aid_xml)

    res = commands.add_parser(
        "res", help="a compile-ready res/ folder: AID XML, its strings, a banner",
        description="Write DIR/xml/hcekit_apduservice.xml, DIR/values/hcekit_strings.xml "
                    "and, for a --banner the folder lacks, a placeholder DIR/drawable/NAME.xml: "
                    "everything the HCE service's resources need, in the form Android's "
                    "resource compiler (aapt) accepts.")
    res.add_argument("directory", metavar="DIR", help="the res/ folder to write into")
    add_card_options(res)
    res.add_argument("--description", default="hcekit",
                     help="the service's description (shown in Android's NFC settings)")
    res.add_argument("--xml-name", default=AID_XML_NAME, metavar="NAME",
                     type=_argument(lambda n: check_resource_name(n, "--xml-name")),
                     help=f"the AID XML's resource name (default {AID_XML_NAME})")
    _add_service_xml_options(res)
    res.set_defaults(handler=_res)

    java_dir = commands.add_parser("java-dir",
                                   help="print the shim's Java source directory (android.add_src)")
    java_dir.set_defaults(handler=_java_dir)
