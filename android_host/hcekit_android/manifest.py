"""The Android files an hcekit app needs: the ``<service>`` element and the AID XML.

Android reads the AIDs from ``res/xml/<name>.xml`` (``host-apdu-service`` →
``aid-group`` → ``aid-filter`` / ``aid-prefix-filter`` / ``aid-suffix-filter``,
the last being the "subset" kind, ``#``) and *silently drops* an invalid or
duplicate AID, an empty group, or an unknown category (read as ``other``).
hcekit generates these files from the plugins' claims and refuses every such
case loudly instead; :func:`parse_aid_xml` reads a file back the way
Android's ``ApduServiceInfo`` does, strictly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from hcekit.aid import AidKind, Category, Claim, parse_aid_filter
from hcekit.errors import ClaimError

from .bridge import SERVICE_CLASS
from .host import android_category

__all__ = [
    "ANDROID_NS",
    "AID_XML_NAME",
    "AidGroup",
    "aid_groups",
    "aid_xml",
    "service_xml",
    "requirements_xml",
    "parse_aid_xml",
]

ANDROID_NS = "http://schemas.android.com/apk/res/android"
#: ``res/xml/hcekit_apduservice.xml``, referenced as ``@xml/hcekit_apduservice``.
AID_XML_NAME = "hcekit_apduservice"
HOST_APDU_SERVICE_ACTION = "android.nfc.cardemulation.action.HOST_APDU_SERVICE"
HOST_APDU_SERVICE_META = "android.nfc.cardemulation.host_apdu_service"
BIND_NFC_SERVICE = "android.permission.BIND_NFC_SERVICE"

#: XML element per claim kind (Android names the subset filter "suffix").
FILTER_ELEMENTS = {
    AidKind.EXACT: "aid-filter",
    AidKind.PREFIX: "aid-prefix-filter",
    AidKind.SUBSET: "aid-suffix-filter",
}
_KIND_BY_ELEMENT = {element: kind for kind, element in FILTER_ELEMENTS.items()}


def _a(name: str) -> str:
    return f"{{{ANDROID_NS}}}{name}"


@dataclass(frozen=True)
class AidGroup:
    """One ``<aid-group>``: a category, a description, its claims."""

    category: Category
    description: str
    claims: tuple[Claim, ...]


def aid_groups(claims: Sequence[tuple[str, Claim]]) -> list[AidGroup]:
    """Group ``(plugin, claim)`` pairs by Android category; refuse duplicates."""
    seen: dict[str, str] = {}
    grouped: dict[Category, list[tuple[str, Claim]]] = {}
    for plugin, claim in claims:
        if claim.filter in seen:
            raise ClaimError(f"AID {claim.filter} is claimed by {seen[claim.filter]!r} and "
                             f"{plugin!r}; Android would silently keep one")
        seen[claim.filter] = plugin
        grouped.setdefault(android_category(plugin, claim), []).append((plugin, claim))
    groups = []
    for category in (Category.PAYMENT, Category.OTHER):
        members = grouped.get(category)
        if members:
            plugins = sorted({plugin for plugin, _ in members})
            groups.append(AidGroup(category, "hcekit: " + ", ".join(plugins),
                                   tuple(claim for _, claim in members)))
    return groups


def _pretty(root: ET.Element) -> str:
    ET.register_namespace("android", ANDROID_NS)
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="unicode")


def aid_xml(
    claims: Sequence[tuple[str, Claim]],
    *,
    description: str = "hcekit",
    require_device_unlock: bool = False,
    banner: str | None = None,
) -> str:
    """``res/xml/hcekit_apduservice.xml`` for *claims* (``Card.claims()``)."""
    groups = aid_groups(claims)
    if not groups:
        raise ClaimError("no AID claims: Android ignores an HCE service without AIDs")
    root = ET.Element("host-apdu-service", {
        _a("description"): description,
        _a("requireDeviceUnlock"): "true" if require_device_unlock else "false",
    })
    if banner is not None:
        root.set(_a("apduServiceBanner"), banner)
    for group in groups:
        node = ET.SubElement(root, "aid-group", {
            _a("category"): group.category.value,
            _a("description"): group.description,
        })
        for claim in group.claims:
            ET.SubElement(node, FILTER_ELEMENTS[claim.kind], {_a("name"): claim.aid.hex().upper()})
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + _pretty(root) + "\n"
    parse_aid_xml(text)  # what we write must read back exactly
    return text


def service_xml(
    *,
    service_class: str = SERVICE_CLASS,
    label: str | None = None,
    xml_resource: str = AID_XML_NAME,
) -> str:
    """The ``<service>`` element for the manifest's ``<application>`` (android: prefix)."""
    attrs = {"android:name": service_class, "android:exported": "true",
             "android:permission": BIND_NFC_SERVICE}
    if label is not None:
        attrs["android:label"] = label
    root = ET.Element("service", attrs)
    intent = ET.SubElement(root, "intent-filter")
    ET.SubElement(intent, "action", {"android:name": HOST_APDU_SERVICE_ACTION})
    ET.SubElement(root, "meta-data", {"android:name": HOST_APDU_SERVICE_META,
                                      "android:resource": f"@xml/{xml_resource}"})
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="unicode") + "\n"


def requirements_xml(*, hce_required: bool = True) -> str:
    """``<uses-permission>`` NFC and ``<uses-feature>`` HCE, for the manifest root."""
    return (
        '<uses-permission android:name="android.permission.NFC" />\n'
        '<uses-feature android:name="android.hardware.nfc.hce" '
        f'android:required="{"true" if hce_required else "false"}" />\n'
    )


def parse_aid_xml(text: str) -> list[tuple[Category, str]]:
    """Read an AID XML as Android does, but raise :class:`ClaimError` where Android drops.

    Returns ``(category, filter)`` pairs in Android notation (``*``/``#`` appended).
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ClaimError(f"AID XML is not well-formed: {exc}") from exc
    if root.tag != "host-apdu-service":
        raise ClaimError(f"root element is <{root.tag}>, Android expects <host-apdu-service>")
    if not root.get(_a("description")):
        raise ClaimError("<host-apdu-service> needs android:description")
    found: list[tuple[Category, str]] = []
    for group in root:
        if group.tag != "aid-group":
            raise ClaimError(f"unexpected <{group.tag}> in <host-apdu-service>")
        category = group.get(_a("category"))
        if category not in {c.value for c in Category}:
            raise ClaimError(f"aid-group category {category!r}: Android reads anything but "
                             "'payment' as 'other'; say which")
        if not group.get(_a("description")):
            raise ClaimError("an <aid-group> needs android:description")
        if len(group) == 0:
            raise ClaimError("an empty <aid-group> is dropped by Android")
        for node in group:
            kind = _KIND_BY_ELEMENT.get(node.tag)
            if kind is None:
                raise ClaimError(f"unexpected <{node.tag}> in <aid-group>")
            name = node.get(_a("name"))
            if name is None:
                raise ClaimError(f"<{node.tag}> without android:name")
            if name.endswith(("*", "#")):
                raise ClaimError(f"<{node.tag} android:name={name!r}>: the element says the "
                                 "kind; the name is the bare AID")
            aid, _ = parse_aid_filter(name + kind.value)
            text_filter = aid.hex().upper() + kind.value
            if any(text_filter == seen for _, seen in found):
                raise ClaimError(f"AID {text_filter} appears twice; Android keeps one silently")
            found.append((Category(category), text_filter))
    if not found:
        raise ClaimError("no AIDs: Android ignores the service")
    return found
