"""The desktop JVM harness refuses the mistakes that would otherwise fail obscurely."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from hcekit.cli import main
from hcekit.testing.requirements import missing
from hcekit_android import jvm as harness
from hcekit_android import robolectric


def test_a_second_classpath_after_the_jvm_started_is_refused(
        jvm: SimpleNamespace, tmp_path: Path) -> None:
    with pytest.raises(harness.JavaSetupError, match="before the hcekit classpath was set"):
        harness.start_desktop_jvm(tmp_path / "elsewhere")


def test_javac_errors_are_reported_with_the_compiler_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if harness.find_java_home() is None:
        missing("no JDK (scripts/install-system-deps.sh installs openjdk-17-jdk-headless)")
    broken = tmp_path / "src" / "Broken.java"
    broken.parent.mkdir()
    broken.write_text("public class Broken { int x = ; }\n")
    monkeypatch.setattr(harness, "SHIM_SOURCES", broken.parent)
    with pytest.raises(harness.JavaSetupError, match=r"Broken\.java"):
        harness.compile_java(tmp_path / "out", desktop=False)


def test_no_sources_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "SHIM_SOURCES", tmp_path)
    with pytest.raises(harness.JavaSetupError, match="no Java sources"):
        harness.compile_java(tmp_path / "out", desktop=False)


def test_java_dir_points_at_the_shim(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["android", "java-dir"]) == 0
    shim = Path(capsys.readouterr().out.strip())
    assert (shim / "org" / "hcekit" / "android" / "HcekitApduService.java").exists()


def test_android_without_a_subcommand_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["android"]) == 2
    assert "aid-xml" in capsys.readouterr().out


@pytest.mark.parametrize("api", sorted(robolectric.API_LEVELS))
def test_the_shim_compiles_against_the_real_framework_of_each_level(
        tmp_path: Path, api: int) -> None:
    """Only android-all on the classpath: an API the shim misuses fails the build."""
    out = harness.compile_java(tmp_path / "out", desktop=False, api=api)
    assert (out / "org" / "hcekit" / "android" / "HcekitApduService.class").exists()
    assert (out / "org" / "hcekit" / "bridge" / "HcekitBridge.class").exists()


def test_a_misused_android_api_fails_the_build(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src" / "org" / "hcekit" / "android"
    src.mkdir(parents=True)
    (src / "Misuse.java").write_text(
        "package org.hcekit.android;\n"
        "public class Misuse extends android.nfc.cardemulation.HostApduService {\n"
        "    @Override public byte[] processCommandApdu(byte[] c, android.os.Bundle b) {\n"
        "        sendResponseApdu(\"9000\"); return null; }\n"  # a String is no byte[]
        "    @Override public void onDeactivated(int reason) {}\n}\n")
    monkeypatch.setattr(harness, "SHIM_SOURCES", tmp_path / "src")
    with pytest.raises(harness.JavaSetupError, match=r"Misuse\.java"):
        harness.compile_java(tmp_path / "out", desktop=False)
