"""PIN CHANGE with the current PIN (EMV Book 3 §6.5.10, P2 01) as an issuer script command.

The right current PIN sets the new one and resets the try counter; a wrong one costs a
try (63Cx) until the counter is 0 (6983). pyemv's public ``VisaCVN22`` (code no one here
wrote) builds the command that the card takes, byte for byte what the project's issuer
sends; GET DATA 9F17 reads the counter back as a terminal would.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hcekit import SW
from hcekit.testing.requirements import missing
from hcekit.tlv import find
from hcekit_payment import TEST_IMK
from hcekit_payment.book3 import issuer_script_commands
from hcekit_payment.cryptogram import CVN, CryptogramType, issuer_application_data
from hcekit_payment.issuer import IssuerHost, ScriptCommand
from hcekit_payment.testdata import TEST_IMK_SMC, TEST_IMK_SMI

from .test_payment_scripts import VISA_AID, Rig, _generate_ac, _gpo, _record

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

PAN = "4111111111111111"


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.card.close()


def _tries(rig: Rig) -> int:
    answer = rig.get_data(0x9F17)
    assert answer[-2:] == b"\x90\x00" and answer[:3] == b"\x9f\x17\x01"
    return answer[3]


def test_the_right_current_pin_sets_the_new_one(rig: Rig) -> None:
    assert rig.purchase([ScriptCommand.pin_change("4321", "1234")]) == [SW.NO_ERROR]
    assert rig.ns.get("pin") == b"4321"
    assert rig.purchase([ScriptCommand.pin_change("987654321012", "4321")]) == [SW.NO_ERROR]
    assert rig.ns.get("pin") == b"987654321012"
    assert _tries(rig) == 3


def test_a_wrong_current_pin_costs_a_try_until_the_counter_blocks(rig: Rig) -> None:
    wrong = ScriptCommand.pin_change("5555", "0000")
    assert rig.purchase([wrong]) == [0x63C2]
    assert _tries(rig) == 2 and rig.ns.get("pin") is None  # still the initial TEST PIN
    # SW1 63 lets the script go on (Book 3 §10.10): the next command still runs
    assert rig.purchase([wrong, ScriptCommand.put_data(0x9F14, b"\x07")]) == [0x63C1, 0x9000]
    assert rig.purchase([wrong]) == [0x63C0]
    assert _tries(rig) == 0
    right = ScriptCommand.pin_change("5555", "1234")
    assert rig.purchase([right]) == [SW.AUTHENTICATION_METHOD_BLOCKED]
    assert rig.ns.get("pin") is None and _tries(rig) == 0
    # the issuer's PIN UNBLOCK gives the tries back; then the right PIN works
    assert rig.purchase([ScriptCommand.pin_unblock(), right]) == [SW.NO_ERROR, SW.NO_ERROR]
    assert rig.ns.get("pin") == b"5555" and _tries(rig) == 3


def test_a_wrong_mac_or_bad_framing_costs_no_try(rig: Rig) -> None:
    wrong_mac = IssuerHost(imk_smi=bytes(16))
    assert rig.purchase([ScriptCommand.pin_change("5555", "0000")], issuer=wrong_mac) == [0x6988]
    assert _tries(rig) == 3
    pyemv = _pyemv()  # PIN data without its length byte, MACed and enciphered by pyemv: 6A80
    mc = pyemv.cvn.MasterCardCVN16(bytes(16), TEST_IMK_SMI, TEST_IMK_SMC, PAN, "00")
    with rig.terminal.tap():
        rig.terminal.select(VISA_AID)
        _gpo(rig.terminal)
        answer = _generate_ac(rig.terminal, 0x80)
        atc, ac = find(answer, 0x9F36) or b"", find(answer, 0x9F26) or b""
        data = mc.encrypt_command_data(bytes(16), ac)
        header = bytes((0x84, 0x24, 0x00, 0x01, len(data) + 8))
        command = header + data + mc.generate_command_mac(header, ac, atc, data)
        assert rig.terminal.transmit(command).sw == SW.INCORRECT_DATA
    assert _tries(rig) == 3 and rig.ns.get("pin") is None


def test_pyemv_builds_the_command_the_card_takes(rig: Rig) -> None:
    """pyemv's VisaCVN22 with the card's keys (SMI/SMC option A, AC key of CVN 18: option B)."""
    pyemv = _pyemv()
    visa = pyemv.cvn.VisaCVN22(TEST_IMK, TEST_IMK_SMI, TEST_IMK_SMC, PAN, "00")
    visa.icc_mk_smi = pyemv.kd.derive_icc_mk_a(TEST_IMK_SMI, PAN, "00")
    visa.icc_mk_smc = pyemv.kd.derive_icc_mk_a(TEST_IMK_SMC, PAN, "00")
    # CVN 18's AC key is option B (and VisaCVN22 already derived it so)
    with rig.terminal.tap():
        rig.terminal.select(VISA_AID)
        _gpo(rig.terminal)
        answer = _generate_ac(rig.terminal, 0x80)
        atc, ac = find(answer, 0x9F36) or b"", find(answer, 0x9F26) or b""
        wrong = visa.generate_pin_change_command("2468", ac, atc, current_pin="1111")
        assert rig.terminal.transmit(wrong).sw == 0x63C2
        right = visa.generate_pin_change_command("2468", ac, atc, current_pin="1234")
        assert rig.terminal.transmit(right).sw == SW.NO_ERROR
    assert rig.ns.get("pin") == b"2468" and _tries(rig) == 3
    # the project's issuer sends the same bytes
    record = replace(_record(PAN, atc, ac),
                     iad=issuer_application_data(CVN.VISA_18, CryptogramType.ARQC))
    _, (ours,) = issuer_script_commands(IssuerHost().script(
        record, [ScriptCommand.pin_change("2468", "1234")]))
    assert ours == right


def test_pin_change_arguments_are_checked_when_the_script_is_built() -> None:
    with pytest.raises(ValueError, match="4–12 digits"):
        ScriptCommand.pin_change("4321", "12")
    with pytest.raises(ValueError, match="4–12 digits"):
        ScriptCommand.pin_change("43a1", "1234")
    assert "1234" not in repr(ScriptCommand.pin_change("4321", "1234"))


def test_the_pos_script_option_takes_the_current_pin() -> None:
    from hcekit_payment.pos import parse_script

    (command,) = parse_script("pin-change:4321:1234")
    assert (command.p2, command.pins) == (0x01, ("4321", "1234"))
    (command,) = parse_script("pin-change:4321")
    assert (command.p2, command.pins) == (0x02, None)


# -- helpers ----------------------------------------------------------------------------------

def _pyemv() -> Any:
    if importlib.util.find_spec("pyemv") is None:
        missing("pyemv is not installed (pip install pyemv)")
    import pyemv
    import pyemv.kd

    return pyemv
