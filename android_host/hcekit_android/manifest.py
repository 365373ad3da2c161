"""The Android files an hcekit app needs: the ``<service>`` element and the AID XML.

Android reads the AIDs from ``res/xml/<name>.xml`` (``host-apdu-service`` →
``aid-group`` → ``aid-filter`` / ``aid-prefix-filter`` / ``aid-suffix-filter``,
the last being the "subset" kind, ``#``) and *silently drops* an invalid or
duplicate AID, an empty group, or an unknown category (read as ``other``).
hcekit generates these files from the plugins' claims and refuses every such
case loudly instead; :func:`parse_aid_xml` reads a file back the way
Android's ``ApduServiceInfo`` does, strictly. A service with no aid-group is
valid (its AIDs are all registered at run time); a payment group needs a
banner (Android lists payment services in Tap & pay with it) and a service
has at most one payment group (``ApduServiceInfo`` ignores a second).

Descriptions are string resources: ``android:description`` of
``host-apdu-service`` and ``aid-group`` is reference-only in the framework, and
Android's resource compiler refuses a literal ("String types not allowed").
So :func:`aid_xml` writes ``@string/…`` references and :func:`strings_xml` the
values; :func:`write_res` writes the whole compile-ready ``res/`` folder
(``hcekit android res``), which the suite compiles with ``aapt``.

Android 15 (API 35) reads polling-loop filters from the same XML
(``ApduServiceInfo``): ``<polling-loop-filter>`` and
``<polling-loop-pattern-filter>`` directly under ``<host-apdu-service>``, each
with ``android:name`` and ``android:autoTransact``, and
``android:shouldDefaultToObserveMode`` on ``<host-apdu-service>``. hcekit writes
them from the plugins' ``hcekit_polling_loop`` declarations and reads them
back with :func:`parse_polling_xml`. Earlier Android versions ignore the
elements, but resource compilers against older framework resources (Debian's
API 29 ``android-framework-res``) refuse the unknown attributes.

Names that end up in the manifest or resources are checked with Android's
rules too: resource names (:func:`check_resource_name`), drawable references
(:func:`check_drawable`), the service class (:func:`check_java_class`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hcekit.aid import AidKind, Category, Claim, parse_aid_filter
from hcekit.errors import ClaimError
from hcekit.polling import FilterKind, PollingFilter, check_filter_conflicts

from .bridge import SERVICE_CLASS
from .host import android_category

__all__ = [
    "ANDROID_NS",
    "AID_XML_NAME",
    "AidGroup",
    "aid_groups",
    "aid_xml",
    "strings_xml",
    "write_res",
    "service_xml",
    "requirements_xml",
    "parse_aid_xml",
    "parse_polling_xml",
    "POLLING_ELEMENTS",
    "check_resource_name",
    "check_drawable",
    "check_java_class",
    "check_p4a_service_name",
    "p4a_service_class",
    "p4a_service_process",
    "META_PYTHON_SERVICE",
    "META_COLD_START_MS",
]

ANDROID_NS = "http://schemas.android.com/apk/res/android"
#: ``res/xml/hcekit_apduservice.xml``, referenced as ``@xml/hcekit_apduservice``.
AID_XML_NAME = "hcekit_apduservice"
HOST_APDU_SERVICE_ACTION = "android.nfc.cardemulation.action.HOST_APDU_SERVICE"
#: Meta-data the shim reads in onCreate (``HcekitBridge.META_*``).
META_PYTHON_SERVICE = "org.hcekit.python_service"
META_COLD_START_MS = "org.hcekit.cold_start_ms"
HOST_APDU_SERVICE_META = "android.nfc.cardemulation.host_apdu_service"
BIND_NFC_SERVICE = "android.permission.BIND_NFC_SERVICE"
#: ``res/values/hcekit_strings.xml``: the texts the AID XML refers to.
STRINGS_NAME = "hcekit_strings"
SERVICE_DESCRIPTION = "hcekit_service_description"
GROUP_DESCRIPTIONS = {Category.PAYMENT: "hcekit_payment_aids", Category.OTHER: "hcekit_other_aids"}
#: A string resource reference, as aapt accepts for a reference-only attribute.
_STRING_REFERENCE = re.compile(r"@(?:android:)?string/[a-z_][a-z0-9_]*")

#: XML element per claim kind (Android names the subset filter "suffix").
FILTER_ELEMENTS = {
    AidKind.EXACT: "aid-filter",
    AidKind.PREFIX: "aid-prefix-filter",
    AidKind.SUBSET: "aid-suffix-filter",
}
_KIND_BY_ELEMENT = {element: kind for kind, element in FILTER_ELEMENTS.items()}
#: XML element per polling-loop filter kind (API 35 ``ApduServiceInfo``).
POLLING_ELEMENTS = {
    FilterKind.EXACT: "polling-loop-filter",
    FilterKind.PATTERN: "polling-loop-pattern-filter",
}
_POLLING_KIND = {element: kind for kind, element in POLLING_ELEMENTS.items()}

#: Java's reserved words (JLS §3.9) and literals: never an R field nor a class name part.
JAVA_KEYWORDS = frozenset("""
    abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int
    interface long native new package private protected public return short static strictfp
    super switch synchronized this throw throws transient try void volatile while
    true false null _
