"""The card with the app closed: a tap starts the Python service and waits for it (issue 20).

The phone is set up from a manifest python-for-android renders from its own
template for ``services = hcekit:service.py``, patched by the p4a hook with
``hcekit android manifest --python-service hcekit``; the model installs the
services as Android's registry reads them. "The app is closed" is a shim
with no card attached; Python "comes up" when the test starts the host, as
``service_main()`` does in the real service.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hcekit import SW, Card, ResponseApdu
from hcekit.cli import main
from hcekit.sw import sw_bytes
from hcekit_android.manifest import AID_XML_NAME, aid_xml, service_xml

from .android_plugins import PROBE_AID, Probe
from .android_support import A, HostFactory, load_p4a_hook, log_lines, render_p4a_manifest, select

pytestmark = pytest.mark.jvm

PACKAGE = "org.hcekit.example"
PYTHON_SERVICE = f"{PACKAGE}/{PACKAGE}.ServiceHcekit"
HCE_SERVICE = f"{PACKAGE}/org.hcekit.android.HcekitApduService"
PROCESS = ":service_hcekit"
SELECT_PROBE = select(PROBE_AID)
UNKNOWN = sw_bytes(SW.UNKNOWN)
TIMEOUT_MS = 5000


def app_manifest(*, cold_start_ms: int | None = None) -> str:
    """p4a's manifest for services = hcekit:service.py, with hcekit's service added by the hook."""
    fragment = service_xml(python_service="hcekit", cold_start_ms=cold_start_ms)
    return str(load_p4a_hook().insert_service(render_p4a_manifest(["hcekit"]), fragment))


def install_app(phone: Any, *, cold_start_ms: int | None = 60_000) -> None:
    with Card([Probe()]) as card:
        xml = aid_xml(card.claims())
    accepted = phone.installFromManifest(app_manifest(cold_start_ms=cold_start_ms),
                                         AID_XML_NAME, xml)
    assert accepted == 1, "Android's registry would not accept the generated HCE service"


def test_both_services_share_the_python_service_process() -> None:
    manifest = ET.fromstring(app_manifest())
    services = {s.get(A + "name"): s for s in manifest.iter("service")}
    python = services[f"{PACKAGE}.ServiceHcekit"]
    hce = services["org.hcekit.android.HcekitApduService"]
    assert python.get(A + "process") == hce.get(A + "process") == PROCESS
    meta = {m.get(A + "name"): m.get(A + "value") for m in hce.iter("meta-data")}
    assert meta["org.hcekit.python_service"] == f"{PACKAGE}.ServiceHcekit"


def test_the_hook_follows_the_process_p4a_gave_the_service() -> None:
    rendered = render_p4a_manifest(["hcekit"]).replace(
        f'android:process="{PROCESS}"', 'android:process=":elsewhere"')
    patched = load_p4a_hook().insert_service(rendered, service_xml(python_service="hcekit"))
    hce = next(s for s in ET.fromstring(patched).iter("service")
               if s.get(A + "name") == "org.hcekit.android.HcekitApduService")
    assert hce.get(A + "process") == ":elsewhere"


def test_the_hook_is_idempotent_with_a_python_service() -> None:
    hook = load_p4a_hook()
    once = app_manifest()
    assert hook.insert_service(once, service_xml(python_service="hcekit")) == once


def test_the_hook_says_which_buildozer_setting_is_missing() -> None:
    hook = load_p4a_hook()
    with pytest.raises(hook.ManifestHookError, match=r"services = hcekit:service\.py"):
        hook.insert_service(render_p4a_manifest([]), service_xml(python_service="hcekit"))


def test_cli_manifest_with_a_python_service(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["android", "manifest", "--python-service", "hcekit", "--cold-start-ms", "4000"]) == 0
    printed = capsys.readouterr().out
    (service,) = ET.fromstring(f'<m xmlns:android="{A[1:-1]}">{printed}</m>').iter("service")
    assert service.get(A + "process") == PROCESS
    meta = {m.get(A + "name"): m.get(A + "value") for m in service.iter("meta-data")}
    assert meta == {"android.nfc.cardemulation.host_apdu_service": None,
                    "org.hcekit.python_service": ".ServiceHcekit",
                    "org.hcekit.cold_start_ms": "4000"}


@pytest.mark.parametrize(("argv", "code"), [
    (["--python-service", "hce kit"], 2),
    (["--python-service", "1card"], 2),
    (["--cold-start-ms", "100"], 2),  # nothing to start: a refused value
    (["--python-service", "hcekit", "--cold-start-ms", "0"], 2),
])
def test_cli_refuses_what_p4a_or_the_shim_cannot_use(
        argv: list[str], code: int, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        result = main(["android", "manifest", *argv])
    except SystemExit as exc:
        result = int(exc.code or 0)
    assert result == code
    assert capsys.readouterr().err.strip()


# -- on the model -------------------------------------------------------------------------


@pytest.fixture
def app(jvm: SimpleNamespace, phone: Any) -> Iterator[Any]:
    install_app(phone)
    phone.closeApp()
    yield phone
    jvm.Bridge.setColdStartMillis(jvm.Bridge.DEFAULT_COLD_START_MS)


def test_a_tap_with_no_card_starts_the_python_service(
        jvm: SimpleNamespace, app: Any, stack: Any) -> None:
    stack.submit(SELECT_PROBE)
    stack.drain()
    assert app.isProcessRunning(PACKAGE, PROCESS), "the tap should start the service's process"
    assert not app.isProcessRunning(PACKAGE, ""), "the app's own (activity) process stays closed"
    python = app.service(PYTHON_SERVICE)
    assert python.startIntentCount() == 1
    intent = python.lastStartIntent()
    assert intent.getComponent().flattenToString() == PYTHON_SERVICE  # explicit
    assert intent.getStringExtra("serviceEntrypoint") == "service.py"
    assert python.isRunning()
    assert jvm.Bridge.getPythonService() == f"{PACKAGE}.ServiceHcekit"
    assert any("held: no listener yet" in line for line in log_lines(jvm))
    assert not stack.answerReady()


def test_python_attaching_300_ms_later_answers_the_held_command(
        make_host: HostFactory, app: Any, stack: Any) -> None:
    stack.submit(SELECT_PROBE)
    stack.drain()
    time.sleep(0.3)  # CPython and the plugins booting
    probe = Probe()
    make_host([probe])  # what service_main() does once Python is up
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert answer is not None and ResponseApdu.parse(bytes(answer)).sw == SW.NO_ERROR
    assert send(stack, "8001000001AA") == ResponseApdu(b"\xAA", SW.NO_ERROR)
    assert probe.commands == [bytes.fromhex("8001000001AA")]
    assert stack.unsolicitedResponses() == 0


def test_python_that_never_comes_up_gets_6f00_at_the_cold_start_deadline(
        jvm: SimpleNamespace, phone: Any, stack: Any) -> None:
    install_app(phone, cold_start_ms=200)
    phone.closeApp()
    jvm.Bridge.setDeadlineMillis(60_000)  # the 6F00 can only come from the cold-start deadline
    assert bytes(stack.transceive(SELECT_PROBE, TIMEOUT_MS)) == UNKNOWN
    assert jvm.Bridge.getColdStartMillis() == 200
    assert any("cold start" in line and "within 200 ms" in line for line in log_lines(jvm))
    requests = jvm.Bridge.getStartRequests()
    stack.fieldOff()
    stack.transceive(SELECT_PROBE, TIMEOUT_MS)  # the next tap asks again
    assert jvm.Bridge.getStartRequests() == requests + 1
    jvm.Bridge.setColdStartMillis(jvm.Bridge.DEFAULT_COLD_START_MS)


def test_deactivation_while_held_drops_the_command(
        jvm: SimpleNamespace, make_host: HostFactory, app: Any, stack: Any) -> None:
    stack.submit(SELECT_PROBE)
    stack.drain()
    stack.fieldOff()
    probe = Probe()
    make_host([probe])
    assert jvm.Bridge.awaitDispatched(TIMEOUT_MS)
    assert probe.commands == [] and probe.deactivations == []
    assert stack.unsolicitedResponses() == 0 and stack.droppedResponses() == 0
    assert send(stack, SELECT_PROBE).sw == SW.NO_ERROR  # the next tap is served


def test_two_taps_while_booting(
        jvm: SimpleNamespace, make_host: HostFactory, app: Any, stack: Any) -> None:
    """Android binds the HCE service again on the second tap; Python is started once."""
    requests = jvm.Bridge.getStartRequests()
    stack.submit(SELECT_PROBE)
    stack.drain()
    stack.fieldOff()  # the reader gives up: unbound, the HCE service instance destroyed
    stack.submit(SELECT_PROBE)
    stack.drain()
    hce = app.service(HCE_SERVICE)
    assert hce.creations() == 2, "Android creates the HCE service again for the second tap"
    assert jvm.Bridge.getStartRequests() == requests + 1
    assert app.service(PYTHON_SERVICE).startIntentCount() == 1
    probe = Probe()
    make_host([probe])
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert answer is not None and ResponseApdu.parse(bytes(answer)).sw == SW.NO_ERROR
    assert send(stack, "8001000001BB") == ResponseApdu(b"\xBB", SW.NO_ERROR)


def test_the_store_lives_in_the_apps_private_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hcekit_android.service import STORE_NAME, store_path

    monkeypatch.delenv("ANDROID_PRIVATE", raising=False)
    assert store_path() is None  # outside Android: in memory
    monkeypatch.setenv("ANDROID_PRIVATE", str(tmp_path))  # python-for-android sets it
    assert store_path() == tmp_path / STORE_NAME


def test_service_main_serves_until_stopped(
        jvm: SimpleNamespace, app: Any, stack: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hcekit_android import service_main

    monkeypatch.setenv("ANDROID_PRIVATE", str(tmp_path))
    stop = threading.Event()
    probe = Probe()
    thread = threading.Thread(target=service_main, args=([probe],),
                              kwargs={"context": jvm.context(), "stop": stop,
                                      "pcap": "taps.pcapng"}, daemon=True)
    stack.submit(SELECT_PROBE)  # the tap that starts it all
    stack.drain()
    thread.start()
    answer = stack.awaitAnswer(TIMEOUT_MS)
    assert answer is not None and ResponseApdu.parse(bytes(answer)).sw == SW.NO_ERROR
    assert send(stack, "8001000001CC") == ResponseApdu(b"\xCC", SW.NO_ERROR)
    stop.set()
    thread.join(10)
    assert not thread.is_alive() and not jvm.Bridge.hasListener()
    assert (tmp_path / "hcekit-store.sqlite").exists(), "the card's store is in the app's files"
    from hcekit.capture import capture_to_trace, read_capture

    trace, report = capture_to_trace(read_capture(tmp_path / "taps.pcapng"))  # app storage too
    assert not report.problems, report.format()
    assert [e.command for e in trace.exchanges][-1] == bytes.fromhex("8001000001CC")


def send(stack: Any, command: bytes | str) -> ResponseApdu:
    raw = bytes.fromhex(command) if isinstance(command, str) else command
    answer = stack.transceive(raw, TIMEOUT_MS)
    assert answer is not None, "the phone left the reader without an answer"
    return ResponseApdu.parse(bytes(answer))





def test_p4a_calls_the_hook_after_rendering_the_manifest_and_before_gradle() -> None:
    """The hook's timing, read from the python-for-android that is installed."""
    import inspect

    from .android_support import p4a_manifest_template

    p4a_manifest_template()  # a visible skip / CI failure without python-for-android
    from pythonforandroid import toolchain

    source = inspect.getsource(toolchain)
    render = source.index("parse_args_and_make_package(")
    hook = source.index('self.hook("after_apk_build")')
    assert render < hook < source.index("gradlew", hook)
    assert "dist.dist_dir" in source  # the hook finds the manifest under toolchain._dist.dist_dir
