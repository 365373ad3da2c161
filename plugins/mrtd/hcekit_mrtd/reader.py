"""Inspection-system side: BAC with the MRZ, then EF.COM and the data groups over SM.

:func:`read_document` is what a border-control reader does for a BAC-only
chip: SELECT the eMRTD application, GET CHALLENGE + EXTERNAL AUTHENTICATE
with keys from the MRZ it read optically, then SELECT EF / READ BINARY
through a :class:`~hcekit.sm.TerminalSession`, each file read header first,
then in chunks at increasing offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hcekit import SW, CommandApdu, ResponseApdu
from hcekit.apdu import EXTENDED_MAX_NE, INS_SELECT
from hcekit.sm import AuthenticationError, SmError, TerminalSession, mutual_authenticate
from hcekit.sm.bac import bac_terminal
from hcekit.sw import describe
from hcekit.terminal import ScriptContext, Terminal, TerminalError, TerminalScript
from hcekit.tlv import TlvError

from . import lds
from .mrz import SPECIMEN, MrzError, Td3Mrz, bac_information
from .protocol import EMRTD_AID, INS_READ_BINARY, P1_SELECT_EF, P2_NO_RESPONSE_DATA

__all__ = ["Document", "read_document", "read_file", "reader_script", "BacFailed"]

#: Bytes per READ BINARY: the protected answer (data + DO87/99/8E) stays within 256.
DEFAULT_CHUNK = 0xDF
HEADER_READ = 4


class BacFailed(TerminalError):
    """The chip refused BAC: the MRZ keys do not match this document."""


@dataclass
class Document:
    """What an inspection system read from the chip."""

    lds_version: str
    unicode_version: str
    data_groups: list[int]
    files: dict[int, bytes] = field(default_factory=dict, repr=False)
    mrz: Td3Mrz | None = None


def _ok(response_sw: int, what: str) -> None:
    if response_sw != SW.NO_ERROR:
        raise TerminalError(f"{what}: card answered {response_sw:04X} {describe(response_sw)}")


def read_file(session: TerminalSession, terminal: Terminal, fid: int, *,
              chunk: int = DEFAULT_CHUNK) -> bytes:
    """SELECT EF *fid* and READ BINARY it whole: the TLV header first, then the rest."""
    select = session.transmit(terminal, CommandApdu(0x00, INS_SELECT, P1_SELECT_EF,
                                                    P2_NO_RESPONSE_DATA, fid.to_bytes(2, "big")))
    _ok(select.sw, f"SELECT EF {fid:04X}")
    head = session.transmit(terminal, CommandApdu(0x00, INS_READ_BINARY, 0, 0, b"", HEADER_READ))
    _ok(head.sw, f"READ BINARY {fid:04X} header")
    try:
        total = lds.object_length(head.data)
    except TlvError as exc:
        raise TerminalError(f"EF {fid:04X} does not start with a TLV header: {exc}") from None
    data = bytearray(head.data[:total])
    while len(data) < total:
        offset = len(data)
        part = session.transmit(terminal, CommandApdu(0x00, INS_READ_BINARY, offset >> 8,
                                                      offset & 0xFF, b"",
                                                      min(chunk, total - offset)))
        _ok(part.sw, f"READ BINARY {fid:04X} at {offset}")
        if not part.data:
            raise TerminalError(f"EF {fid:04X}: no data at offset {offset} of {total}")
        data += part.data
    return bytes(data)


def read_document(terminal: Terminal, mrz_information: str, *, groups: tuple[int, ...] = (1,),
                  chunk: int = DEFAULT_CHUNK) -> Document:
    """BAC with *mrz_information*, then EF.COM and the data groups in *groups* it lists.

    Raises :class:`BacFailed` when the chip refuses the keys, and
    :class:`~hcekit.terminal.TerminalError` / :class:`~hcekit.sm.SmError`
    when it misbehaves afterwards.
    """
    selected = terminal.transmit(CommandApdu(0x00, INS_SELECT, 0x04, P2_NO_RESPONSE_DATA,
                                             EMRTD_AID))
    _ok(selected.sw, "SELECT eMRTD application")
    try:
        session = mutual_authenticate(terminal, bac_terminal(mrz_information))
    except AuthenticationError as exc:
        raise BacFailed(f"Basic Access Control failed ({exc}); check the document number, "
                        "date of birth and date of expiry") from None
    com = read_file(session, terminal, lds.EF_COM.fid, chunk=chunk)
    try:
        lds_version, unicode_version, present = lds.parse_ef_com(com)
    except TlvError as exc:
        raise TerminalError(f"EF.COM is malformed: {exc}") from None
    document = Document(lds_version, unicode_version, present, {lds.EF_COM.fid: com})
    for n in groups:
        if n in present:
            document.files[0x0100 + n] = read_file(session, terminal, 0x0100 + n, chunk=chunk)
    dg1 = document.files.get(lds.EF_DG1.fid)
    if dg1 is not None:
        try:
            document.mrz = Td3Mrz.parse(lds.dg1_mrz_text(dg1))
        except (TlvError, MrzError) as exc:
            raise TerminalError(f"DG1 does not hold a valid TD3 MRZ: {exc}") from None
    return document


def _mrz_from_options(ctx: ScriptContext) -> str:
    text = ctx.text("mrz")
    if text is not None:
        return bac_information(text)
    number = ctx.text("doc")
    dob = ctx.text("dob")
    expiry = ctx.text("expiry")
    if number is None and dob is None and expiry is None:
        return SPECIMEN.bac_information
    if number is None or dob is None or expiry is None:
        raise MrzError("give all three of doc=, dob= and expiry= (or mrz=)")
    return Td3Mrz.create(document_number=number, issuing_state="UTO", surname="X",
                         given_names="", nationality="UTO", date_of_birth=dob, sex="<",
                         date_of_expiry=expiry).bac_information


def _run(ctx: ScriptContext) -> int:
    try:
        info = _mrz_from_options(ctx)
    except MrzError as exc:
        ctx.echo(f"Bad MRZ: {exc}")
        return 2
    ctx.echo(f"BAC with the MRZ keys of document {info[:9].rstrip('<')}")
    try:
        document = read_document(ctx.terminal, info, groups=(1, 2))
    except BacFailed as exc:
        ctx.echo(f"Access denied: {exc}")
        return 1
    except (TerminalError, SmError) as exc:
        ctx.echo(f"Reading the chip failed: {exc}")
        return 1
    ctx.echo(f"EF.COM: LDS {document.lds_version}, Unicode {document.unicode_version}, "
             f"data groups {', '.join(f'DG{n}' for n in document.data_groups)}")
    if document.mrz is None:
        ctx.echo("DG1 not present")
        return 1
    for line in document.mrz.lines:
        ctx.echo(f"  {line}")
    for label, value in document.mrz.describe():
        ctx.echo(f"{label + ':':<17}{value}")
    dg2 = document.files.get(lds.EF_DG2.fid)
    if dg2 is not None:
        note = " (TEST placeholder, no image)" if lds.DG2_PLACEHOLDER_LABEL in dg2 else ""
        ctx.echo(f"DG2: {len(dg2)} bytes{note}")
    if document.mrz == SPECIMEN:
        ctx.echo("This is ICAO's TEST specimen document, not a real passport.")
    return 0


reader_script = TerminalScript(
    name="mrtd-read",
    description="Read an eMRTD (passport) chip: BAC with the MRZ, then EF.COM, DG1, DG2 over "
                "secure messaging",
    run=_run,
    demo=True,
    options={"mrz": "MRZ: 24-char MRZ information, TD3 line 2, or both lines (default: the "
                    "TEST specimen)",
             "doc": "document number (with dob= and expiry=)",
             "dob": "date of birth YYMMDD",
             "expiry": "date of expiry YYMMDD"},
)


def conformance_read(terminal: Terminal, le: int | None, extended: bool) -> ResponseApdu:
    """For hcekit's conformance kit: READ BINARY of EF.DG2 under BAC with a chosen inner Le.

    The inner Le travels in DO 97; the outer APDU is extended so the protected
    answer never chains. Returns the plain (unwrapped) answer.
    """
    terminal.transmit(CommandApdu(0x00, INS_SELECT, 0x04, P2_NO_RESPONSE_DATA, EMRTD_AID)).check()
    session = mutual_authenticate(terminal, bac_terminal(SPECIMEN.bac_information))
    select = session.transmit(terminal, CommandApdu(0x00, INS_SELECT, P1_SELECT_EF,
                                                    P2_NO_RESPONSE_DATA,
                                                    lds.EF_DG2.fid.to_bytes(2, "big")))
    _ok(select.sw, "SELECT EF.DG2")
    wrapped = session.wrap_command(CommandApdu(0x00, INS_READ_BINARY, 0, 0, b"", le, extended))
    outer = CommandApdu(wrapped.cla, wrapped.ins, wrapped.p1, wrapped.p2, wrapped.data,
                        EXTENDED_MAX_NE, True)
    return session.unwrap_response(terminal.transmit(outer))