""".split())
_RESOURCE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_DRAWABLE = re.compile(r"@(?:(?P<package>[A-Za-z][A-Za-z0-9_.]*):)?drawable/(?P<name>.+)")
_JAVA_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def check_resource_name(name: str, what: str = "resource name") -> str:
    """*name* if Android accepts it as a file-based resource name, else :class:`ClaimError`.

    aapt2: lowercase a-z, digits and underscore only, and a valid Java
    identifier (it becomes a field of ``R``), so no leading digit, no keyword.
    """
    if not _RESOURCE_NAME.fullmatch(name):
        raise ClaimError(f"{what} {name!r}: Android resource names use only lowercase a-z, "
                         "0-9 and _, and do not start with a digit (no extension, no path)")
    if name in JAVA_KEYWORDS:
        raise ClaimError(f"{what} {name!r} is a Java keyword; aapt2 cannot make it an R field")
    return name


def check_drawable(reference: str) -> str:
    """*reference* if it is a drawable reference Android resolves (``@drawable/name``)."""
    match = _DRAWABLE.fullmatch(reference)
    if match is None:
        raise ClaimError(f"banner {reference!r}: expected a drawable reference such as "
                         "@drawable/banner (a file res/drawable/banner.png or .xml)")
    check_resource_name(match["name"], "drawable name")
    return reference


_P4A_SERVICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def check_p4a_service_name(name: str) -> str:
    """*name* if it can be a python-for-android service NAME (``services = NAME:ENTRY.py``).

    p4a makes it part of a Java class name (``Service<Name>``) and of the
    process name (``:service_<name>``): letters, digits and ``_``, starting with a letter.
    """
    if not _P4A_SERVICE_NAME.fullmatch(name):
        raise ClaimError(f"python service name {name!r}: use letters, digits and _ starting with "
                         "a letter (python-for-android builds the class Service<Name> from it)")
    return name


def p4a_service_class(name: str) -> str:
    """The class python-for-android generates for service *name*, relative to the package.

    p4a renders ``{package}.Service{{ name|capitalize }}``: jinja2's capitalize
    upper-cases the first letter and lower-cases the rest, as ``str.capitalize``.
    """
    return ".Service" + check_p4a_service_name(name).capitalize()


def p4a_service_process(name: str) -> str:
    """The ``android:process`` python-for-android gives service *name*: ``:service_<name>``."""
    return ":service_" + check_p4a_service_name(name)


def check_java_class(name: str) -> str:
    """*name* if it is a fully qualified Java class name (package.Class)."""
    parts = name.split(".")
    if len(parts) < 2 or not all(_JAVA_IDENTIFIER.fullmatch(part) for part in parts):
        raise ClaimError(f"service class {name!r}: expected a fully qualified Java class name "
                         "such as org.example.app.CardService (the host builds the component "
                         "name from it, so a relative '.Name' is not accepted)")
    keywords = [part for part in parts if part in JAVA_KEYWORDS]
    if keywords:
        raise ClaimError(f"service class {name!r}: {', '.join(keywords)} is a Java keyword")
    return name


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


def _string_ref(name: str) -> str:
    return f"@string/{name}"


def aid_xml(
    claims: Sequence[tuple[str, Claim]],
    *,
    require_device_unlock: bool = False,
    require_screen_on: bool = True,
    banner: str | None = None,
    dynamic_only: bool = False,
    polling: Sequence[tuple[str, PollingFilter]] = (),
    observe_by_default: bool = False,
) -> str:
    """``res/xml/hcekit_apduservice.xml`` for *claims* (``Card.claims()``).

    Descriptions are ``@string`` references to :func:`strings_xml`'s values.
    *require_screen_on* False writes ``android:requireDeviceScreenOn="false"``
    (read from API 31; host services default to true, and HostEmulationManager
    answers 6A82 while the screen is off). *dynamic_only*: no aid-group at all;
    the app registers every AID at run time (``registerAidsForService``), as a
    WeChat-style app does. *polling*: ``(plugin, filter)`` pairs
    (``card.polling.filters()``), written as polling-loop filters;
    *observe_by_default* writes ``android:shouldDefaultToObserveMode="true"``
    (``card.polling.observe_by_default``).
    """
    if banner is not None:
        check_drawable(banner)
    groups = [] if dynamic_only else aid_groups(claims)
    if not groups and not dynamic_only:
        raise ClaimError("no AID claims: an HCE service routes nothing until it registers "
                         "AIDs; for a service that registers them all at run time, ask for "
                         "a dynamic-only service (--dynamic-only)")
    if banner is None and any(g.category is Category.PAYMENT for g in groups):
        raise ClaimError("a payment aid-group needs android:apduServiceBanner (--banner "
                         "@drawable/NAME): Android's Tap & pay settings show payment services "
                         "by their banner")
    root = ET.Element("host-apdu-service", {
        _a("description"): _string_ref(SERVICE_DESCRIPTION),
        _a("requireDeviceUnlock"): "true" if require_device_unlock else "false",
    })
    if not require_screen_on:
        root.set(_a("requireDeviceScreenOn"), "false")
    if banner is not None:
        root.set(_a("apduServiceBanner"), banner)
    if observe_by_default:
        root.set(_a("shouldDefaultToObserveMode"), "true")
    for group in groups:
        node = ET.SubElement(root, "aid-group", {
            _a("category"): group.category.value,
            _a("description"): _string_ref(GROUP_DESCRIPTIONS[group.category]),
        })
        for claim in group.claims:
            ET.SubElement(node, FILTER_ELEMENTS[claim.kind], {_a("name"): claim.aid.hex().upper()})
    check_filter_conflicts(polling)
    for _plugin, flt in polling:
        ET.SubElement(root, POLLING_ELEMENTS[flt.kind], {
            _a("name"): flt.value,
            _a("autoTransact"): "true" if flt.auto_transact else "false",
        })
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + _pretty(root) + "\n"
    parse_aid_xml(text)  # what we write must read back exactly
    return text


def _xml_text(value: str) -> str:
    """*value* as an aapt string: XML-escaped, and aapt's own escapes (' \" @ ?) quoted."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
    if escaped.startswith(("@", "?")):
        escaped = "\\" + escaped
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def strings_xml(claims: Sequence[tuple[str, Claim]], *, description: str = "hcekit",
                dynamic_only: bool = False) -> str:
    """``res/values/hcekit_strings.xml``: the service's description and each group's."""
    if not description.strip():
        raise ClaimError("the service description is empty; Android shows it in its NFC settings")
    values = {SERVICE_DESCRIPTION: description}
    for group in [] if dynamic_only else aid_groups(claims):
        values[GROUP_DESCRIPTIONS[group.category]] = group.description
    lines = [f'    <string name="{name}">{_xml_text(text)}</string>' for name, text in values.items()]
    return ('<?xml version="1.0" encoding="utf-8"?>\n<resources>\n'
            + "\n".join(lines) + "\n</resources>\n")


