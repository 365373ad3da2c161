"""Issuer scripts: block/unblock, PIN change/unblock, PUT DATA, under secure messaging.

Commands come from the project's issuer (:meth:`IssuerHost.script`) and reach the card
through the POS script's Book 3 §10.10 delivery; pyemv (code no one here wrote) builds
the same PIN change command for the Mastercard profile, byte for byte.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from hcekit import SW, Card, CommandApdu
from hcekit.hosts import LoopbackHost
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.testing.requirements import missing
from hcekit.tlv import find
from hcekit_payment import TEST_IMK, PaymentPlugin
from hcekit_payment.book3 import issuer_script_commands
from hcekit_payment.dol import fill
from hcekit_payment.issuer import CryptogramRecord, IssuerHost, ScriptCommand
from hcekit_payment.layout import CDOL1, PDOL
from hcekit_payment.pos import PosError, run_transaction
from hcekit_payment.testdata import TEST_IMK_SMC, TEST_IMK_SMI

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

VISA_AID = bytes.fromhex("A0000000031010")
BLOCK, UNBLOCK = ScriptCommand.application_block(), ScriptCommand.application_unblock()


class Rig:
    def __init__(self, pan: str = "4111111111111111") -> None:
        self.store = MemoryStore()
        self.card = Card([PaymentPlugin()], store=self.store, options={"payment": {"pan": pan}})
        self.terminal = Terminal(LoopbackTransport(LoopbackHost(self.card)))
        self.ns = self.store.namespace("payment")

    def purchase(self, scripts: list[ScriptCommand], issuer: IssuerHost | None = None) -> list[int]:
        with self.terminal.tap():
            return run_transaction(self.terminal, scripts=scripts, issuer=issuer).script_results

    def get_data(self, tag: int) -> bytes:
        with self.terminal.tap():
            self.terminal.select(VISA_AID)
            return self.terminal.transmit(CommandApdu(0x80, 0xCA, tag >> 8, tag & 0xFF, b"",
                                                      256)).to_bytes()


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.card.close()


def test_application_block_then_the_card_refuses_to_be_chosen(rig: Rig) -> None:
    assert rig.purchase([BLOCK]) == [SW.NO_ERROR]
    with pytest.raises(PosError, match="blocked \\(6283\\)"):
        rig.purchase([])
    with rig.terminal.tap():  # a terminal that goes on anyway gets only AACs
        assert rig.terminal.select(VISA_AID).sw == SW.SELECTED_FILE_INVALIDATED
        _gpo(rig.terminal)
        answer = _generate_ac(rig.terminal, 0x80)
        assert find(answer, 0x9F27) == b"\x00"
        # the issuer unblocks it in the same transaction, MACed over that AAC
        for command in _script_for(rig, answer, [UNBLOCK]):
            assert rig.terminal.transmit(command).sw == SW.NO_ERROR
    assert rig.purchase([]) == []  # selectable again, the purchase runs


def test_a_wrong_mac_changes_nothing(rig: Rig) -> None:
    wrong = IssuerHost(imk_smi=bytes(16))
    assert rig.purchase([BLOCK], issuer=wrong) == [SW.SM_DATA_OBJECTS_INCORRECT]
    assert rig.purchase([ScriptCommand.put_data(0x9F14, b"\x05")], issuer=wrong) == [0x6988]
    assert rig.get_data(0x9F14)[-2:] == b"\x6a\x88"  # never written
    assert rig.purchase([]) == []  # not blocked


def test_pin_change_and_unblock(rig: Rig) -> None:
    assert rig.purchase([ScriptCommand.pin_change("4321")]) == [SW.NO_ERROR]
    assert rig.ns.get("pin") == b"4321"
    rig.ns.set_int("pin_tries", 0)
    assert rig.get_data(0x9F17) == bytes.fromhex("9F1701009000")
    assert rig.purchase([ScriptCommand.pin_unblock()]) == [SW.NO_ERROR]
    assert rig.get_data(0x9F17) == bytes.fromhex("9F1701039000")
    # the right MAC over a PIN block enciphered with the wrong key: 6A80, PIN kept
    assert rig.purchase([ScriptCommand.pin_change("9999")],
                        issuer=IssuerHost(imk_smc=bytes(16))) == [SW.INCORRECT_DATA]
    assert rig.ns.get("pin") == b"4321"


def test_put_data_and_a_script_stops_at_its_first_failure(rig: Rig) -> None:
    assert rig.purchase([ScriptCommand.put_data(0x9F14, b"\x05")]) == [SW.NO_ERROR]
    assert rig.get_data(0x9F14) == bytes.fromhex("9F1401059000")
    bad_tag = ScriptCommand.put_data(0x5A, b"\x41")
    assert rig.purchase([bad_tag, BLOCK]) == [SW.REFERENCED_DATA_NOT_FOUND]  # BLOCK never sent
    too_long = ScriptCommand.put_data(0x9F14, b"\x01\x02")
    assert rig.purchase([too_long]) == [SW.WRONG_LENGTH]
    assert rig.purchase([]) == []


def test_script_commands_need_a_cryptogram_and_a_mac(rig: Rig) -> None:
    with rig.terminal.tap():
        rig.terminal.select(VISA_AID)
        mac_only = CommandApdu(0x84, 0x1E, 0, 0, bytes(8))
        assert rig.terminal.transmit(mac_only).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED
        _gpo(rig.terminal)
        _generate_ac(rig.terminal, 0x80)
        assert rig.terminal.transmit(CommandApdu(0x84, 0x1E, 0, 0, bytes(7))).sw == \
            SW.WRONG_LENGTH
        assert rig.terminal.transmit(CommandApdu(0x84, 0x1E, 1, 0, bytes(8))).sw == \
            SW.INCORRECT_P1P2
        assert rig.terminal.transmit(CommandApdu(0x84, 0x24, 0, 3, bytes(16))).sw == \
            SW.INCORRECT_P1P2  # P2 00, 01, 02 only
        assert rig.terminal.transmit(CommandApdu(0x00, 0x1E, 0, 0, bytes(8))).sw == \
            SW.CLA_NOT_SUPPORTED
        assert rig.terminal.transmit(mac_only).sw == SW.SM_DATA_OBJECTS_INCORRECT
    assert rig.purchase([]) == []


def test_the_script_template_is_what_book3_reads() -> None:
    record = _record("4111111111111111", b"\x00\x07", bytes.fromhex("1122334455667788"))
    template = IssuerHost().script(record, [BLOCK, ScriptCommand.pin_change("1234")])
    script_id, commands = issuer_script_commands(template)
    assert template[0] == 0x72 and script_id == b"\x00\x00\x00\x01"
    assert [c[:5].hex().upper() for c in commands] == ["841E000008", "8424000210"]


def test_pyemv_builds_the_same_mastercard_pin_change() -> None:
    if importlib.util.find_spec("pyemv") is None:
        missing("pyemv is not installed (pip install pyemv)")
    import pyemv

    pan, atc, arqc = "5555555555554444", b"\x00\x1c", bytes.fromhex("1234567890123456")
    mc = pyemv.cvn.MasterCardCVN16(TEST_IMK, TEST_IMK_SMI, TEST_IMK_SMC, pan, "00")
    template = IssuerHost().script(_record(pan, atc, arqc), [ScriptCommand.pin_change("9999"),
                                                             UNBLOCK])
    _, (pin_change, unblock) = issuer_script_commands(template)
    assert pin_change == mc.generate_pin_change_command("9999", tag_9f26=arqc, tag_9f36=atc)
    assert unblock[5:] == mc.generate_command_mac(bytes.fromhex("8418000008"), arqc, atc)


def test_mastercard_card_takes_scripts_too() -> None:
    made = Rig("5555555555554444")
    assert made.purchase([ScriptCommand.pin_change("2468"), BLOCK]) == [0x9000, 0x9000]
    assert made.ns.get("pin") == b"2468"
    with pytest.raises(PosError, match="blocked"):
        made.purchase([])
    made.card.close()


# -- helpers ----------------------------------------------------------------------------------

def _record(pan: str, atc: bytes, cryptogram: bytes) -> CryptogramRecord:
    from hcekit_payment import TransactionData

    data = TransactionData(bytes(6), bytes(6), bytes(2), bytes(5), bytes(2), bytes(3), b"\x00",
                           bytes(4))
    return CryptogramRecord(pan, "00", data, b"\x18\x00", atc, b"", 0x80, cryptogram)


def _gpo(terminal: Terminal) -> None:
    pdol = fill(PDOL, {0x9F66: bytes.fromhex("16004000")})
    assert terminal.transmit(CommandApdu(0x80, 0xA8, 0, 0, bytes((0x83, len(pdol))) + pdol,
                                         256)).sw == SW.NO_ERROR


def _generate_ac(terminal: Terminal, p1: int) -> bytes:
    response = terminal.transmit(CommandApdu(0x80, 0xAE, p1, 0, fill(CDOL1, {}), 256))
    assert response.sw == SW.NO_ERROR
    return response.data


def _script_for(rig: Rig, answer: bytes, commands: list[ScriptCommand]) -> list[bytes]:
    record = _record("4111111111111111", find(answer, 0x9F36) or b"",
                     find(answer, 0x9F26) or b"")
    return issuer_script_commands(IssuerHost().script(record, commands))[1]


def test_a_pin_field_with_bad_padding_is_incorrect_data(rig: Rig) -> None:
    """Two enciphered blocks whose padding is not method 2: 6A80, PIN untouched."""
    from hcekit_payment import script_sm
    from hcekit_payment.keys import derive_icc_master_key_a

    with rig.terminal.tap():
        rig.terminal.select(VISA_AID)
        _gpo(rig.terminal)
        answer = _generate_ac(rig.terminal, 0x80)
        atc, ac = find(answer, 0x9F36) or b"", find(answer, 0x9F26) or b""
        pan = "4111111111111111"
        smi = script_sm.session_key(derive_icc_master_key_a(TEST_IMK_SMI, pan, "00"), ac)
        smc = script_sm.session_key(derive_icc_master_key_a(TEST_IMK_SMC, pan, "00"), ac)
        data = script_sm.encipher(smc, script_sm.pin_block("1234") + bytes(8))  # no 80 mark
        header = bytes((0x84, 0x24, 0x00, 0x02, len(data) + 8))
        mac = script_sm.command_mac(smi, header, atc, ac, data)
        assert rig.terminal.transmit(header + data + mac).sw == SW.INCORRECT_DATA
    assert rig.ns.get("pin") is None


def test_a_block_before_the_final_generate_ac_turns_it_into_an_aac(rig: Rig) -> None:
    """Template 71 (Book 3 §10.10): the block lands before the second GENERATE AC."""
    with rig.terminal.tap():
        result = run_transaction(rig.terminal, scripts=[BLOCK], scripts_before_final_ac=True)
    assert result.script_results == [SW.NO_ERROR]
    assert result.final is not None and result.final.cryptogram_type.name == "AAC"
    assert result.final_verdict is not None and result.final_verdict.valid


def test_card_block_is_for_good(rig: Rig) -> None:
    assert rig.purchase([ScriptCommand.card_block()]) == [SW.NO_ERROR]
    with rig.terminal.tap():
        assert rig.terminal.select(VISA_AID).sw == SW.FUNCTION_NOT_SUPPORTED
    with pytest.raises(PosError, match="6A81"):
        rig.purchase([UNBLOCK])
