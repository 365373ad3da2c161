"""The POS terminal script: full flow, receipt, issuer verification, replay, demo wiring."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hcekit import Card
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.terminal.script import ScriptContext, ScriptOptionError, rehearse
from hcekit_payment import IssuerHost, PaymentPlugin
from hcekit_payment.pos import POS_SCRIPT, run_transaction
from hcekit_payment.testdata import TEST_IMK


def _run(terminal: Terminal, options: dict[str, str] | None = None,
         issuer: IssuerHost | None = None) -> tuple[int, str]:
    out = io.StringIO()
    extras = {"issuer": issuer} if issuer else {}
    with terminal.tap():
        status = POS_SCRIPT.run(ScriptContext(terminal, options or {}, out, extras))
    return status, out.getvalue()


@pytest.mark.parametrize("flow", ["generate-ac", "qvsdc"])
def test_pos_script_completes_and_prints_a_receipt(terminal: Terminal, flow: str) -> None:
    terminal.disconnect()
    status, text = _run(terminal, {"flow": flow, "amount": "7.5"})
    assert status == 0, text
    assert "************1111" in text and "4111111111111111" not in text
    assert "Amount        7.50" in text
    assert "ARQC" in text and "Issuer check  OK" in text and "APPROVED" in text
    assert ("qVSDC" if flow == "qvsdc" else "GENERATE AC") in text


def test_wrong_issuer_key_fails_verification(terminal: Terminal, tmp_path: Path) -> None:
    terminal.disconnect()
    (tmp_path / "imk.hex").write_text("00" * 16 + "\n")
    status, text = _run(terminal, {"imk-file": str(tmp_path / "imk.hex")})
    assert status == 1
    assert "does not verify" in text and "DECLINED" in text


def test_issuer_rejects_a_replayed_atc(payment_card: Card) -> None:
    terminal = Terminal(LoopbackTransport(LoopbackHost(payment_card)))
    issuer = IssuerHost()
    with terminal.tap():
        first = run_transaction(terminal, issuer=issuer)
    assert first.verdict.valid
    assert issuer.verify(first.record).reason.endswith("(replay)")


def test_aac_request_is_declined_but_verified(terminal: Terminal) -> None:
    terminal.disconnect()
    status, text = _run(terminal, {"request": "aac"})
    assert status == 0 and "AAC" in text and "DECLINED" in text


@pytest.mark.parametrize("options", [{"amount": "1.234"}, {"amount": "x"}, {"request": "zz"},
                                     {"imk-file": "/no/such/file"}, {"flow": "magnetic"}])
def test_bad_options_are_refused_before_the_first_command(options: dict[str, str]) -> None:
    (name,) = options
    with pytest.raises(ScriptOptionError, match=f"option {name}"):
        rehearse(POS_SCRIPT, options)


def test_the_issuer_key_comes_from_a_file(terminal: Terminal, tmp_path: Path) -> None:
    """Never on argv, where ps and shell history show it (issue 31 item 6)."""
    assert "imk" not in (POS_SCRIPT.options or {})
    (tmp_path / "imk.hex").write_text(TEST_IMK.hex() + "\n")
    terminal.disconnect()
    status, text = _run(terminal, {"imk-file": str(tmp_path / "imk.hex")})
    assert status == 0 and "Issuer check  OK" in text
    (tmp_path / "short.hex").write_text("0011")
    with pytest.raises(ScriptOptionError, match="2 bytes, expected 16"):
        rehearse(POS_SCRIPT, {"imk-file": str(tmp_path / "short.hex")})


def test_script_is_offered_for_the_demo() -> None:
    card = Card([PaymentPlugin()], store=MemoryStore())
    scripts = [s for batch in card.plugin_manager.hook.hcekit_terminal_scripts() for s in batch]
    assert [s.name for s in scripts if s.demo] == ["payment-pos"]
    card.close()