#: A plain banner for Tap & pay when the app has none yet: a shape drawable (no image file).
_BANNER_DRAWABLE = """<?xml version="1.0" encoding="utf-8"?>
<!-- hcekit placeholder banner for Tap & pay: replace it with the app's own artwork -->
<shape xmlns:android="http://schemas.android.com/apk/res/android" android:shape="rectangle">
    <solid android:color="#FF1E3A5F" />
    <size android:width="260dp" android:height="96dp" />
</shape>
"""


def write_res(directory: Path, claims: Sequence[tuple[str, Claim]], *, description: str = "hcekit",
              require_device_unlock: bool = False, require_screen_on: bool = True,
              banner: str | None = None, dynamic_only: bool = False,
              xml_name: str = AID_XML_NAME,
              polling: Sequence[tuple[str, PollingFilter]] = (),
              observe_by_default: bool = False) -> list[Path]:
    """Write a compile-ready ``res/`` into *directory*; return the files written.

    The AID XML, its strings and, for a banner ``@drawable/NAME`` that the
    folder does not have yet, a placeholder drawable of that name. Existing
    files of the same names are replaced; nothing else is touched.
    """
    check_resource_name(xml_name, "AID XML resource name")
    xml_text = aid_xml(claims, require_device_unlock=require_device_unlock,
                       require_screen_on=require_screen_on, banner=banner,
                       dynamic_only=dynamic_only, polling=polling,
                       observe_by_default=observe_by_default)
    files = {Path("xml") / f"{xml_name}.xml": xml_text,
             Path("values") / f"{STRINGS_NAME}.xml": strings_xml(
                 claims, description=description, dynamic_only=dynamic_only)}
    if banner is not None:
        match = _DRAWABLE.fullmatch(banner)
        assert match is not None  # check_drawable passed
        name = match.group("name")
        if match.group("package") is None and not any(directory.glob(f"drawable*/{name}.*")):
            files[Path("drawable") / f"{name}.xml"] = _BANNER_DRAWABLE
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def service_xml(
    *,
    service_class: str = SERVICE_CLASS,
    label: str | None = None,
    xml_resource: str = AID_XML_NAME,
    python_service: str | None = None,
    cold_start_ms: int | None = None,
) -> str:
    """The ``<service>`` element for the manifest's ``<application>`` (android: prefix).

    *python_service*: the NAME of the python-for-android service that runs the
    card (``services = NAME:ENTRY.py``). The HCE service then lives in that
    service's process (``:service_NAME``), so the shim's static bridge and the
    Python card share it, and its meta-data tells the shim which class to start
    on a cold start and how long a command may wait for it (*cold_start_ms*).
    """
    check_java_class(service_class)
    check_resource_name(xml_resource, "AID XML resource name")
    if cold_start_ms is not None and python_service is None:
        raise ClaimError("a cold-start deadline only applies with a Python service to start")
    if cold_start_ms is not None and not 1 <= cold_start_ms <= 60_000:
        raise ClaimError(f"cold-start deadline {cold_start_ms} ms: expected 1..60000")
    attrs = {"android:name": service_class, "android:exported": "true",
             "android:permission": BIND_NFC_SERVICE}
    if python_service is not None:
        attrs["android:process"] = p4a_service_process(python_service)
    if label is not None:
        attrs["android:label"] = label
    root = ET.Element("service", attrs)
    intent = ET.SubElement(root, "intent-filter")
    ET.SubElement(intent, "action", {"android:name": HOST_APDU_SERVICE_ACTION})
    ET.SubElement(root, "meta-data", {"android:name": HOST_APDU_SERVICE_META,
                                      "android:resource": f"@xml/{xml_resource}"})
    if python_service is not None:
        ET.SubElement(root, "meta-data", {"android:name": META_PYTHON_SERVICE,
                                          "android:value": p4a_service_class(python_service)})
        if cold_start_ms is not None:
            ET.SubElement(root, "meta-data", {"android:name": META_COLD_START_MS,
                                              "android:value": str(cold_start_ms)})
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="unicode") + "\n"


