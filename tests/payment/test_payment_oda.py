"""Offline data authentication: the card's certificates and signatures, checked from the CAPK.

Every verification here is the terminal side (:mod:`hcekit_payment.book2`, written
from EMV Book 2, importing nothing of the card's ODA code) fed with the CA public keys
that ``hcekit payment capk --json`` exports: the way a terminal tester loads them.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hcekit import SW, Card, CommandApdu
from hcekit.cli import main
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore, SqliteStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.pcsc import PcscCardFactory
from hcekit.tlv import find
from hcekit_payment import PaymentPlugin
from hcekit_payment.book2 import OdaFailure, load_capks
from hcekit_payment.book3 import check_transaction
from hcekit_payment.dol import fill
from hcekit_payment.layout import CDOL1, PDOL
from hcekit_payment.personalization import PersonalizationError, load, personalize
from hcekit_payment.pos import PosResult, run_transaction
from hcekit_payment.rsa_recovery import private_operation, public_operation

from .test_payment_book3 import Recorder

VECTORS = Path(__file__).parents[1] / "vectors" / "rsa_raw_pkcs1_v21_oaep_int.json"
AID = bytes.fromhex("A0000000031010")


@pytest.fixture(scope="module")
def capk_json() -> str:
    """The CAPK as a terminal tester gets it: the CLI's JSON export."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["payment", "capk", "--json"]) == 0
    return out.getvalue()


def _card(options: dict[str, str], recorder: Recorder | None = None) -> Card:
    plugins: list[object] = [PaymentPlugin()] + ([recorder] if recorder else [])
    return Card(plugins, store=MemoryStore(), options={"payment": options})


Tap = Callable[..., tuple[PosResult, Recorder]]


@pytest.fixture
def tap() -> Iterator[Tap]:
    """One purchase by the project's terminal against a card personalised with *options*."""
    cards: list[Card] = []

    def run(options: dict[str, str], capks: str, flow: str = "generate-ac",
            **kwargs: Any) -> tuple[PosResult, Recorder]:
        recorder = Recorder()
        card = _card(options, recorder)
        cards.append(card)
        terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
        with terminal.tap():
            result = run_transaction(terminal, flow=flow, capks=capks, **kwargs)
        return result, recorder

    yield run
    for card in cards:
        card.close()


# -- the raw RSA operation --------------------------------------------------------------------

def test_raw_rsa_matches_the_pkcs1_worked_example() -> None:
    vector = json.loads(VECTORS.read_text())["vectors"][0]
    n, e, d = (int(vector[k], 16) for k in ("n", "e", "d"))
    p, q = int(vector["p"], 16), int(vector["q"], 16)
    public = rsa.RSAPublicNumbers(e, n)
    key = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                rsa.rsa_crt_iqmp(p, q), public).private_key()
    m, c = bytes.fromhex(vector["m"]), bytes.fromhex(vector["c"])
    assert private_operation(key, c) == m
    assert public_operation(key.public_key(), m) == c
    with pytest.raises(ValueError):
        private_operation(key, c[1:])  # not a full block


# -- the CAPK export ---------------------------------------------------------------------------

