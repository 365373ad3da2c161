"""The eMRTD application: BAC in plain, then the LDS files over the core's secure channel.

Before BAC the chip answers only GET CHALLENGE and EXTERNAL AUTHENTICATE
(ICAO Doc 9303 Part 11 §4.3 and §9.8); everything else is 6982. A
successful EXTERNAL AUTHENTICATE installs a :class:`~hcekit.sm.CardSession`
on ``app.secure_channel``. From then on the core unwraps every command before
``hcekit_process`` and wraps every answer after it, so the file code below
only ever sees plain SELECT FILE and READ BINARY. An SM error makes the core
drop the session; the next command, protected or not, finds no session and
gets 6982 until the reader re-selects the application and runs BAC again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from hcekit import (
    SW,
    AppContext,
    Category,
    Claim,
    CommandApdu,
    IsoError,
    PluginContext,
    ResponseApdu,
    hookimpl,
)
from hcekit.apdu import INS_EXTERNAL_AUTHENTICATE, INS_GET_CHALLENGE, INS_SELECT
from hcekit.options import OptionGroup
from hcekit.read_binary import read_binary

from .lds import ElementaryFile
from .personalization import Personalization, add_options
from .protocol import (
    EMRTD_AID,
    INS_READ_BINARY,
    P1_SELECT_EF,
    P1_SELECT_MF_DF_EF,
    P1_SFI,
    P2_NO_RESPONSE_DATA,
    SFI_MASK,
)

if TYPE_CHECKING:
    from hcekit.sm import CardAuthenticator
    from hcekit.terminal import TerminalScript

__all__ = ["MrtdPlugin"]


Random = Callable[[int], bytes]


class MrtdPlugin:
    """ICAO eMRTD TEST chip with Basic Access Control (entry point ``mrtd``).

    *personalization* fixes the document (default: from the ``mrtd.*``
    options at startup, else ICAO's specimen); *random* feeds RND.ICC and
    K.ICC (tests pass a fixed source to replay published worked examples).
    """

    name = "mrtd"

    @property
    def conformance(self) -> dict[str, object]:
        """For hcekit's conformance kit: the Ne check reads EF.DG2 (640 bytes) under BAC."""
        from hcekit.conformance.checks import ReadProbe

        from .reader import conformance_read

        return {"reads": [ReadProbe("READ BINARY EF.DG2 under BAC", conformance_read,
                                    read_binary=True)]}

    def __init__(self, personalization: Personalization | None = None, *,
                 random: Random = os.urandom) -> None:
        self.personalization = personalization
        self._random = random
        self.files: dict[int, ElementaryFile] = {}
        self._by_sfi: dict[int, int] = {}
        if personalization is not None:
            self._load(personalization)

    def _load(self, personalization: Personalization) -> None:
        self.personalization = personalization
        self.files = dict(personalization.files)
        self._by_sfi = {f.sfi: f.fid for f in self.files.values()}

    def authenticator(self) -> CardAuthenticator:
        """The chip's side of BAC for this document (fresh per selection)."""
        from hcekit.sm.bac import bac_card  # the 3DES recipe: at the first SELECT, not at start

        assert self.personalization is not None, "hcekit_startup has not run"
        return bac_card(self.personalization.mrz.bac_information, random=self._random)

    # -- lifecycle ------------------------------------------------------------------------

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        add_options(options)

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        if self.personalization is None:
            self._load(Personalization.from_options(plugin.options))
        assert self.personalization is not None
        if self.personalization.is_specimen:
            plugin.log.info("serving ICAO's TEST specimen passport (document %s)",
                            self.personalization.mrz.document_number)

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(EMRTD_AID, Category.OTHER,
                      description="ICAO eMRTD LDS1, TEST document, Basic Access Control")]

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> None:
        app.session["bac"] = self.authenticator()
        app.session["ef"] = None

    @hookimpl
    def hcekit_terminal_scripts(self) -> list[TerminalScript]:
        from .reader import reader_script

        return [reader_script]

    # -- commands ----------------------------------------------------------------------------

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
        if command.cla & 0x80:
            raise IsoError(SW.CLA_NOT_SUPPORTED, f"CLA {command.cla:02X}: the eMRTD speaks "
                                                 "the interindustry class")
        ins = command.ins
        if ins not in (INS_SELECT, INS_READ_BINARY, INS_GET_CHALLENGE, INS_EXTERNAL_AUTHENTICATE):
            raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {ins:02X} is not an eMRTD (BAC) command")
        if app.secure_channel is None:
            return self._before_bac(app, command)
        if ins in (INS_GET_CHALLENGE, INS_EXTERNAL_AUTHENTICATE):
            raise IsoError(SW.CONDITIONS_OF_USE_NOT_SATISFIED,
                           "BAC already done; select the application again to restart it")
        if ins == INS_SELECT:
            self._select_ef(app, command)
            return None
        return self._read_binary(app, command)

    def _before_bac(self, app: AppContext, command: CommandApdu) -> bytes:
        from hcekit.sm import is_protected

        if is_protected(command):
            # Never opened, or ended by an SM error: ICAO answers as for missing rights.
            raise IsoError(SW.SECURITY_STATUS_NOT_SATISFIED, "no secure messaging session")
        auth: CardAuthenticator = app.session["bac"]
        if command.ins == INS_GET_CHALLENGE:
            return auth.get_challenge(command)
        if command.ins == INS_EXTERNAL_AUTHENTICATE:
            app.mark_sensitive()
            token, session = auth.authenticate(command.data)  # 6300 on a wrong MRZ
            app.secure_channel = session
            return token
        raise IsoError(SW.SECURITY_STATUS_NOT_SATISFIED, "the LDS is readable only after BAC")

    def _select_ef(self, app: AppContext, command: CommandApdu) -> None:
        if command.p1 not in (P1_SELECT_MF_DF_EF, P1_SELECT_EF) \
                or command.p2 != P2_NO_RESPONSE_DATA:
            raise IsoError(SW.INCORRECT_P1P2, "select an EF by identifier: P1=02, P2=0C")
        if len(command.data) != 2:
            raise IsoError(SW.WRONG_LENGTH, "a file identifier is 2 bytes")
        fid = int.from_bytes(command.data, "big")
        if fid not in self.files:
            raise IsoError(SW.FILE_NOT_FOUND, f"no EF {fid:04X}")
        app.session["ef"] = fid

    def _read_binary(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        if command.p1 & P1_SFI:
            if command.p1 & ~(P1_SFI | SFI_MASK):
                raise IsoError(SW.INCORRECT_P1P2, "P1 with b8 set: b7-b6 must be 0")
            fid = self._by_sfi.get(command.p1 & SFI_MASK)
            if fid is None:
                raise IsoError(SW.FILE_NOT_FOUND, f"no EF with SFI {command.p1 & SFI_MASK:02X}")
            app.session["ef"] = fid
            offset = command.p2
        else:
            fid = app.session["ef"]
            if fid is None:
                raise IsoError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "select an EF first")
            offset = (command.p1 << 8) | command.p2
        return read_binary(self.files[fid].content, offset, command)  # ISO 7816-4 Ne rules
