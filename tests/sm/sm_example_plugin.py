"""A small personality that proves the core/SM integration: a protected mini file system.

It behaves like the LDS1 application of an eMRTD reduced to what the ICAO
worked example exercises: GET CHALLENGE and EXTERNAL AUTHENTICATE in plain
(ISO/IEC 9798-2 style mutual authentication), then SELECT EF by file
identifier and READ BINARY, which are only served inside the secure session.
The personality code never sees a protected APDU: it installs the
:class:`~hcekit.sm.CardSession` on ``app.secure_channel`` and the core
unwraps and wraps for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from hcekit import SW, AppContext, Claim, CommandApdu, IsoError, ResponseApdu
from hcekit.sm import AuthProfile, CardAuthenticator, is_protected
from hcekit.sm.auth import INS_EXTERNAL_AUTHENTICATE, INS_GET_CHALLENGE

#: ICAO LDS1 eMRTD application identifier.
EMRTD_AID = bytes.fromhex("A0000002471001")
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
P1_SELECT_EF = 0x02
#: Proprietary echo, served with or without a session (benchmarks, tests).
INS_ECHO = 0x01
#: EF.COM contents as in ICAO 9303 Part 11 Appendix D.4 (LDS version 0107, DG1 + DG2).
EF_COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")
EF_COM_FID = 0x011E


def fixed_random(*chunks: bytes) -> Callable[[int], bytes]:
    """A random source that replays *chunks* in order (for published worked examples)."""
    queue: Iterator[bytes] = iter(chunks)

    def take(n: int) -> bytes:
        chunk = next(queue)
        assert len(chunk) == n, f"worked example supplies {len(chunk)} bytes, {n} requested"
        return chunk

    return take


class ProtectedFiles:
    """Plugin: files readable only over secure messaging after mutual authentication."""

    name = "smfiles"

    def __init__(self, profile: AuthProfile, k_enc: bytes, k_mac: bytes,
                 files: Mapping[int, bytes], *, aid: bytes = EMRTD_AID,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self.profile = profile
        self.files = dict(files)
        self.aid = aid
        self._keys = (k_enc, k_mac)
        self._random = random

    def hcekit_claims(self, plugin: object) -> list[Claim]:
        return [Claim.parse(self.aid.hex(), description="SM-protected files (test)")]

    def hcekit_select(self, app: AppContext, command: CommandApdu) -> None:
        app.session["auth"] = CardAuthenticator(self.profile, *self._keys, random=self._random)
        app.session["ef"] = None

    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        auth: CardAuthenticator = app.session["auth"]
        if command.ins == INS_ECHO and (app.secure_channel or not is_protected(command)):
            return command.data  # open to all: the baseline for tests and benchmarks
        if app.secure_channel is None:
            if command.ins == INS_GET_CHALLENGE:
                return auth.get_challenge(command)
            if command.ins == INS_EXTERNAL_AUTHENTICATE:
                app.mark_sensitive()
                token, session = auth.authenticate(command.data)
                app.secure_channel = session
                return token
            if is_protected(command):
                # A protected command with no session (never opened, or ended by an
                # SM error): ICAO answers as for missing access rights.
                raise IsoError(SW.SECURITY_STATUS_NOT_SATISFIED, "no secure session")
            raise IsoError(SW.SECURITY_STATUS_NOT_SATISFIED, "authenticate first")
        if command.ins == INS_SELECT and command.p1 == P1_SELECT_EF:
            if len(command.data) != 2:
                raise IsoError(SW.WRONG_LENGTH, "SELECT EF takes a 2-byte file identifier")
            fid = int.from_bytes(command.data, "big")
            if fid not in self.files:
                raise IsoError(SW.FILE_NOT_FOUND, f"no EF {fid:04X}")
            app.session["ef"] = fid
            return b""
        if command.ins == INS_READ_BINARY:
            fid = app.session["ef"]
            if fid is None:
                raise IsoError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "select an EF first")
            offset = (command.p1 << 8) | command.p2
            content = self.files[fid]
            if offset > len(content):
                raise IsoError(SW.INCORRECT_P1P2, "offset beyond the end of the file")
            return content[offset:offset + (command.le or 256)]
        raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {command.ins:02X}")
