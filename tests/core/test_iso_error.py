"""IsoError carries only a well-formed error or warning status word (issue 31 item 11).

A plugin bug used to put 0000, 1234, or a 61xx/6Cxx with nothing pending on
the wire. SW1 61 and 6C are the card core's (response chaining, Le), 9000
is success, and ISO/IEC 7816-3/-4 allow SW1 only in 6X (not 60) and 9X.
"""

from __future__ import annotations

import pytest
from hcekit import SW, AppContext, Card, Claim, CommandApdu, PluginContext
from hcekit.errors import IsoError
from hcekit.hookspecs import hookimpl
from hcekit.store import MemoryStore
from hcekit.sw import is_error_sw

AID = bytes.fromhex("F0010203040506")


@pytest.mark.parametrize("sw", [0x0000, 0x1234, 0x6000, 0x6100, 0x6110, 0x6C00, 0x6C08,
                                0x9000, 0x7000, 0xA000, 0xFFFF, -1, 0x10000])
def test_refused_status_words(sw: int) -> None:
    assert not is_error_sw(sw)
    with pytest.raises(ValueError):
        IsoError(sw)


@pytest.mark.parametrize("sw", [SW.WARNING_NO_INFORMATION, 0x63C2, SW.WRONG_LENGTH,
                                SW.LAST_COMMAND_OF_CHAIN_EXPECTED, SW.FILE_NOT_FOUND,
                                SW.UNKNOWN, 0x9100, 0x91AE, 0x9001])
def test_accepted_status_words(sw: int) -> None:
    assert is_error_sw(sw)
    assert IsoError(sw).sw == sw


class _Buggy:
    name = "buggy"

    def __init__(self, sw: int) -> None:
        self.sw = sw

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(AID)]

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes:
        raise IsoError(self.sw, "a plugin bug")


@pytest.mark.parametrize("sw", [0x0000, 0x1234, 0x6110, 0x6C08])
def test_a_malformed_status_word_from_a_plugin_answers_6f00(sw: int) -> None:
    card = Card([_Buggy(sw)], store=MemoryStore())
    card.field_on()
    assert card.transceive(CommandApdu(0, 0xA4, 4, 0, AID, 256).to_bytes())[-2:] == b"\x90\x00"
    assert card.transceive(bytes.fromhex("0001000000")) == b"\x6f\x00"
    card.close()


def test_a_terminal_checking_an_odd_status_word_gets_an_hcekit_error() -> None:
    from hcekit import ResponseApdu
    from hcekit.errors import HcekitError

    with pytest.raises(IsoError):
        ResponseApdu(b"", 0x6A82).check()
    for sw in (0x6110, 0x1234):
        with pytest.raises(HcekitError) as info:
            ResponseApdu(b"", sw).check()
        assert not isinstance(info.value, IsoError)
