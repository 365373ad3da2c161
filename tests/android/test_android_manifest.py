"""Generated manifest entry, AID XML, CLI and the p4a hook's manifest edit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hcekit import Card, Category, Claim, ClaimError, hookimpl
from hcekit.cli import main
from hcekit_android.manifest import (
    ANDROID_NS,
    aid_xml,
    check_java_class,
    check_resource_name,
    parse_aid_xml,
    requirements_xml,
    service_xml,
)
from hcekit_ndef import NdefPlugin

from .android_plugins import PAY_AID, PROBE_AID, Payment, Probe
from .android_support import P4A_MANIFEST, A, load_p4a_hook

PPSE = b"2PAY.SYS.DDF01".hex().upper()

class Prefixes:
    name = "prefixes"

    @hookimpl
    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim.parse("F0AA0102030405*", description="prefix"),
                Claim.parse("F0BB01020304050607#", description="subset")]


def wrap(fragment: str) -> ET.Element:
    return ET.fromstring(f'<manifest xmlns:android="{ANDROID_NS}">{fragment}</manifest>')


def test_service_element_has_what_android_binds_to() -> None:
    root = wrap(service_xml())
    (service,) = root.findall("service")
    assert service.attrib == {
        A + "name": "org.hcekit.android.HcekitApduService",
        A + "exported": "true",
        A + "permission": "android.permission.BIND_NFC_SERVICE",
    }
    (intent_filter,) = service.findall("intent-filter")
    assert [a.attrib for a in intent_filter] == [
        {A + "name": "android.nfc.cardemulation.action.HOST_APDU_SERVICE"}]
    (meta,) = service.findall("meta-data")
    assert meta.attrib == {A + "name": "android.nfc.cardemulation.host_apdu_service",
                           A + "resource": "@xml/hcekit_apduservice"}


def test_requirements_declare_nfc_and_hce() -> None:
    root = wrap(requirements_xml())
    assert [e.attrib for e in root.iter("uses-permission")] == [
        {A + "name": "android.permission.NFC"}]
    assert [e.attrib for e in root.iter("uses-feature")] == [
        {A + "name": "android.hardware.nfc.hce", A + "required": "true"}]


def test_aid_xml_groups_claims_by_category_with_android_elements() -> None:
    with Card([Probe(), Payment(), Prefixes(), NdefPlugin]) as card:
        text = aid_xml(card.claims(), banner="@drawable/banner")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(text)
    assert root.tag == "host-apdu-service"
    assert root.attrib == {A + "description": "@string/hcekit_service_description",
                           A + "requireDeviceUnlock": "false",
                           A + "apduServiceBanner": "@drawable/banner"}
    groups = {g.get(A + "category"): g for g in root.findall("aid-group")}
    assert set(groups) == {"payment", "other"}
    assert {g.get(A + "description") for g in groups.values()} == {
        "@string/hcekit_payment_aids", "@string/hcekit_other_aids"}
    payment = [(e.tag, e.get(A + "name")) for e in groups["payment"]]
    assert sorted(payment) == sorted([("aid-filter", PAY_AID.hex().upper()),
                                      ("aid-filter", PPSE)])
    other = [(e.tag, e.get(A + "name")) for e in groups["other"]]
    assert sorted(other) == sorted([
        ("aid-filter", PROBE_AID.hex().upper()),
        ("aid-filter", "D2760000850101"),
        ("aid-prefix-filter", "F0AA0102030405"),
        ("aid-suffix-filter", "F0BB01020304050607"),
    ])
    # and Android's reading of it gives back exactly the card's routes
    with Card([Probe(), Payment(), Prefixes(), NdefPlugin]) as card:
        expected = {c.filter for _, c in card.claims()}
    assert {f for _, f in parse_aid_xml(text)} == expected


def test_payment_banner_and_unlock_are_written() -> None:
    with Card([Payment()]) as card:
        root = ET.fromstring(aid_xml(card.claims(), require_device_unlock=True,
                                     banner="@drawable/banner"))
    assert root.get(A + "requireDeviceUnlock") == "true"
    assert root.get(A + "apduServiceBanner") == "@drawable/banner"


def test_duplicate_claims_are_refused_not_dropped() -> None:
    claim = Claim.parse("F0010203040506")
    with pytest.raises(ClaimError, match="F0010203040506"):
        aid_xml([("a", claim), ("b", Claim(claim.aid, Category.PAYMENT))])


def test_no_claims_is_an_error_unless_the_service_is_dynamic_only() -> None:
    with pytest.raises(ClaimError, match=r"no AID claims.*--dynamic-only"):
        aid_xml([])
    text = aid_xml([], dynamic_only=True)
    root = ET.fromstring(text)
    assert root.tag == "host-apdu-service" and root.findall("aid-group") == []
    assert parse_aid_xml(text) == []


def test_dynamic_only_leaves_the_claims_to_run_time() -> None:
    with Card([Probe()]) as card:
        text = aid_xml(card.claims(), dynamic_only=True)
    assert ET.fromstring(text).findall("aid-group") == []


def test_payment_claims_need_a_banner() -> None:
    with Card([Payment()]) as card, pytest.raises(ClaimError, match="apduServiceBanner"):
        aid_xml(card.claims())


@pytest.mark.parametrize(
    "banner",
    ["banner", "@drawable/Banner", "@drawable/1banner", "@drawable/banner.png",
     "@mipmap/banner", "@drawable/class", "@drawable/", "@drawable/a-b"],
)
def test_banner_must_be_a_drawable_android_resolves(banner: str) -> None:
    with Card([Payment()]) as card, pytest.raises(ClaimError, match=r"banner|drawable|keyword"):
        aid_xml(card.claims(), banner=banner)


@pytest.mark.parametrize("banner", ["@drawable/banner", "@drawable/tap_pay_2",
                                    "@com.example.app:drawable/banner"])
def test_valid_banners_pass(banner: str) -> None:
    with Card([Payment()]) as card:
        assert f'android:apduServiceBanner="{banner}"' in aid_xml(card.claims(), banner=banner)


@pytest.mark.parametrize("name", ["Hcekit", "1aids", "aids.xml", "xml/aids", "new", "a-b", ""])
def test_xml_resource_names_follow_android_rules(name: str) -> None:
    with pytest.raises(ClaimError, match=r"resource name|keyword"):
        check_resource_name(name)


@pytest.mark.parametrize("name", ["HcekitApduService", ".HcekitApduService", "org..Service",
                                  "org.example.1Service", "org.example.class.Service",
                                  "org.example.Service$", "org/example/Service"])
def test_service_class_must_be_a_fully_qualified_java_name(name: str) -> None:
    if name.endswith("$"):  # '$' is a legal identifier character (nested classes)
        assert check_java_class(name) == name
        return
    with pytest.raises(ClaimError, match="service class"):
        service_xml(service_class=name)


def test_parse_refuses_a_second_payment_group() -> None:
    group = ('<aid-group android:category="payment" android:description="@string/d">'
             '<aid-filter android:name="{}"/></aid-group>')
    text = (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="@string/x" '
            f'android:apduServiceBanner="@drawable/b">'
            f'{group.format("A0000000031010")}{group.format("A0000000041010")}'
            "</host-apdu-service>")
    with pytest.raises(ClaimError, match="second payment"):
        parse_aid_xml(text)


def test_parse_refuses_a_payment_group_without_banner() -> None:
    text = (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="@string/x">'
            '<aid-group android:category="payment" android:description="@string/d">'
            '<aid-filter android:name="A0000000031010"/></aid-group></host-apdu-service>')
    with pytest.raises(ClaimError, match="apduServiceBanner"):
        parse_aid_xml(text)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<aid-group android:category="other" android:description="@string/d">'
         '<aid-filter android:name="A00000"/></aid-group>', "bytes"),
        ('<aid-group android:category="transit" android:description="@string/d">'
         '<aid-filter android:name="A0000000031010"/></aid-group>', "category"),
        ('<aid-group android:category="other" android:description="@string/d"/>', "empty"),
        ('<aid-group android:category="other" android:description="@string/d">'
         '<aid-filter android:name="A0000000031010"/>'
         '<aid-filter android:name="a0000000031010"/></aid-group>', "twice"),
        ('<aid-group android:category="other" android:description="@string/d">'
         '<aid-prefix-filter android:name="A0000000031010*"/></aid-group>', "bare AID"),
        ('<aid-group android:category="other" android:description="@string/d">'
         '<aid-filter android:name="A00000000310G0"/></aid-group>', "non-hex"),
        ('<aid-group android:category="other">'
         '<aid-filter android:name="A0000000031010"/></aid-group>', "description"),
        ('<aid-group android:category="other" android:description="payment cards">'
         '<aid-filter android:name="A0000000031010"/></aid-group>', "reference-only"),
    ],
)
def test_parse_refuses_what_android_would_silently_drop(body: str, message: str) -> None:
    text = (f'<host-apdu-service xmlns:android="{ANDROID_NS}" android:description="@string/x">'
            f"{body}</host-apdu-service>")
    with pytest.raises(ClaimError, match=message):
        parse_aid_xml(text)


def test_cli_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["android", "manifest", "--requirements"]) == 0
    printed = capsys.readouterr().out
    assert wrap(printed).find("service") is not None
    out = tmp_path / "res" / "xml" / "hcekit_apduservice.xml"
    code = main(["android", "aid-xml", "--no-installed",
                 "--plugin", "hcekit_ndef:NdefPlugin", "-o", str(out)])
    assert code == 0
    assert parse_aid_xml(out.read_text()) == [(Category.OTHER, "D2760000850101")]


def test_cli_refuses_to_overwrite_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "service.xml"
    out.write_text("keep me")
    assert main(["android", "manifest", "-o", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    aid = ["android", "aid-xml", "--no-installed", "--plugin", "hcekit_ndef:NdefPlugin"]
    assert main([*aid, "-o", str(out)]) == 1
    assert out.read_text() == "keep me"
    assert main([*aid, "-o", str(out), "--force"]) == 0
    assert parse_aid_xml(out.read_text()) == [(Category.OTHER, "D2760000850101")]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["manifest", "--xml-name", "My-Aids"], "--xml-name"),
        (["manifest", "--service-class", "CardService"], "fully qualified"),
        (["aid-xml", "--banner", "banner.png"], "drawable"),
    ],
)
def test_cli_rejects_names_android_would_not_build(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["android", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_payment_without_banner_fails_with_the_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["android", "aid-xml", "--no-installed", "--plugin", "tests.android.android_plugins:Payment"])
    assert code == 1
    assert "--banner" in capsys.readouterr().err


def test_cli_dynamic_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["android", "aid-xml", "--no-installed", "--dynamic-only"]) == 0
    assert parse_aid_xml(capsys.readouterr().out) == []


def test_cli_refuses_conflicting_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["android", "aid-xml", "--no-installed",
                 "--plugin", "tests.android.android_plugins:Probe",
                 "--plugin", "tests.android.android_plugins:ProbeTwin"])
    assert code == 1
    error = capsys.readouterr().err
    assert "probe-twin" in error and PROBE_AID.hex().upper() in error


def test_p4a_hook_inserts_the_service_once(tmp_path: Path) -> None:
    hook = load_p4a_hook()
    patched = hook.insert_service(P4A_MANIFEST, service_xml())
    root = ET.fromstring(patched)
    services = root.findall("application/service")
    assert [s.get(A + "name") for s in services] == ["org.hcekit.android.HcekitApduService"]
    assert [m.get(A + "resource") for m in services[0].iter("meta-data")] == [
        "@xml/hcekit_apduservice"]
    assert root.find("application/activity") is not None, "the p4a activity must survive"
    permissions = [p.get(A + "name") for p in root.findall("uses-permission")]
    assert permissions.count("android.permission.NFC") == 1
    assert "android.permission.INTERNET" in permissions
    assert [f.get(A + "name") for f in root.findall("uses-feature")] == ["android.hardware.nfc.hce"]
    assert hook.insert_service(patched, service_xml()) == patched


def test_p4a_hook_runs_on_a_dist_directory(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    hook = load_p4a_hook()
    manifest = tmp_path / "src" / "main" / "AndroidManifest.xml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(P4A_MANIFEST, encoding="utf-8")
    fragment = tmp_path / "hcekit_service.xml"
    fragment.write_text(service_xml(), encoding="utf-8")
    monkeypatch.setenv(hook.SERVICE_XML_ENV, str(fragment))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(hook.ManifestHookError, match="hcekit android res"):
        hook.after_apk_build(object())  # no res/ beside the fragment: says how to make it
    assert main(["android", "res", str(tmp_path / "res"), "--no-installed",
                 "--plugin", "hcekit_ndef:NdefPlugin"]) == 0
    hook.after_apk_build(object())  # p4a calls it with the cwd at the dist directory
    assert ET.fromstring(manifest.read_text()).find("application/service") is not None
    assert (tmp_path / "src" / "main" / "res" / "values" / "hcekit_strings.xml").exists()


def test_p4a_hook_refuses_a_broken_fragment() -> None:
    hook = load_p4a_hook()
    with pytest.raises(hook.ManifestHookError, match="exactly one <service>"):
        hook.insert_service(P4A_MANIFEST, "<activity/>")
    with pytest.raises(hook.ManifestHookError, match="android:name"):
        hook.insert_service(P4A_MANIFEST, "<service/>")
