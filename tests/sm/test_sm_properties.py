"""Round-trip properties and negative tests for ISO/IEC 7816-4 secure messaging.

Both suites, both directions: what one side wraps the other side unwraps to
the original; flipping any protected byte, replaying or reordering a message
is rejected with 6987/6988 and ends the session.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from hcekit import SW, ApduFormatError, CommandApdu, ResponseApdu
from hcekit.sm import (
    AesSuite,
    CardSession,
    CipherSuite,
    SmError,
    TdesSuite,
    TerminalSession,
    is_protected,
    unwrap_command,
    wrap_command,
)
from hypothesis import given, settings
from hypothesis import strategies as st


class HmacSuite:
    """A plugin's own suite: AES-CBC (IV = E(K, SSC)) with a 12-byte HMAC-SHA256 tag.

    Proves the CipherSuite protocol is enough: no change to the SM layer.
    """

    name = "AES+HMAC (test suite)"
    block_size = 16
    mac_length = 12

    def __init__(self, k_enc: bytes, k_mac: bytes) -> None:
        self._cipher = AesSuite(k_enc, k_enc)  # reuse its CBC with IV = E(K, SSC)
        self._k_mac = k_mac

    def encrypt(self, ssc: bytes, padded: bytes) -> bytes:
        return self._cipher.encrypt(ssc, padded)

    def decrypt(self, ssc: bytes, cryptogram: bytes) -> bytes:
        return self._cipher.decrypt(ssc, cryptogram)

    def mac(self, padded: bytes) -> bytes:
        tag = hmac.HMAC(self._k_mac, hashes.SHA256())
        tag.update(padded)
        return tag.finalize()[: self.mac_length]


SUITES: dict[str, CipherSuite] = {
    "3DES": TdesSuite(bytes(range(16)), bytes(range(16, 32))),
    "AES-128": AesSuite(bytes(range(16)), bytes(range(16, 32))),
    "AES-256": AesSuite(bytes(range(32)), bytes(range(32, 64))),
    "custom": HmacSuite(bytes(range(16)), bytes(range(16, 48))),
}


def test_a_plugin_suite_satisfies_the_protocol() -> None:
    assert isinstance(SUITES["custom"], CipherSuite)
    terminal, _ = pair("custom")
    wrapped = terminal.wrap_command(CommandApdu(0x00, 0x01, 0, 0, b"x"))
    assert wrapped.data[-14:-12] == bytes((0x8E, 12))  # its own tag length on the wire


def pair(name: str, ssc: bytes | None = None) -> tuple[TerminalSession, CardSession]:
    suite = SUITES[name]
    start = ssc if ssc is not None else bytes(suite.block_size)
    return TerminalSession(suite, start), CardSession(suite, start)


suite_names = st.sampled_from(sorted(SUITES))
# Class bytes without SM or chaining bits whose SM form authenticates the
# header: first interindustry and proprietary.
plain_cla = st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x80, 0x81, 0xA0])
les = st.one_of(st.none(), st.integers(1, 256), st.integers(257, 65536))
commands = st.builds(
    CommandApdu, plain_cla, st.integers(0, 0xFF), st.integers(0, 0xFF), st.integers(0, 0xFF),
    st.binary(max_size=300), les,
)
status_words = st.sampled_from([SW.NO_ERROR, SW.END_OF_FILE_REACHED, 0x63C2, SW.FILE_NOT_FOUND,
                                SW.SECURITY_STATUS_NOT_SATISFIED])
responses = st.builds(ResponseApdu, st.binary(max_size=300), status_words)


@settings(max_examples=60, deadline=None)
@given(suite_names, st.lists(st.tuples(commands, responses), min_size=1, max_size=4))
def test_round_trip_both_directions(name: str, exchanges: list[tuple[CommandApdu,
                                                                      ResponseApdu]]) -> None:
    terminal, card = pair(name)
    for command, response in exchanges:
        wrapped = terminal.wrap_command(command)
        assert is_protected(wrapped)
        assert CommandApdu.parse(wrapped.to_bytes()) == wrapped  # valid on the wire
        if len(command.data) >= 8:
            assert command.data not in wrapped.data  # encrypted, not just MACed
        assert card.unwrap_command(CommandApdu.parse(wrapped.to_bytes())) == command
        protected = card.wrap_response(command, response)
        assert terminal.unwrap_response(ResponseApdu.parse(protected.to_bytes())) == response
    assert terminal.ssc.value == card.ssc.value


@settings(max_examples=60, deadline=None)
@given(suite_names, commands, st.data())
def test_flipping_any_protected_command_byte_is_rejected(name: str, command: CommandApdu,
                                                         data: st.DataObject) -> None:
    terminal, card = pair(name)
    wire = bytearray(terminal.wrap_command(command).to_bytes())
    # The last one or two bytes are the unprotected Le' (00 / 0000): ISO/IEC 7816-4
    # leaves it outside the MAC because it only sizes the transport, not the content.
    le_len = 2 if wire[4] == 0 else 1
    index = data.draw(st.integers(0, len(wire) - 1 - le_len), label="index")
    mask = data.draw(st.integers(1, 0xFF), label="mask")
    wire[index] ^= mask
    try:
        tampered = CommandApdu.parse(bytes(wire))
    except ApduFormatError:
        return  # no longer a well-formed APDU: the core answers 67xx before SM
    with pytest.raises(SmError) as info:
        card.unwrap_command(tampered)
    assert info.value.sw in (SW.SM_DATA_OBJECTS_MISSING, SW.SM_DATA_OBJECTS_INCORRECT,
                             SW.SECURE_MESSAGING_NOT_SUPPORTED)
    assert card.closed
    with pytest.raises(SmError):  # the session stays closed, even for a good command
        card.unwrap_command(terminal.wrap_command(command))


@settings(max_examples=60, deadline=None)
@given(suite_names, commands, responses, st.data())
def test_flipping_any_protected_response_byte_is_rejected(name: str, command: CommandApdu,
                                                          response: ResponseApdu,
                                                          data: st.DataObject) -> None:
    terminal, card = pair(name)
    card.unwrap_command(terminal.wrap_command(command))
    wire = bytearray(card.wrap_response(command, response).to_bytes())
    wire[data.draw(st.integers(0, len(wire) - 1))] ^= data.draw(st.integers(1, 0xFF))
    with pytest.raises(SmError):
        terminal.unwrap_response(ResponseApdu.parse(bytes(wire)))
    assert terminal.closed


@pytest.mark.parametrize("name", sorted(SUITES))
def test_replayed_command_is_rejected(name: str) -> None:
    terminal, card = pair(name)
    command = CommandApdu(0x00, 0xB0, 0, 0, b"", 16)
    wrapped = terminal.wrap_command(command)
    assert card.unwrap_command(wrapped) == command
    terminal.unwrap_response(card.wrap_response(command, ResponseApdu(b"x" * 16)))
    with pytest.raises(SmError) as info:
        card.unwrap_command(wrapped)
    assert info.value.sw == SW.SM_DATA_OBJECTS_INCORRECT


@pytest.mark.parametrize("name", sorted(SUITES))
def test_reordered_commands_are_rejected(name: str) -> None:
    terminal, card = pair(name)
    first = terminal.wrap_command(CommandApdu(0x00, 0xD6, 0, 0, b"first"))
    second = terminal.wrap_command(CommandApdu(0x00, 0xD6, 0, 0, b"second"))
    with pytest.raises(SmError):
        card.unwrap_command(second)
    with pytest.raises(SmError):  # and the earlier one no longer helps: session over
        card.unwrap_command(first)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_replayed_or_reordered_responses_are_rejected(name: str) -> None:
    terminal, card = pair(name)
    command = CommandApdu(0x00, 0xB0, 0, 0, b"", 4)
    card.unwrap_command(terminal.wrap_command(command))
    old = card.wrap_response(command, ResponseApdu(b"old!"))
    terminal.unwrap_response(old)
    card.unwrap_command(terminal.wrap_command(command))
    card.wrap_response(command, ResponseApdu(b"new!"))
    with pytest.raises(SmError):
        terminal.unwrap_response(old)  # the previous answer replayed


@pytest.mark.parametrize(
    ("cla", "data", "sw"),
    [
        (0x00, "9701048E080000000000000000", SW.SM_DATA_OBJECTS_MISSING),  # CLA: no SM
        (0x0C, "", SW.SM_DATA_OBJECTS_MISSING),                 # SM CLA, no data objects
        (0x0C, "970104", SW.SM_DATA_OBJECTS_MISSING),           # no DO 8E
        (0x0C, "8E080000000000000000970104", SW.SM_DATA_OBJECTS_INCORRECT),  # 97 after 8E
        (0x0C, "8E050000000000", SW.SM_DATA_OBJECTS_INCORRECT),   # MAC of the wrong size
        (0x0C, "5301008E080000000000000000", SW.SM_DATA_OBJECTS_INCORRECT),  # unknown DO
        (0x0C, "9701049701048E080000000000000000", SW.SM_DATA_OBJECTS_INCORRECT),  # twice
        (0x0C, "8E0A0000", SW.SM_DATA_OBJECTS_INCORRECT),       # truncated DO
        (0x0C, "8E8108" + "00" * 8, SW.SM_DATA_OBJECTS_INCORRECT),  # non-minimal length
        (0x0C, "87090200000000000000008E080000000000000000",
         SW.SM_DATA_OBJECTS_INCORRECT),                         # bad padding indicator
        (0x0C, "9701048E080000000000000000", SW.SM_DATA_OBJECTS_INCORRECT),  # wrong MAC
    ],
)
def test_malformed_protected_commands(cla: int, data: str, sw: int) -> None:
    _, card = pair("3DES")
    command = CommandApdu(cla, 0xB0, 0, 0, bytes.fromhex(data), 256)
    with pytest.raises(SmError) as info:
        card.unwrap_command(command)
    assert info.value.sw == sw
    assert card.closed


def test_stateless_functions_check_the_mac_against_the_counter() -> None:
    suite = SUITES["AES-128"]
    ssc = bytes(15) + b"\x05"
    command = CommandApdu(0x00, 0x01, 0, 0, b"hello", 5)
    wrapped = wrap_command(suite, ssc, command)
    assert unwrap_command(suite, ssc, wrapped) == command
    with pytest.raises(SmError):
        unwrap_command(suite, bytes(15) + b"\x06", wrapped)


def test_sessions_validate_their_inputs_and_hide_keys() -> None:
    with pytest.raises(ValueError, match="8-byte SSC"):
        CardSession(SUITES["3DES"], bytes(16))
    with pytest.raises(ValueError, match="already announces"):
        TerminalSession(SUITES["3DES"], bytes(8)).wrap_command(CommandApdu(0x0C, 0xB0))
    with pytest.raises(ValueError, match="same AES key size"):
        AesSuite(bytes(16), bytes(32))
    for suite in SUITES.values():
        assert "00010203" not in repr(suite).replace(" ", "")
    assert "closed" not in repr(pair("3DES")[1])


def test_ssc_wraps_around_at_its_width() -> None:
    terminal, card = pair("3DES", b"\xff" * 8)
    command = CommandApdu(0x00, 0x01, 0, 0, b"x")
    assert card.unwrap_command(terminal.wrap_command(command)) == command
    assert card.ssc.value == bytes(8)


def test_a_card_sm_error_answer_ends_the_terminal_session() -> None:
    terminal, _ = pair("AES-128")
    terminal.wrap_command(CommandApdu(0x00, 0x01))
    with pytest.raises(SmError) as info:
        terminal.unwrap_response(ResponseApdu(b"", SW.SM_DATA_OBJECTS_INCORRECT))
    assert info.value.sw == SW.SM_DATA_OBJECTS_INCORRECT and terminal.closed
    terminal2, _ = pair("AES-128")
    terminal2.wrap_command(CommandApdu(0x00, 0x01))
    with pytest.raises(SmError) as info:
        terminal2.unwrap_response(ResponseApdu(b"", SW.NO_ERROR))  # plain answer in session
    assert info.value.sw == SW.SM_DATA_OBJECTS_MISSING


def test_unauthenticated_headers_are_refused_unless_asked_for() -> None:
    suite = SUITES["AES-128"]
    further = CommandApdu(0x41, 0xB0, 0, 0, b"", 4)  # further interindustry: b6 only
    terminal = TerminalSession(suite, bytes(16))
    with pytest.raises(ValueError, match="cannot authenticate"):
        terminal.wrap_command(further)
    assert terminal.ssc.value == bytes(16)  # refused before the counter moved
    # Opting in works both ways, and the class byte is then ISO's b6 = 1.
    t2 = TerminalSession(suite, bytes(16), require_header_auth=False)
    c2 = CardSession(suite, bytes(16), require_header_auth=False)
    wrapped = t2.wrap_command(further)
    assert wrapped.cla == 0x61
    assert c2.unwrap_command(wrapped) == further
    # A strict card answers 6882 to such a command.
    strict = CardSession(suite, bytes(16))
    with pytest.raises(SmError) as info:
        strict.unwrap_command(wrapped)
    assert info.value.sw == SW.SECURE_MESSAGING_NOT_SUPPORTED
    # b4b3 = 10 (first interindustry, header not authenticated) likewise.
    t3 = TerminalSession(suite, bytes(16), require_header_auth=False)
    plain = CommandApdu(0x00, 0x01, 0, 0, b"abc")
    w3 = t3.wrap_command(plain)
    with pytest.raises(SmError) as info:
        CardSession(suite, bytes(16)).unwrap_command(w3.replace(cla=0x08))
    assert info.value.sw == SW.SECURE_MESSAGING_NOT_SUPPORTED
