"""Observe mode on the Android side: the service XML's polling-loop filters, and the pure
functions the shim and AndroidHost use (no JVM needed)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hcekit import Card, ClaimError
from hcekit.cli import main
from hcekit.polling import Decision, FrameType, PollingFilter, PollingFrame
from hcekit.store import MemoryStore
from hcekit.testing.requirements import missing
from hcekit_android.manifest import ANDROID_NS, aid_xml, parse_aid_xml, parse_polling_xml
from hcekit_android.observe import (
    MIN_OBSERVE_MODE_API,
    filter_registrations,
    frame_from_android,
    observe_mode_after_tap,
    observe_mode_call,
    observe_mode_downgrade,
)
from hcekit_transit import TransitPlugin
from hcekit_transit.gates import TRANSIT_GATE_PATTERN

FRAMEWORK_RES_29 = Path("/usr/share/android-framework-res/framework-res.apk")


def gates_card() -> Card:
    return Card([TransitPlugin()], store=MemoryStore(), options={"transit": {"gates_only": True}})


def test_the_service_xml_carries_the_filters_and_observe_mode() -> None:
    extra = ("other", PollingFilter.exact("6A01FFFFFF"))
    with gates_card() as card:
        text = aid_xml(card.claims(), polling=[*card.polling.filters(), extra],
                       observe_by_default=card.polling.observe_by_default)
        aids = {f for _, f in card.claims()}
    root = ET.fromstring(text)
    a = f"{{{ANDROID_NS}}}"
    assert root.get(a + "shouldDefaultToObserveMode") == "true"
    pattern = root.find("polling-loop-pattern-filter")
    exact = root.find("polling-loop-filter")
    assert pattern is not None and exact is not None
    assert (pattern.get(a + "name"), pattern.get(a + "autoTransact")) == (TRANSIT_GATE_PATTERN, "true")
    assert (exact.get(a + "name"), exact.get(a + "autoTransact")) == ("6A01FFFFFF", "false")
    filters, observe = parse_polling_xml(text)
    assert observe and filters == [PollingFilter.pattern(TRANSIT_GATE_PATTERN, auto_transact=True),
                                   extra[1]]
    assert {f for _, f in parse_aid_xml(text)} == {c.filter for c in aids}


def test_without_filters_the_xml_has_no_api_35_attribute() -> None:
    with Card([TransitPlugin()], store=MemoryStore()) as card:
        text = aid_xml(card.claims(), polling=card.polling.filters(),
                       observe_by_default=card.polling.observe_by_default)
    assert "polling-loop" not in text and "ObserveMode" not in text
    assert parse_polling_xml(text) == ([], False)


def test_conflicting_filters_are_refused_in_the_xml_too() -> None:
    with gates_card() as card, pytest.raises(ClaimError, match="conflicting polling-loop filters"):
        aid_xml(card.claims(), polling=[*card.polling.filters(),
                                        ("other", PollingFilter.exact("6A02C30100"))])


@pytest.mark.parametrize(("element", "message"), [
    ('<polling-loop-pattern-filter android:name="*6A" android:autoTransact="true"/>', "repeats nothing"),
    ('<polling-loop-filter android:name="6A0" />', "even number of hex digits"),
    ('<polling-loop-filter android:name="6A02" android:autoTransact="yes"/>', "expected true or false"),
    ('<polling-loop-filter android:autoTransact="true"/>', "without android:name"),
    ('<polling-loop-filter android:name="6A02"/><polling-loop-filter android:name="6a02"/>', "twice"),
])
def test_parse_refuses_filters_android_would_throw_on_or_drop(element: str, message: str) -> None:
    text = (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="@string/d">'
            f'{element}</host-apdu-service>')
    with pytest.raises(ClaimError, match=message):
        parse_aid_xml(text)


def test_cli_aid_xml_writes_the_plugins_filters(tmp_path: Path) -> None:
    out = tmp_path / "hcekit_apduservice.xml"
    code = main(["android", "aid-xml", "--no-installed", "--plugin", "hcekit_transit:TransitPlugin",
                 "--option", "transit.gates_only=true", "-o", str(out)])
    assert code == 0
    filters, observe = parse_polling_xml(out.read_text())
    assert observe and [f.value for f in filters] == [TRANSIT_GATE_PATTERN]


def test_debian_api_29_resources_lack_the_observe_mode_attributes(tmp_path: Path) -> None:
    """What docs/observe-mode.md states: aapt against Debian's API 29 framework resources
    refuses exactly the API 35 attributes (they need compileSdk 35's android.jar)."""
    aapt = shutil.which("aapt")
    if aapt is None or not FRAMEWORK_RES_29.exists():
        missing("aapt and android-framework-res (Debian packages aapt, android-framework-res)")
    assert aapt is not None
    with gates_card() as card:
        text = aid_xml(card.claims(), polling=card.polling.filters(), observe_by_default=True)
    (tmp_path / "res" / "xml").mkdir(parents=True)
    (tmp_path / "res" / "xml" / "hcekit_apduservice.xml").write_text(text)
    (tmp_path / "AndroidManifest.xml").write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" '
        'package="org.hcekit.check"><application/></manifest>')
    result = subprocess.run([aapt, "package", "-f", "-M", str(tmp_path / "AndroidManifest.xml"),
                             "-S", str(tmp_path / "res"), "-I", str(FRAMEWORK_RES_29),
                             "-F", str(tmp_path / "out.apk")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    missing_attrs = {line.split("'")[1] for line in result.stderr.splitlines()
                     if "No resource identifier found for attribute" in line}
    assert {"autoTransact", "shouldDefaultToObserveMode"} <= missing_attrs
    assert "name" not in missing_attrs  # the elements' other attribute exists at API 29


# -- the pure functions for the shim and AndroidHost ---------------------------------------


def test_filter_registrations_name_the_cardemulation_calls() -> None:
    with gates_card() as card:
        calls = filter_registrations([*card.polling.filters(),
                                      ("door", PollingFilter.exact("6a01ffffff"))])
    assert [(c.method, c.value, c.auto_transact, c.plugin) for c in calls] == [
        ("registerPollingLoopPatternFilterForService", TRANSIT_GATE_PATTERN, True, "transit"),
        ("registerPollingLoopFilterForService", "6A01FFFFFF", False, "door"),
    ]


def test_frames_from_the_android_getters() -> None:
    frame = frame_from_android(0x55, bytes.fromhex("6A02C30100"), 12, 345, True)
    assert frame == PollingFrame(FrameType.UNKNOWN, bytes.fromhex("6A02C30100"), 12, 345, True)
    assert frame_from_android(ord("O"), None, -1, 1, False) == PollingFrame(FrameType.ON, b"", -1, 1)
    assert frame_from_android(ord("X"), b"\x00", -1, 2, False) == PollingFrame(FrameType.OFF, b"", -1, 2)
    assert frame_from_android(ord("Z"), b"\x00", -1, 0, False) is None


def test_decisions_become_set_observe_mode_enabled_calls() -> None:
    assert observe_mode_call(Decision.TRANSACT) is False
    assert observe_mode_call(Decision.SILENT) is True
    assert observe_mode_call(Decision.OBSERVE) is None
    assert observe_mode_after_tap(True, Decision.TRANSACT) is True
    assert observe_mode_after_tap(False, Decision.TRANSACT) is None
    assert observe_mode_after_tap(True, Decision.OBSERVE) is None


def test_the_downgrade_is_one_line_naming_the_reason() -> None:
    assert observe_mode_downgrade(34, None, plugins=["transit"]) == (
        f"observe mode needs Android 15 (API {MIN_OBSERVE_MODE_API}); this phone runs API 34: "
        "polling-loop filters of transit are inactive and the card answers every reader")
    line = observe_mode_downgrade(35, False, plugins=["transit", "door"])
    assert line is not None and "isObserveModeSupported() is false" in line and "transit, door" in line
    assert observe_mode_downgrade(35, True, plugins=["transit"]) is None
    assert observe_mode_downgrade(30, None, plugins=[]) is None
