"""The pytest11 fixtures plugin authors use, exercised the way they use them."""

from __future__ import annotations

from typing import Any

import pytest
from hcekit import Claim, DeviceState
from hcekit.plugins import PluginSpec

from .routing_plugins import AID_A, AID_B, Recorder


@pytest.fixture
def hce_plugins() -> list[PluginSpec]:
    return [Recorder("solo", Claim(AID_A))]


def test_overridden_plugins_are_served(hce_terminal: Any, hce_card: Any) -> None:
    assert list(hce_card.plugins) == ["solo"]
    assert hce_terminal.select(AID_A).data == AID_A
    assert hce_terminal.transmit("0005000000").data == b"solo"
    assert hce_card.field_active


def test_factory_builds_independent_rigs(hce_card_factory: Any) -> None:
    one = hce_card_factory([Recorder("one", Claim(AID_A))])
    two = hce_card_factory([Recorder("two", Claim(AID_B))],
                           device=DeviceState(nfc_enabled=False))
    with one.terminal.tap(), two.terminal.tap():
        assert one.terminal.select(AID_A).ok
        assert not two.terminal.select(AID_A).ok
    assert two.host.device_state().nfc_enabled is False


def test_factory_only_adds_the_named_built_ins_next_to_yours(hce_card_factory: Any) -> None:
    rig = hce_card_factory([Recorder("mine", Claim(AID_A))], only=["ndef"])
    assert list(rig.card.plugins) == ["ndef", "mine"]
    with rig.terminal.tap():
        assert rig.terminal.select(bytes.fromhex("D2760000850101")).ok
        assert rig.terminal.select(AID_A).data == AID_A
    with pytest.raises(Exception, match="no installed plugin named nope"):
        hce_card_factory([], only=["nope"])


def test_documented_markers_are_registered(tmp_path: Any) -> None:
    """A plugin project marking tests as docs/pcsc.md says runs under --strict-markers."""
    import subprocess
    import sys

    (tmp_path / "test_marked.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.pcsc\n@pytest.mark.interop\n"
        "def test_marked():\n    assert True\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--strict-markers", "-p", "no:cacheprovider",
         str(tmp_path / "test_marked.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
