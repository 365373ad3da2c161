"""Secrets never reach a printout: ``send``, ``tap --trace``, logs and trace files redact them.

The values looked for come from the plugins' own personalisation API (the
PAN, track 2 equivalent data, the PIV PIN), so the tests follow the cards.
"""

from __future__ import annotations

import io
import logging

import pytest
from hcekit import AppContext, Card, Claim, CommandApdu, PluginContext
from hcekit.cli import main
from hcekit.trace import LoggingTracer, SecretValues, carries_reference_data
from hcekit.tracefile import TraceRecorder
from hcekit_access.storage import DEFAULT_PIN
from hcekit_payment.layout import track2_equivalent
from hcekit_payment.personalization import personalize

PERSO = personalize()
PAN = bytes.fromhex(PERSO.pan)
TRACK2 = track2_equivalent(PERSO)
PIN = DEFAULT_PIN.encode()  # the TEST badge's PIV PIN
VERIFY_PIN = CommandApdu(0x00, 0x20, 0x00, 0x80, PIN + b"\xff\xff").to_bytes().hex()
PIV_AID = "A000000308000010000100"


def spaced(data: bytes) -> str:
    return data.hex(" ").upper()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_tap_trace_hides_pan_and_track2(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "tap", "--store", ":memory:", "--only", "payment", "--trace", "payment-pos")
    assert "APPROVED" in out and "bytes redacted" in out
    for secret in (PAN, TRACK2, PAN[:6]):
        assert spaced(secret) not in out
    revealed = run(capsys, "tap", "--store", ":memory:", "--only", "payment", "--trace",
                   "--reveal-secrets", "payment-pos")
    assert spaced(TRACK2) in revealed  # the same run in clear: the test looks for the right bytes


def test_send_hides_the_pin(capsys: pytest.CaptureFixture[str]) -> None:
    for flags in ([], ["--trace"]):
        out = run(capsys, "send", "--store", ":memory:", "--only", "access", *flags,
                  f"00A404000B{PIV_AID}00", VERIFY_PIN)
        assert "00 20 00 80 <9 bytes redacted>" in out
        assert spaced(PIN) not in out
    out = run(capsys, "send", "--store", ":memory:", "--only", "access", "--reveal-secrets",
              f"00A404000B{PIV_AID}00", VERIFY_PIN)
    assert spaced(PIN) in out


class Leaky:
    """Answers a stored secret in a response without marking the exchange; marks the value."""

    name = "leaky"
    SECRET = bytes.fromhex("5A08") + PAN

    def hcekit_startup(self, plugin: PluginContext) -> None:
        plugin.mark_secret(self.SECRET[2:])

    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim.parse("F0C0FFEE0001")]

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        return b"\x70\x0a" + self.SECRET if command.ins == 0xB2 else b"public"


def test_values_a_plugin_marks_secret_are_redacted_everywhere(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    recording = io.StringIO()
    card = Card([Leaky(), ("log", LoggingTracer()), ("file", TraceRecorder(recording))])
    card.field_on()
    with caplog.at_level(logging.INFO, logger="hcekit.trace"):
        card.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("F0C0FFEE0001")))
        assert card.transmit(CommandApdu(0x00, 0xB2, 0x01, 0x0C, le=256)).data.endswith(PAN)
        assert card.transmit(CommandApdu(0x00, 0xCA, 0x00, 0x00, le=256)).data == b"public"
    logged = caplog.text
    for text in (logged, recording.getvalue()):
        assert spaced(PAN) not in text
        assert "redacted" in text
        assert spaced(b"public") in text  # only the exchange with the secret is hidden
    assert repr(card.secrets) == "SecretValues(1 value(s))"  # never the values


def test_send_redacts_values_a_plugin_marked(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    module = types.ModuleType("leaky_card")
    module.Leaky = Leaky  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "leaky_card", module)
    out = run(capsys, "send", "--store", ":memory:", "--no-installed", "--plugin",
              "leaky_card:Leaky", "00A4040006F0C0FFEE0001", "00B2010C00")
    assert spaced(PAN) not in out
    assert "<12 bytes redacted> 90 00" in out


def test_secret_values_rules() -> None:
    secrets = SecretValues([b"\x12\x34\x56\x78"])
    assert secrets.found_in(b"\x00\x12\x34\x56\x78\x00")
    assert not secrets.found_in(b"\x12\x34\x56")
    with pytest.raises(ValueError, match="at least 4 bytes"):
        secrets.add(b"\x12\x34")
    secrets.discard(b"\x12\x34\x56\x78")
    assert not secrets.found_in(b"\x12\x34\x56\x78") and len(secrets) == 0
    # ISO 7816-4 reference data: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER with data
    assert carries_reference_data(bytes.fromhex("0020008008313233343536FFFF"))
    assert carries_reference_data(bytes.fromhex("002C008010" + "31" * 16))
    assert not carries_reference_data(bytes.fromhex("00200080"))  # retry counter query
    assert not carries_reference_data(bytes.fromhex("8020000004DEADBEEF"))  # proprietary class


def test_a_secret_split_across_get_response_parts_is_redacted_in_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The answer is chained (61xx): the PAN starts in one part and ends in the next."""

    class Straddling(Leaky):
        def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
            return bytes(12) + PAN + bytes(20)  # Le 16: PAN bytes 12..19 cross the boundary

    card = Card([Straddling(), ("log", LoggingTracer())])
    card.field_on()
    with caplog.at_level(logging.INFO, logger="hcekit.trace"):
        card.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("F0C0FFEE0001")))
        first = card.transmit(CommandApdu(0x00, 0xB2, 0x01, 0x0C, le=16))
        assert first.sw >> 8 == 0x61
        rest = card.transmit(CommandApdu(0x00, 0xC0, 0x00, 0x00, le=first.sw & 0xFF))
    assert first.data + rest.data == bytes(12) + PAN + bytes(20)
    logged = caplog.text
    assert logged.count("bytes redacted") >= 4  # command and response of both parts
    for part in (PAN[:4], PAN[4:]):
        assert spaced(part) not in logged


def test_the_user_guide_lists_every_namespace_a_store_holds() -> None:
    """Issue 31 item 7: the list of what a store holds in clear names every plugin that writes."""
    import re
    from pathlib import Path

    from hcekit import Card
    from hcekit.store import MemoryStore

    guide = (Path(__file__).parents[2] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\w+) \| (.+) \|$", guide, re.MULTILINE))
    store = MemoryStore()
    Card.with_installed_plugins(store=store).close()  # every plugin personalises itself
    for namespace in store.namespaces():
        assert namespace in rows, f"user-guide.md does not say what {namespace} stores in clear"
    assert "endpoint private key" in rows["aliro"]
    assert "full PAN" in rows["payment"]