def test_capk_export_has_both_rids_and_a_checked_value(capk_json: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    capks = load_capks(capk_json)
    assert {(rid.hex().upper(), index) for rid, index in capks} == \
        {("A000000003", 0xF9), ("A000000004", 0xF9)}
    assert all(k.length == 176 and k.exponent == 3 for k in capks.values())
    tampered = json.loads(capk_json)
    tampered["capks"][0]["modulus"] = "00" + tampered["capks"][0]["modulus"][2:]
    with pytest.raises(ValueError, match="check value mismatch"):
        load_capks(json.dumps(tampered))
    assert main(["payment", "capk"]) == 0
    table = capsys.readouterr().out
    entry = json.loads(capk_json)["capks"][0]
    assert f"Check value  {entry['check_value']}" in table and "TEST" in table


# -- each method verifies ----------------------------------------------------------------------

@pytest.mark.parametrize(("methods", "flow", "expected"), [
    ("sda", "generate-ac", "SDA verified"),
    ("dda", "generate-ac", "DDA verified"),
    ("cda", "generate-ac", "CDA verified"),
    ("sda,dda,cda", "generate-ac", "CDA verified"),  # Book 3 §10.3: CDA first
    ("sda,dda", "generate-ac", "DDA verified"),
    ("fdda", "qvsdc", "fDDA verified"),
])
def test_each_method_verifies_from_the_exported_capk(tap: Tap, capk_json: str, methods: str,
                                                     flow: str, expected: str) -> None:
    result, recorder = tap({"oda": methods}, capk_json, flow)
    assert result.oda == expected
    assert result.verdict.valid and result.findings == []
    assert check_transaction(recorder.exchanges, strict=True).findings == []


def test_cda_covers_both_generate_ac_answers(tap: Tap, capk_json: str) -> None:
    result, recorder = tap({"oda": "cda"}, capk_json)
    assert result.oda == "CDA verified"
    assert result.final is not None and result.final_verdict is not None
    assert result.final_verdict.valid  # the TC, taken out of the signature, verifies
    signed = [r for c, r in recorder.exchanges if c[1] == 0xAE]
    assert len(signed) == 2 and all(find(r[:-2], 0x9F4B) for r in signed)
    assert all(find(r[:-2], 0x9F26) is None for r in signed)  # the AC only inside


def test_without_oda_the_terminal_reports_none(tap: Tap, capk_json: str) -> None:
    result, _ = tap({}, capk_json)
    assert result.oda == "none" and result.record.aip == bytes.fromhex("1800")


# -- the deliberately wrong cards fail where a terminal must reject them ---------------------

@pytest.mark.parametrize("methods,flow", [("sda", "generate-ac"), ("dda", "generate-ac"),
                                          ("cda", "generate-ac"), ("fdda", "qvsdc")])
@pytest.mark.parametrize(("fault", "why"), [
    ("expired-issuer-cert", "§5.3: issuer certificate expired"),
    ("bad-hash", "§5.3: issuer certificate: hash result does not match"),
    ("wrong-ca-index", "§5.3: no CAPK for RID A000000003 index F8"),
])
def test_wrong_variants_fail(tap: Tap, capk_json: str, methods: str, flow: str,
                             fault: str, why: str) -> None:
    result, _ = tap({"oda": methods, "oda_fault": fault}, capk_json, flow)
    assert f"failed: Book 2 {why}" in result.oda


def test_a_terminal_without_the_capk_cannot_authenticate(tap: Tap, capk_json: str) -> None:
    others = json.loads(capk_json)
    others["capks"] = [c for c in others["capks"] if c["rid"] != "A000000003"]
    result, _ = tap({"oda": "dda"}, json.dumps(others))
    assert result.oda.startswith("DDA failed: Book 2 §5.3: no CAPK")


def test_a_certificate_checked_after_its_expiry_fails(tap: Tap, capk_json: str) -> None:
    result, _ = tap({"oda": "sda"}, capk_json, today=datetime.date(2036, 1, 1))
    assert result.oda == "SDA failed: Book 2 §5.3: issuer certificate expired (MMYY 1235)"


# -- the card's answers ------------------------------------------------------------------------

def _selected(options: dict[str, str]) -> tuple[Card, Terminal]:
    card = _card(options)
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    return card, terminal


def _gpo(terminal: Terminal, ttq: str = "16004000", amount: str = "000000001234") -> bytes:
    pdol = fill(PDOL, {0x9F66: bytes.fromhex(ttq), 0x9F02: bytes.fromhex(amount),
                       0x9F37: b"\x11\x22\x33\x44"})
    response = terminal.transmit(CommandApdu(0x80, 0xA8, 0, 0, bytes((0x83, len(pdol))) + pdol,
                                             256))
    assert response.sw == SW.NO_ERROR
    return response.data


def test_internal_authenticate_errors() -> None:
    card, terminal = _selected({"oda": "dda"})
    with terminal.tap():
        terminal.select(AID)
        ia = CommandApdu(0x00, 0x88, 0, 0, b"\x01\x02\x03\x04", 256)
        assert terminal.transmit(ia).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED  # before GPO
        _gpo(terminal)
        assert terminal.transmit(CommandApdu(0x00, 0x88, 0, 0, b"\x01\x02\x03", 256)).sw == \
            SW.WRONG_LENGTH
        assert terminal.transmit(CommandApdu(0x00, 0x88, 1, 0, b"\x01\x02\x03\x04", 256)).sw \
            == SW.INCORRECT_P1P2
        response = terminal.transmit(ia)
        assert response.sw == SW.NO_ERROR and len(find(response.data, 0x9F4B) or b"") == 144
    card.close()
    card, terminal = _selected({"oda": "sda"})
    with terminal.tap():
        terminal.select(AID)
        _gpo(terminal)
        assert terminal.transmit(CommandApdu(0x00, 0x88, 0, 0, b"\x01\x02\x03\x04", 256)).sw \
            == SW.INS_NOT_SUPPORTED
        cda_p1 = 0x80 | 0x10
        data = fill(CDOL1, {0x9F37: b"\xAA\xBB\xCC\xDD"})
        assert terminal.transmit(CommandApdu(0x80, 0xAE, cda_p1, 0, data, 256)).sw == \
            SW.INCORRECT_P1P2  # no CDA on this card
    card.close()


def test_cda_aac_comes_unsigned() -> None:
    card, terminal = _selected({"oda": "cda"})
    with terminal.tap():
        terminal.select(AID)
        _gpo(terminal)
        data = fill(CDOL1, {0x9F37: b"\xAA\xBB\xCC\xDD"})
        response = terminal.transmit(CommandApdu(0x80, 0xAE, 0x10, 0, data, 256))
        assert response.sw == SW.NO_ERROR
        assert find(response.data, 0x9F27) == b"\x00" and find(response.data, 0x9F26)
        assert find(response.data, 0x9F4B) is None
    card.close()


def test_offline_only_reader_gets_a_tc_with_fdda_within_the_offline_limit() -> None:
    card, terminal = _selected({"oda": "fdda", "offline_limit": "5000"})
    with terminal.tap():
        terminal.select(AID)
        answer = _gpo(terminal, "28000000")
        assert find(answer, 0x9F27) == b"\x40" and find(answer, 0x9F4B)
    with terminal.tap():
        terminal.select(AID)
        answer = _gpo(terminal, "28000000", amount="000000009999")  # above the limit
        assert find(answer, 0x9F27) == b"\x00" and find(answer, 0x9F4B) is None
    card.close()


def test_oda_survives_the_store(tmp_path: Path, capk_json: str) -> None:
    store = tmp_path / "s.sqlite"
    assert main(["payment", "personalize", "--store", str(store), "--oda", "dda,cda"]) == 0
    backend = SqliteStore(store)
    perso = load(backend.namespace("payment"))
    backend.close()
    assert perso is not None and perso.oda is not None and perso.oda.icc_key is not None
    assert perso.oda_methods == ("dda", "cda") and "icc_key" not in repr(perso.oda)
    backend = SqliteStore(store)
    card = Card([PaymentPlugin()], store=backend)
    terminal = Terminal(LoopbackTransport(LoopbackHost(card)))
    with terminal.tap():
        assert run_transaction(terminal, capks=capk_json).oda == "CDA verified"
    card.close()


@pytest.mark.parametrize(("options", "message"), [
    ({"oda_methods": ("sda", "rsa")}, "subset of sda, dda, fdda, cda"),
    ({"oda_methods": ("sda", "sda")}, "subset of"),
    ({"oda_methods": (), "oda_fault": "bad-hash"}, "needs at least one ODA method"),
    ({"oda_methods": ("sda",), "oda_fault": "wrong"}, "ODA fault must be one of"),
])
def test_bad_oda_personalisation_is_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(PersonalizationError, match=message):
        personalize(**options)  # type: ignore[arg-type]


def test_book2_refuses_a_signature_of_the_wrong_length(capk_json: str) -> None:
    capk = load_capks(capk_json)[(bytes.fromhex("A000000003"), 0xF9)]
    with pytest.raises(OdaFailure, match="is 175 bytes; the key is 176"):
        capk.recover(bytes(175), "issuer certificate", "§5.3")
    with pytest.raises(OdaFailure, match="trailer is not BC"):
        capk.recover(bytes(175) + b"\x02", "issuer certificate", "§5.3")


def test_the_terminal_side_imports_nothing_of_the_cards_oda() -> None:
    """book2 (and book3, whose ODA input it uses) must stay independent of the card's code."""
    import ast

    import hcekit_payment.book2 as book2_module
    import hcekit_payment.book3 as book3_module

    for module in (book2_module, book3_module):
        tree = ast.parse(Path(str(module.__file__)).read_text())
        froms = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [node for node in froms if node.level], module.__name__  # no relative import
        assert not [node for node in froms if (node.module or "").startswith("hcekit_payment")]


@pytest.mark.pcsc
@pytest.mark.parametrize(("methods", "flow", "expected"), [
    ("sda,dda,cda", "generate-ac", "CDA verified"), ("fdda", "qvsdc", "fDDA verified")])
def test_oda_through_pcscd(pcsc_card: PcscCardFactory, capk_json: str, methods: str, flow: str,
                           expected: str) -> None:
    """The same checks over the real stack: pyscard → pcscd → vpcd → the card."""
    recorder = Recorder()
    served = pcsc_card([PaymentPlugin(), recorder], options={"payment": {"oda": methods}})
    result = run_transaction(served.terminal, flow=flow, capks=capk_json)
    assert result.oda == expected and result.findings == []
    assert check_transaction(recorder.exchanges, strict=True).findings == []
