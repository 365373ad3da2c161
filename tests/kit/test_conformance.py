"""The conformance suite: a good plugin passes every check, a sloppy one fails the right ones,
and every installed plugin (built-in personalities included, as they land) passes."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hcekit.conformance import CHECKS, run_conformance
from hcekit.conformance.checks import secret_material
from hcekit.conformance.pytest_support import assert_conforms, conformance_tests

from .sample_plugins import GoodCard, SloppyCard

INSTALLED = sorted(ep.name for ep in entry_points(group="hcekit"))


def test_good_plugin_passes_every_check(tmp_path: Path) -> None:
    report = run_conformance(GoodCard, tmp=tmp_path)
    assert [r.name for r in report.results] == list(CHECKS)
    assert report.ok, report.format()
    assert all(r.status == "passed" for r in report.results), report.format()


def test_sloppy_plugin_fails_with_reasons(tmp_path: Path) -> None:
    report = run_conformance(SloppyCard, tmp=tmp_path)
    status = {r.name: r for r in report.results}
    assert not report.ok
    assert status["claims"].status == "passed"
    assert status["unknown-ins"].status == "failed"
    assert "60 00 00 (INS not supported) answered 9000" in status["unknown-ins"].detail
    assert status["malformed"].status == "failed"
    assert "RuntimeError: sloppy parser" in status["malformed"].detail
    assert status["deselect"].status == "failed"
    assert "sloppy deselect" in status["deselect"].detail
    assert status["restart"].status == "failed"
    assert "boots" in status["restart"].detail
    assert status["secrets"].status == "failed"
    assert "'master_key'" in status["secrets"].detail
    # SELECT and CLA handling are the core's here; re-selecting does not deselect
    assert status["select"].status == status["unknown-cla"].status == "passed"
    assert report.format().splitlines()[-1] == "3 passed, 5 failed, 0 skipped"


def test_a_claim_on_the_cores_ppse_fails_the_claims_check(tmp_path: Path) -> None:
    from tests.cli.conflicting_plugin import PpseSquatter

    report = run_conformance(PpseSquatter, ["claims"], tmp=tmp_path)
    (result,) = report.results
    assert result.status == "failed"
    assert ("ppse_squatter 325041592E5359532E4444463031 overlaps the core's PPSE "
            "325041592E5359532E4444463031") in result.detail


def test_claim_conflicts_with_installed_plugins_are_reported(tmp_path: Path) -> None:
    if not INSTALLED:
        pytest.skip("no installed plugins to conflict with")
    from hcekit import Card
    from hcekit.conformance.checks import installed_plugins_quietly

    for name, obj in installed_plugins_quietly():
        with Card([(name, obj)]) as card:
            claims = [c for n, c in card.claims() if n == name]
        if claims:
            break
    else:
        pytest.skip("no installed plugin claims an AID")

    class Squatter:
        name = "squatter"

        def hcekit_claims(self, plugin: object) -> list[object]:
            return [claims[0]]

    result = run_conformance(Squatter, ["claims"], tmp=tmp_path).results[0]
    assert result.status == "failed" and f"overlaps {name}" in result.detail.replace(
        f"squatter {claims[0].filter} overlaps ", "overlaps ")


def test_secret_material_finds_raw_hex_and_json_keys() -> None:
    found = secret_material({
        "key": b"\x01" * 16,
        "keys": b'{"k_enc": "00112233445566778899AABBCCDDEEFF", "label": "x"}',
        "pubkey": b"\x04" * 65,
        "counter": b"\x00\x01",
        "pin": b"1234",
    })
    assert found == [("key", b"\x01" * 16), ("keys", bytes.fromhex("00112233445566778899AABBCCDDEEFF"))]


@pytest.mark.parametrize("plugin", INSTALLED)
@pytest.mark.parametrize("check", list(CHECKS))
def test_installed_plugin_conforms(plugin: str, check: str, tmp_path: Path) -> None:
    assert_conforms(plugin, check, tmp_path)


test_generated_helper = conformance_tests(GoodCard)


def test_private_keys_count_only_their_private_numbers() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    scalar = key.private_numbers().private_value
    found = secret_material({"cak.key": der})
    assert found == [("cak.key", scalar.to_bytes((scalar.bit_length() + 7) // 8, "big"))]
