"""NFC Forum Type 4 Tag (T4T 2.0): the NDEF application, CC file and NDEF file.

A reader selects the NDEF Tag Application (``D2760000850101``), selects the
Capability Container (file ``E103``) and reads it, selects the NDEF file the
CC names (``E104``), reads its 2-byte NLEN and then the message in chunks of
at most MLe bytes. A writable tag accepts UPDATE BINARY; the NDEF file is kept
in the plugin store and every update is atomic.

Options (``--option ndef.KEY=VALUE``, declared in ``hcekit_addoption``):
``url``, ``text`` (adds a Text record), ``lang``, ``writable``, ``max_size``
(NDEF file size).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hcekit import (
    SW,
    AppContext,
    Claim,
    CommandApdu,
    IsoError,
    PluginContext,
    ResponseApdu,
    hookimpl,
)
from hcekit.apdu import INS_SELECT
from hcekit.ndef import NdefRecord, encode_message, text_record, uri_record
from hcekit.options import OptionGroup
from hcekit.read_binary import read_binary

if TYPE_CHECKING:
    from hcekit.terminal import TerminalScript

from .protocol import (
    ACCESS_DENIED,
    ACCESS_GRANTED,
    CC_FILE_ID,
    INS_READ_BINARY,
    INS_UPDATE_BINARY,
    MAPPING_VERSION_2_0,
    MAX_OFFSET,
    MLC,
    MLE,
    NDEF_APP_AID,
    NDEF_FILE_ID,
    NLEN_SIZE,
    P1_SELECT_BY_FILE_ID,
    TAG_NDEF_FILE_CONTROL,
)

__all__ = ["NdefPlugin", "build_cc"]

DEFAULT_URL = "https://hcekit.invalid/demo"
DEFAULT_MAX_SIZE = 2048
STORE_KEY = "ndef_file"


def build_cc(max_size: int, writable: bool) -> bytes:
    """The 15-byte capability container of a T4T 2.0 tag."""
    control = bytes((TAG_NDEF_FILE_CONTROL, 6)) + NDEF_FILE_ID.to_bytes(2, "big") + \
        max_size.to_bytes(2, "big") + bytes((ACCESS_GRANTED, ACCESS_GRANTED if writable else ACCESS_DENIED))
    body = bytes((MAPPING_VERSION_2_0,)) + MLE.to_bytes(2, "big") + MLC.to_bytes(2, "big") + control
    return (len(body) + 2).to_bytes(2, "big") + body


class NdefPlugin:
    """The Type 4 Tag personality (entry point ``ndef``)."""

    name = "ndef"
    #: For hcekit's conformance kit: the Ne check reads the CC and the NDEF file (2048 bytes).
    conformance = {"reads": [
        {"aid": NDEF_APP_AID.hex(), "before": ["00A4000C02E103"], "read": "00B00000"},
        {"aid": NDEF_APP_AID.hex(), "before": ["00A4000C02E104"], "read": "00B00000"},
    ]}

    def __init__(self) -> None:
        self.writable = False
        self.max_size = DEFAULT_MAX_SIZE
        self.cc = b""
        self._readonly_file = b""

    # -- lifecycle ------------------------------------------------------------------

    @hookimpl
    def hcekit_addoption(self, options: OptionGroup) -> None:
        options.add("url", default=DEFAULT_URL, help="the URI record every phone opens")
        options.add("text", help="also add a Text record with this text")
        options.add("lang", default="en", help="language code of the Text record")
        options.add("writable", type=bool, default=False,
                    help="accept UPDATE BINARY (the message is then kept in the store)")
        options.add("max_size", type=int, default=DEFAULT_MAX_SIZE,
                    help=f"NDEF file size in bytes ({NLEN_SIZE + 1}..{MAX_OFFSET})")

    @hookimpl
    def hcekit_startup(self, plugin: PluginContext) -> None:
        opts = plugin.options
        self.writable = opts["writable"]
        self.max_size = opts["max_size"]
        if not NLEN_SIZE + 1 <= self.max_size <= MAX_OFFSET:
            raise ValueError(f"ndef.max_size must be {NLEN_SIZE + 1}..{MAX_OFFSET}, "
                             f"got {self.max_size}")
        records: list[NdefRecord] = [uri_record(opts["url"])]
        if opts.get("text"):
            records.append(text_record(opts["text"], opts["lang"]))
        message = encode_message(records)
        if NLEN_SIZE + len(message) > self.max_size:
            raise ValueError(f"the NDEF message ({len(message)} bytes) exceeds ndef.max_size")
        initial = len(message).to_bytes(2, "big") + message
        self.cc = build_cc(self.max_size, self.writable)
        if self.writable:
            if plugin.store.get(STORE_KEY) is None:
                plugin.store.set(STORE_KEY, initial)
        else:
            self._readonly_file = initial

    @hookimpl
    def hcekit_claims(self, plugin: PluginContext) -> list[Claim]:
        return [Claim(NDEF_APP_AID, description="NFC Forum Type 4 Tag (NDEF)")]

    @hookimpl
    def hcekit_select(self, app: AppContext, command: CommandApdu) -> None:
        app.session["file"] = None
        return None

    @hookimpl
    def hcekit_process(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu | None:
        if command.cla != 0x00:
            raise IsoError(SW.CLA_NOT_SUPPORTED, f"CLA {command.cla:02X}: the tag speaks CLA 00")
        if command.ins == INS_SELECT:
            self._select_file(app, command)
            return None
        if command.ins == INS_READ_BINARY:
            return self._read(app, command)
        if command.ins == INS_UPDATE_BINARY:
            self._update(app, command)
            return None
        raise IsoError(SW.INS_NOT_SUPPORTED, f"INS {command.ins:02X} is not a Type 4 Tag command")

    @hookimpl
    def hcekit_terminal_scripts(self) -> list[TerminalScript]:
        from .reader import reader_script

        return [reader_script]

    # -- commands -----------------------------------------------------------------------

    def _select_file(self, app: AppContext, command: CommandApdu) -> None:
        if command.p1 != P1_SELECT_BY_FILE_ID or command.p2 not in (0x00, 0x0C):
            raise IsoError(SW.INCORRECT_P1P2, "select a file by identifier: P1=00, P2=0C")
        if len(command.data) != 2:
            raise IsoError(SW.WRONG_LENGTH, "a file identifier is 2 bytes")
        fid = int.from_bytes(command.data, "big")
        if fid not in (CC_FILE_ID, NDEF_FILE_ID):
            raise IsoError(SW.FILE_NOT_FOUND, f"no file {fid:04X}")
        app.session["file"] = fid

    def _file(self, app: AppContext, fid: int) -> bytes:
        if fid == CC_FILE_ID:
            return self.cc
        if self.writable:
            return app.store.get(STORE_KEY) or b"\x00\x00"
        return self._readonly_file

    def _offset(self, app: AppContext, command: CommandApdu) -> tuple[int, int]:
        fid = app.session.get("file")
        if fid is None:
            raise IsoError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "select the CC or NDEF file first")
        offset = (command.p1 << 8) | command.p2
        if offset > MAX_OFFSET:
            raise IsoError(SW.INCORRECT_P1P2, "offset b16 must be 0 (short EF identifiers are not used)")
        return fid, offset

    def _read(self, app: AppContext, command: CommandApdu) -> bytes | ResponseApdu:
        fid, offset = self._offset(app, command)
        content = self._file(app, fid)
        # The NDEF file has max_size bytes; what was never written reads as zeros.
        size = len(content) if fid == CC_FILE_ID else self.max_size
        return read_binary(content, offset, command, size)  # ISO 7816-4 Ne rules

    def _update(self, app: AppContext, command: CommandApdu) -> None:
        fid, offset = self._offset(app, command)
        if fid == CC_FILE_ID or not self.writable:
            raise IsoError(SW.SECURITY_STATUS_NOT_SATISFIED, "the file is read-only")
        if not command.data:
            raise IsoError(SW.WRONG_LENGTH, "UPDATE BINARY needs data")
        if offset + len(command.data) > self.max_size:
            raise IsoError(SW.NOT_ENOUGH_MEMORY,
                           f"write of {len(command.data)} bytes at {offset} exceeds {self.max_size}")
        with app.store.transaction():
            current = bytearray(self._file(app, fid))
            end = offset + len(command.data)
            if len(current) < end:
                current.extend(b"\x00" * (end - len(current)))
            current[offset:end] = command.data
            app.store.set(STORE_KEY, bytes(current))
