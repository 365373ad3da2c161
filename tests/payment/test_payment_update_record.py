"""UPDATE RECORD as an issuer script command: the record changes, persists, and ODA notices.

Commands come from the project's issuer (:meth:`IssuerHost.script`) or carry a MAC that
pyemv (code no one here wrote) computes; results are read back by the terminal's own
READ RECORD and judged by its Book 2 checks against the exported CAPK (:mod:`book2`,
which imports nothing of the card) and the independent Book 3 checker.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hcekit import SW, Card, CommandApdu
from hcekit.cli import main
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore, SqliteStore, Store
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.requirements import missing
from hcekit.tlv import encode, find, parse
from hcekit_payment import PaymentPlugin
from hcekit_payment.book3 import check_transaction
from hcekit_payment.issuer import IssuerHost, ScriptCommand
from hcekit_payment.personalization import load, save
from hcekit_payment.pos import PosResult, parse_script, run_transaction
from hcekit_payment.testdata import TEST_IMK_SMI

from .test_payment_book3 import Recorder
from .test_payment_scripts import VISA_AID, _generate_ac, _gpo

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

PAN = "4111111111111111"


class Reader:
    """One card in *store*, the project's terminal in front of it, every exchange recorded."""

    def __init__(self, store: Store, options: dict[str, str] | None = None) -> None:
        self.recorder = Recorder()
        self.card = Card([PaymentPlugin(), self.recorder], store=store,
                         options={"payment": options or {}})
        self.terminal = Terminal(LoopbackTransport(LoopbackHost(self.card)))
        self.store, self.ns = store, store.namespace("payment")

    def close(self) -> None:
        self.card.close()
        self.store.close()

    def purchase(self, scripts: list[ScriptCommand] | None = None, capks: str | None = None,
                 issuer: IssuerHost | None = None) -> PosResult:
        self.recorder.exchanges.clear()
        with self.terminal.tap():
            return run_transaction(self.terminal, scripts=scripts, capks=capks, issuer=issuer)

    def read_record(self, sfi: int, number: int) -> bytes:
        with self.terminal.tap():
            self.terminal.select(VISA_AID)
            response = self.terminal.transmit(CommandApdu(0x00, 0xB2, number, sfi << 3 | 4,
                                                          b"", 256))
            assert response.sw == SW.NO_ERROR
            return response.data


@pytest.fixture
def reader() -> Iterator[Reader]:
    made = Reader(MemoryStore())
    yield made
    made.card.close()


def _with(record: bytes, tag: int, value: bytes) -> bytes:
    """*record* (a template 70) with *tag*'s value replaced, as the issuer would rewrite it."""
    objects = parse(parse(record)[0].value)
    assert any(o.tag == tag for o in objects)
    return encode(0x70, [encode(o.tag, value if o.tag == tag else o.value) for o in objects])


def test_the_next_read_record_returns_the_new_record_and_it_persists(tmp_path: Path) -> None:
    path = tmp_path / "card.sqlite"
    first = Reader(SqliteStore(path))
    before = first.read_record(1, 1)
    new = _with(before, 0x5F20, b"UPDATED/CARDHOLDER")
    assert first.purchase([ScriptCommand.update_record(1, 1, new)]).script_results == [0x9000]
    assert first.read_record(1, 1) == new
    result = first.purchase()  # the terminal reads it in the next transaction, Book 3 clean
    assert result.card_data[0x5F20] == b"UPDATED/CARDHOLDER" and result.verdict.valid
    assert check_transaction(first.recorder.exchanges, strict=True).findings == []
    first.close()
    again = Reader(SqliteStore(path))  # the change is in the store, not in the session
    assert again.read_record(1, 1) == new
    # a new personalisation brings a new layout: the rewritten copy goes with the old one
    perso = load(again.ns)
    assert perso is not None
    save(again.ns, perso)
    assert again.read_record(1, 1) == before
    again.close()


def test_a_wrong_mac_leaves_the_record_unchanged(reader: Reader) -> None:
    before = reader.read_record(2, 2)
    new = _with(before, 0x9F0E, bytes(5))  # IAC denial
    result = reader.purchase([ScriptCommand.update_record(2, 2, new)],
                             issuer=IssuerHost(imk_smi=bytes(16)))
    assert result.script_results == [SW.SM_DATA_OBJECTS_INCORRECT]
    assert reader.read_record(2, 2) == before


def test_pyemv_macs_an_update_record_the_card_takes(reader: Reader) -> None:
    if importlib.util.find_spec("pyemv") is None:
        missing("pyemv is not installed (pip install pyemv)")
    import pyemv

    new = _with(reader.read_record(1, 1), 0x5F20, b"PYEMV/MACED")
    # the Mastercard CVN 16 object MACs as Book 2 §9.2 format 2 does; its keys are option A
    mac_maker = pyemv.cvn.MasterCardCVN16(bytes(16), TEST_IMK_SMI, bytes(16), PAN, "00")
    with reader.terminal.tap():
        reader.terminal.select(VISA_AID)
        _gpo(reader.terminal)
        answer = _generate_ac(reader.terminal, 0x80)
        atc, ac = find(answer, 0x9F36) or b"", find(answer, 0x9F26) or b""
        header = bytes((0x04, 0xDC, 0x01, 0x0C, len(new) + 8))
        tampered = header + new + mac_maker.generate_command_mac(header, ac, atc, new[:-1] + b"X")
        assert reader.terminal.transmit(tampered).sw == SW.SM_DATA_OBJECTS_INCORRECT
        command = header + new + mac_maker.generate_command_mac(header, ac, atc, new)
        assert reader.terminal.transmit(command).sw == SW.NO_ERROR
    assert reader.read_record(1, 1) == new


