"""The secure channel seam of the card core, driven end to end.

A personality (the eMRTD plugin, via the test fixture in
``sm_example_plugin``) opts into secure messaging by setting
``app.secure_channel``; from then on the core unwraps and wraps and the
personality sees plain APDUs. Driven through Card + LoopbackHost + Terminal,
with the terminal side wrapping and unwrapping through TerminalSession.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from hcekit import SW, Card, CommandApdu
from hcekit.hosts import LoopbackHost
from hcekit.sm import (
    AES128_PROFILE,
    TDES_PROFILE,
    AuthProfile,
    SmError,
    TerminalAuthenticator,
    TerminalSession,
    mutual_authenticate,
)
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.trace import TraceRecord, format_record

from .sm_example_plugin import EMRTD_AID, ProtectedFiles

BIG_FID = 0x0101
BIG_FILE = bytes(range(256)) * 3  # 768 bytes: several reads, chained responses
KEYS = (os.urandom(16), os.urandom(16))


class Recorder:
    """Observer plugin: keeps every trace record."""

    name = "recorder"

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def hcekit_trace(self, record: TraceRecord) -> None:
        self.records.append(record)


class Rig:
    def __init__(self, profile: AuthProfile) -> None:
        self.recorder = Recorder()
        self.plugin = ProtectedFiles(profile, *KEYS, {BIG_FID: BIG_FILE, 0x011E: b"\x60\x00"})
        self.card = Card([self.plugin, self.recorder])
        self.wire: list[tuple[bytes, bytes]] = []
        self.terminal = Terminal(LoopbackTransport(LoopbackHost(self.card)),
                                 on_exchange=lambda c, r: self.wire.append((c, r)))
        self.profile = profile

    def open(self) -> TerminalSession:
        assert self.terminal.select(EMRTD_AID).ok
        return mutual_authenticate(self.terminal, TerminalAuthenticator(self.profile, *KEYS))


@pytest.fixture(params=[TDES_PROFILE, AES128_PROFILE], ids=lambda p: p.name)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    r = Rig(request.param)
    with r.terminal.tap():
        yield r


def read_file(session: TerminalSession, terminal: Terminal, fid: int, size: int,
              chunk: int) -> bytes:
    assert session.transmit(terminal, CommandApdu(0x00, 0xA4, 0x02, 0x0C,
                                                  fid.to_bytes(2, "big"))).ok
    out = b""
    while len(out) < size:
        offset = len(out)
        r = session.transmit(terminal, CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF,
                                                   b"", min(chunk, size - offset)))
        assert r.ok
        out += r.data
    return out


def test_personality_sees_plain_apdus_both_suites(rig: Rig) -> None:
    session = rig.open()
    # 250-byte chunks: the protected answer exceeds 256 bytes, so the core chains
    # it with 61xx and the terminal collects it with GET RESPONSE.
    assert read_file(session, rig.terminal, BIG_FID, len(BIG_FILE), 250) == BIG_FILE
    assert any(r[-2] == 0x61 for _, r in rig.wire)
    # A 300-byte command: the protected form needs an extended-length APDU.
    echo = session.transmit(rig.terminal, CommandApdu(0x00, 0x01, 0, 0, bytes(300), 300))
    assert echo.ok and echo.data == bytes(300)
    assert rig.wire[-1][0][4] == 0  # extended Lc on the wire
    # Errors travel protected too: the plain status comes back from DO 99.
    missing = session.transmit(rig.terminal, CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x7f\x7f"))
    assert missing.sw == SW.FILE_NOT_FOUND
    # Nothing plain on the wire after authentication: every command is SM-classed.
    protected = [c for c, _ in rig.wire[3:] if c[1] != 0xC0]
    assert protected and all(c[0] & 0x0C == 0x0C for c in protected)


def _last_protected(rig: Rig) -> bytes:
    return next(c for c, _ in reversed(rig.wire) if c[0] == 0x0C)


def test_replayed_apdu_is_rejected_and_the_session_dropped(rig: Rig) -> None:
    session = rig.open()
    assert session.transmit(rig.terminal, "00A4020C020101").ok
    replay = _last_protected(rig)
    answer = rig.terminal.transmit(replay)
    assert answer.sw == SW.SM_DATA_OBJECTS_INCORRECT and not answer.data
    # The core dropped app.secure_channel: even a correctly protected command is
    # now refused by the personality, in plain, and the terminal session ends.
    with pytest.raises(SmError) as info:
        session.transmit(rig.terminal, "00B0000004")
    assert info.value.sw == SW.SM_DATA_OBJECTS_MISSING
    assert rig.wire[-1][1] == SW.SECURITY_STATUS_NOT_SATISFIED.to_bytes(2, "big")
    assert session.closed


def test_reordered_apdus_are_rejected(rig: Rig) -> None:
    session = rig.open()
    first = session.wrap_command(CommandApdu.from_hex("00A4020C020101"))
    second = session.wrap_command(CommandApdu.from_hex("00B0000004"))
    assert rig.terminal.transmit(second).sw == SW.SM_DATA_OBJECTS_INCORRECT
    assert rig.terminal.transmit(first).sw == SW.SECURITY_STATUS_NOT_SATISFIED


@pytest.mark.parametrize("where", ["header", "cryptogram", "mac"])
def test_tampered_apdu_is_rejected(rig: Rig, where: str) -> None:
    session = rig.open()
    wire = bytearray(session.wrap_command(CommandApdu(0x00, 0x01, 0, 0, b"payload", 7))
                     .to_bytes())
    index = {"header": 2, "cryptogram": 8, "mac": len(wire) - 3}[where]
    wire[index] ^= 0x01
    assert rig.terminal.transmit(bytes(wire)).sw == SW.SM_DATA_OBJECTS_INCORRECT


def test_sm_exchanges_are_marked_sensitive_and_redacted(rig: Rig) -> None:
    session = rig.open()
    secret = b"do not log me"
    assert session.transmit(rig.terminal, CommandApdu(0x00, 0x01, 0, 0, secret, 13)).ok
    records = rig.recorder.records
    auth = [r for r in records if r.command[1] == 0x82]
    assert auth and all(r.sensitive for r in auth)
    sm = [r for r in records if r.command[0] == 0x0C]
    assert sm and all(r.sensitive for r in sm)
    for r in auth + sm:
        text = format_record(r)
        assert "redacted" in text and r.command[5:].hex(" ").upper() not in text
    # GET CHALLENGE carries no secret and stays visible.
    challenge = [r for r in records if r.command[1] == 0x84]
    assert challenge and not challenge[0].sensitive


def test_reselecting_the_application_ends_the_session(rig: Rig) -> None:
    session = rig.open()
    assert session.transmit(rig.terminal, "00A4020C02011E").ok
    assert rig.terminal.select(EMRTD_AID).ok
    with pytest.raises(SmError):
        session.transmit(rig.terminal, "00B0000002")
    # A fresh authentication opens a fresh session.
    again = mutual_authenticate(rig.terminal, TerminalAuthenticator(rig.profile, *KEYS))
    assert again.transmit(rig.terminal, "00A4020C02011E").ok
    assert again.transmit(rig.terminal, "00B0000002").data == b"\x60\x00"


def test_authentication_replay_is_refused(rig: Rig) -> None:
    assert rig.terminal.select(EMRTD_AID).ok
    mutual_authenticate(rig.terminal, TerminalAuthenticator(rig.profile, *KEYS))
    external = next(c for c, _ in rig.wire if c[1] == 0x82)
    assert rig.terminal.select(EMRTD_AID).ok
    # Without a fresh challenge, and against a new challenge, the old token fails.
    assert rig.terminal.transmit(external).sw == SW.CONDITIONS_OF_USE_NOT_SATISFIED
    rig.terminal.transmit(CommandApdu(0x00, 0x84, 0, 0, b"", rig.profile.nonce_length))
    assert rig.terminal.transmit(external).sw == SW.VERIFICATION_FAILED


def test_no_key_or_plaintext_reaches_the_logs(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    session = rig.open()
    secret = b"PIN=1234;balance=99"
    assert session.transmit(rig.terminal, CommandApdu(0x00, 0x01, 0, 0, secret, 19)).data \
        == secret
    wire = bytearray(session.wrap_command(CommandApdu(0x00, 0x01, 0, 0, secret, 19))
                     .to_bytes())
    wire[-4] ^= 0x80  # break the MAC: the core logs the SM error and drops the session
    assert rig.terminal.transmit(bytes(wire)).sw == SW.SM_DATA_OBJECTS_INCORRECT
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "secure messaging error 6988" in text  # the failure is logged ...
    for needle in (secret.hex(), secret.hex().upper(), secret.decode(), KEYS[0].hex(),
                   KEYS[1].hex(), KEYS[0].hex().upper(), KEYS[1].hex().upper()):
        assert needle not in text  # ... without secrets
    assert "hidden" in repr(session.suite) and KEYS[0].hex() not in repr(session.suite)


def test_the_key_reference_picks_the_card_side_keys_for_one_attempt() -> None:
    """mutual_authenticate(key_ref=…) puts the reference in P2; authenticate(keys=…) uses the
    pair it names, and only for that attempt (docs/secure-messaging.md runs the whole card)."""
    from hcekit.sm import CardAuthenticator

    other = (os.urandom(16), os.urandom(16))
    card_side = CardAuthenticator(AES128_PROFILE, *KEYS)
    sent: list[CommandApdu] = []

    class Wire:
        @contextlib.contextmanager
        def sensitive(self) -> Iterator[None]:  # Terminal's redaction mark: nothing to print
            yield

        def transmit(self, command: CommandApdu) -> object:
            from hcekit import ResponseApdu

            sent.append(command)
            if command.ins == 0x84:
                return ResponseApdu(card_side.get_challenge(command), SW.NO_ERROR)
            keys = other if command.p2 == 0x82 else None
            token, _ = card_side.authenticate(command.data, keys=keys)
            return ResponseApdu(token, SW.NO_ERROR)

    session = mutual_authenticate(Wire(), TerminalAuthenticator(AES128_PROFILE, *other),  # type: ignore[arg-type]
                                  key_ref=0x82)
    assert isinstance(session, TerminalSession) and sent[1].p2 == 0x82
    challenge = card_side.get_challenge()
    with pytest.raises(Exception, match="terminal MAC does not verify"):  # back to KEYS
        card_side.authenticate(TerminalAuthenticator(AES128_PROFILE, *other).respond(challenge))
    with pytest.raises(ValueError, match="key_ref is P2"):
        mutual_authenticate(Wire(), TerminalAuthenticator(AES128_PROFILE, *KEYS),  # type: ignore[arg-type]
                            key_ref=0x100)