def requirements_xml(*, hce_required: bool = True) -> str:
    """``<uses-permission>`` NFC and ``<uses-feature>`` HCE, for the manifest root."""
    return (
        '<uses-permission android:name="android.permission.NFC" />\n'
        '<uses-feature android:name="android.hardware.nfc.hce" '
        f'android:required="{"true" if hce_required else "false"}" />\n'
    )


def _check_description(node: ET.Element, what: str) -> None:
    """android:description must be a string resource reference, as aapt requires."""
    value = node.get(_a("description"))
    if not value:
        raise ClaimError(f"{what} needs android:description (a @string/NAME reference)")
    if not _STRING_REFERENCE.fullmatch(value):
        raise ClaimError(f"{what} android:description={value!r}: the attribute is reference-only; "
                         "Android's resource compiler refuses a literal (String types not "
                         "allowed). Use @string/NAME with the text in res/values "
                         "(hcekit android res writes both)")


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
    _check_description(root, "<host-apdu-service>")
    screen = root.get(_a("requireDeviceScreenOn"))
    if screen is not None and screen not in ("true", "false"):
        raise ClaimError(f"android:requireDeviceScreenOn={screen!r}: expected true or false")
    banner = root.get(_a("apduServiceBanner"))
    if banner is not None:
        check_drawable(banner)
    found: list[tuple[Category, str]] = []
    payment_groups = 0
    _read_polling(root)
    for group in root:
        if group.tag in _POLLING_KIND:
            continue
        if group.tag != "aid-group":
            raise ClaimError(f"unexpected <{group.tag}> in <host-apdu-service>")
        category = group.get(_a("category"))
        if category not in {c.value for c in Category}:
            raise ClaimError(f"aid-group category {category!r}: Android reads anything but "
                             "'payment' as 'other'; say which")
        _check_description(group, "an <aid-group>")
        if category == Category.PAYMENT.value:
            payment_groups += 1
            if payment_groups > 1:
                raise ClaimError("a second payment <aid-group>: Android keeps the first and "
                                 "ignores this one; put every payment AID in one group")
            if banner is None:
                raise ClaimError("a payment <aid-group> needs android:apduServiceBanner on "
                                 "<host-apdu-service> (Tap & pay lists payment services by it)")
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
    return found  # empty: a dynamic-only service (every AID registered at run time)