@pytest.mark.parametrize(("cla", "p1", "p2", "record", "sw"), [
    (0x04, 1, 0x0D, None, SW.INCORRECT_P1P2),           # P2 b3-b1 not 100
    (0x04, 0, 0x0C, None, SW.INCORRECT_P1P2),           # record 0
    (0x04, 1, 0x2C, None, SW.FILE_NOT_FOUND),           # SFI 5: no such file
    (0x04, 2, 0x0C, None, SW.RECORD_NOT_FOUND),         # SFI 1 has one record; none added
    (0x04, 1, 0x0C, bytes.fromhex("5F200141"), SW.INCORRECT_DATA),  # not a template 70
    (0x04, 1, 0x0C, bytes.fromhex("7005"), SW.INCORRECT_DATA),       # truncated TLV
    (0x04, 1, 0x0C, bytes.fromhex("70005A00"), SW.INCORRECT_DATA),   # two objects
    (0x04, 1, 0x0C, b"", SW.WRONG_LENGTH),              # only the MAC
    (0x0C, 1, 0x0C, None, SW.CLA_NOT_SUPPORTED),        # ISO format 1: not this card's
])
def test_refused_updates_change_nothing(reader: Reader, cla: int, p1: int, p2: int,
                                        record: bytes | None, sw: int) -> None:
    before = reader.read_record(1, 1)
    data = (before if record is None else record) + bytes(8)
    with reader.terminal.tap():
        reader.terminal.select(VISA_AID)
        _gpo(reader.terminal)
        _generate_ac(reader.terminal, 0x80)
        assert reader.terminal.transmit(CommandApdu(cla, 0xDC, p1, p2, data)).sw == sw
        too_long = CommandApdu(0x04, 0xDC, 1, 0x0C, bytes(300))  # extended: not a script command
        assert reader.terminal.transmit(too_long).sw == SW.WRONG_LENGTH
    assert reader.read_record(1, 1) == before


def _capk_json() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["payment", "capk", "--json"]) == 0
    return out.getvalue()


@pytest.mark.parametrize(("methods", "failed"), [("sda", "SDA failed"), ("dda", "DDA failed")])
def test_rewriting_signed_data_makes_the_terminals_oda_fail(methods: str, failed: str) -> None:
    """The card lets the issuer rewrite signed records (Book 2 gives it no say in SDA); the
    terminal's check against the exported CAPK then fails, and a transaction still runs."""
    capks = _capk_json()
    reader = Reader(MemoryStore(), {"oda": methods})
    assert reader.purchase(capks=capks).oda.endswith("verified")
    signed = reader.read_record(2, 1)  # AFL: SFI 2 record 1 is signed static data
    changed = _with(signed, 0x5F28, bytes.fromhex("0826"))  # issuer country code
    assert reader.purchase([ScriptCommand.update_record(2, 1, changed)],
                           capks=capks).script_results == [0x9000]
    result = reader.purchase(capks=capks)
    assert result.oda.startswith(failed) and "hash" in result.oda, result.oda
    assert result.card_data[0x5F28] == bytes.fromhex("0826") and result.verdict.valid
    assert check_transaction(reader.recorder.exchanges, strict=True).findings == []
    # an unsigned record (SFI 1, outside the AFL's ODA records) leaves ODA alone
    other = Reader(MemoryStore(), {"oda": methods})
    name = _with(other.read_record(1, 1), 0x5F20, b"RENAMED/CARD")
    assert other.purchase([ScriptCommand.update_record(1, 1, name)],
                          capks=capks).script_results == [0x9000]
    assert other.purchase(capks=capks).oda.endswith("verified")
    reader.card.close()
    other.card.close()


def test_the_pos_script_option_names_sfi_and_record() -> None:
    (command,) = parse_script("update-record:2.1=700300")
    assert (command.cla, command.ins, command.p1, command.p2, command.data) == \
        (0x04, 0xDC, 1, 0x14, bytes.fromhex("700300"))
    for bad in ("update-record:2=7000", "update-record:31.1=7000", "update-record:1.0=7000"):
        with pytest.raises(ValueError):
            parse_script(bad)


def test_template_71_delivers_it_before_the_final_generate_ac(reader: Reader) -> None:
    new = _with(reader.read_record(2, 2), 0x9F0D, bytes.fromhex("0000000000"))  # IAC default
    with reader.terminal.tap():
        result = run_transaction(reader.terminal, scripts=[ScriptCommand.update_record(2, 2, new)],
                                 scripts_before_final_ac=True)
    assert result.script_results == [0x9000]
    assert result.final_verdict is not None and result.final_verdict.valid
    assert reader.read_record(2, 2) == new


def test_a_bad_script_option_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tap", "payment-pos", "-s", "script=update-record:1.1=7G"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("hcekit: error: ")
    assert "option script" in err[0]


def test_a_file_left_out_of_the_updatable_ones_is_refused(reader: Reader,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The one place that decides (assumptions.UPDATABLE_SFIS) is the one the card obeys."""
    import hcekit_payment.scripts

    monkeypatch.setattr(hcekit_payment.scripts, "UPDATABLE_SFIS", frozenset({1}))
    before = reader.read_record(2, 2)
    new = _with(before, 0x9F0E, bytes(5))
    assert reader.purchase([ScriptCommand.update_record(2, 2, new)]).script_results == \
        [SW.SECURITY_STATUS_NOT_SATISFIED]
    assert reader.read_record(2, 2) == before
