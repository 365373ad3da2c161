"""Reader side: read an NDEF message from a Type 4 Tag, as a phone does."""

from __future__ import annotations

from hcekit import SW, CommandApdu
from hcekit.ndef import NdefError, decode_message, describe_record
from hcekit.terminal import ScriptContext, Terminal, TerminalError, TerminalScript

from .protocol import CC_FILE_ID, NDEF_APP_AID, NLEN_SIZE, TAG_NDEF_FILE_CONTROL

__all__ = ["read_ndef", "reader_script"]


def _select_file(term: Terminal, fid: int) -> None:
    term.expect_ok(CommandApdu(0x00, 0xA4, 0x00, 0x0C, fid.to_bytes(2, "big")), f"SELECT {fid:04X}")


def _read(term: Terminal, offset: int, length: int) -> bytes:
    response = term.transmit(CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, b"", length))
    if response.sw not in (SW.NO_ERROR, SW.END_OF_FILE_REACHED):
        raise TerminalError(f"READ BINARY at {offset}: {response.sw:04X}")
    return response.data


def read_ndef(term: Terminal) -> bytes:
    """SELECT app → CC → NDEF file → NLEN → chunked READ BINARY; return the message bytes."""
    term.expect_ok(CommandApdu(0x00, 0xA4, 0x04, 0x00, NDEF_APP_AID, 256), "SELECT NDEF application")
    _select_file(term, CC_FILE_ID)
    cc = _read(term, 0, 15)
    if len(cc) < 15 or cc[7] != TAG_NDEF_FILE_CONTROL:
        raise TerminalError(f"capability container malformed: {cc.hex()}")
    mle = int.from_bytes(cc[3:5], "big")
    ndef_fid = int.from_bytes(cc[9:11], "big")
    _select_file(term, ndef_fid)
    nlen = int.from_bytes(_read(term, 0, NLEN_SIZE), "big")
    message = bytearray()
    while len(message) < nlen:
        chunk = _read(term, NLEN_SIZE + len(message), min(mle, nlen - len(message)))
        if not chunk:
            raise TerminalError("tag returned no data before the announced length")
        message += chunk
    return bytes(message)


def _run(ctx: ScriptContext) -> int:
    message = read_ndef(ctx.terminal)
    if not message:
        ctx.echo("The NDEF file is empty (NLEN 0): the tag holds no message.")
        return 0
    try:
        records = decode_message(message)
    except NdefError as exc:
        raise TerminalError(f"the tag's NDEF message is malformed: {exc}") from None
    ctx.echo(f"NDEF message, {len(message)} bytes:")
    for record in records:
        ctx.echo(f"  {describe_record(record)}")
    return 0


reader_script = TerminalScript(
    name="ndef-read",
    description="Read the NDEF message of a Type 4 Tag as a phone does (CC, NLEN, chunks)",
    run=_run,
    demo=True,
    options={},
)