def _read_polling(root: ET.Element) -> tuple[list[PollingFilter], bool]:
    """The polling-loop filters and observe-mode default of a parsed service XML, validated."""
    observe = root.get(_a("shouldDefaultToObserveMode"))
    if observe not in (None, "true", "false"):
        raise ClaimError(f"android:shouldDefaultToObserveMode={observe!r}: expected true or false")
    filters: list[PollingFilter] = []
    for node in root:
        kind = _POLLING_KIND.get(node.tag)
        if kind is None:
            continue
        name = node.get(_a("name"))
        auto = node.get(_a("autoTransact"), "false")
        if name is None:
            raise ClaimError(f"<{node.tag}> without android:name")
        if auto not in ("true", "false"):
            raise ClaimError(f"<{node.tag} android:name={name!r}>: android:autoTransact={auto!r}, "
                             "expected true or false")
        build = PollingFilter.exact if kind is FilterKind.EXACT else PollingFilter.pattern
        flt = build(name, auto_transact=auto == "true")
        if any(f.kind is flt.kind and f.value == flt.value for f in filters):
            raise ClaimError(f"<{node.tag} android:name={name!r}> appears twice; Android keeps "
                             "one autoTransact value silently")
        filters.append(flt)
    return filters, observe == "true"


def parse_polling_xml(text: str) -> tuple[list[PollingFilter], bool]:
    """The polling-loop filters of a service XML and its ``shouldDefaultToObserveMode``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ClaimError(f"AID XML is not well-formed: {exc}") from exc
    return _read_polling(root)
