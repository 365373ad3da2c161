"""Over a reader the terminal redacts what the card would (issue 31 item 5).

Over PC/SC the terminal has no card and so none of the card's marks: each
terminal script marks what it reads (PAN, track 2, keys, authentications).
Here every installed script runs on the in-process card with both views
recorded, and every exchange the card calls sensitive must be sensitive on
the terminal's side too.
"""

from __future__ import annotations

import io

import pytest
from hcekit import Card
from hcekit.hookspecs import hookimpl
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, ScriptContext, Terminal, TerminalScript
from hcekit.trace import TraceRecord


class _CardView:
    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes, bool]] = []

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self.seen.append((record.command, record.response, record.sensitive))


def _all_scripts() -> list[tuple[str, TerminalScript]]:
    card = Card.with_installed_plugins(store=MemoryStore())
    try:
        hooks = card.plugin_manager.hook.hcekit_terminal_scripts()
        return [(s.name, s) for batch in hooks for s in batch]
    finally:
        card.close()


_CASES = [(name, script, {}) for name, script in _all_scripts()] + [
    # an issuer script with an enciphered new PIN (card side: app.mark_sensitive())
    (name, script, {"script": "pin-change:4321"}) for name, script in _all_scripts()
    if name == "payment-pos"]


@pytest.mark.parametrize("name,script,options", _CASES,
                         ids=[f"{n}{'-' + next(iter(o.values())) if o else ''}"
                              for n, _, o in _CASES])
def test_the_terminal_marks_what_the_card_marks(name: str, script: TerminalScript,
                                               options: dict[str, str]) -> None:
    card_view = _CardView()
    card = Card.with_installed_plugins([("view", card_view)], store=MemoryStore())
    reader_view: list[tuple[bytes, bytes, bool]] = []
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)),
                        on_trace=lambda c, r, s: reader_view.append((c, r, s)))
    try:
        with terminal.tap():
            status = script.run(ScriptContext(terminal, options, io.StringIO()))
    finally:
        card.close()
    assert status == 0
    assert [(c, r) for c, r, _ in reader_view] == [(c, r) for c, r, _ in card_view.seen]
    card_marked = [i for i, (_, _, s) in enumerate(card_view.seen) if s]
    reader_marked = [i for i, (_, _, s) in enumerate(reader_view) if s]
    missed = sorted(set(card_marked) - set(reader_marked))
    assert not missed, (f"{name}: {len(missed)} of {len(card_marked)} exchanges the card "
                        f"redacts are printed in clear over a reader, first "
                        f"{reader_view[missed[0]][0][:4].hex().upper()}")


def test_payment_pos_over_a_reader_never_prints_the_pan(
        capsys: pytest.CaptureFixture[str]) -> None:
    from hcekit.cli.core_commands import _ExchangePrinter
    from hcekit_payment.plugin import PaymentPlugin
    from hcekit_payment.pos import POS_SCRIPT

    card = Card([PaymentPlugin()], store=MemoryStore())
    printer = _ExchangePrinter(reveal=False)
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)), on_trace=printer.on_trace)
    try:
        with terminal.tap():
            assert POS_SCRIPT.run(ScriptContext(terminal, {}, io.StringIO())) == 0
    finally:
        card.close()
    out = capsys.readouterr().out
    assert "redacted" in out
    for secret in ("41 11 11 11 11 11 11 11", "41 11 11 11 11 11 11 11 D2"):
        assert secret not in out


def test_a_secret_marked_late_still_hides_the_exchange_that_carried_it() -> None:
    seen: list[tuple[bytes, bytes, bool]] = []

    class Echo:
        name = "echo"

        def connect(self) -> None: ...

        def disconnect(self) -> None: ...

        def transmit(self, command: bytes) -> bytes:
            return b"\x12\x34\x56\x78\x9a" + b"\x90\x00"

    terminal = Terminal(Echo(), on_trace=lambda c, r, s: seen.append((c, r, s)))
    with terminal.tap():
        answer = terminal.transmit("00B0000000")
        terminal.mark_secret(answer.data)  # the script learns it is secret from the answer
        terminal.transmit("00B0000100")
    assert [s for _, _, s in seen] == [True, True]
