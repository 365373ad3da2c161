"""The Type 4 Tag read as a phone reads it, decoded by the independent ndeflib."""

from __future__ import annotations

from pathlib import Path

import ndef
import pytest
from hcekit import SW, CommandApdu
from hcekit.store import SqliteStore
from hcekit.testing import LoopbackRig, loopback_rig
from hcekit_ndef import NdefPlugin, read_ndef
from hcekit_ndef.protocol import CC_FILE_ID, NDEF_FILE_ID


def rig(**options: str) -> LoopbackRig:
    return loopback_rig([NdefPlugin()], options={"ndef": options})


def test_default_url_decodes_with_ndeflib() -> None:
    r = rig()
    with r.terminal.tap():
        message = read_ndef(r.terminal)
    (record,) = list(ndef.message_decoder(message))
    assert isinstance(record, ndef.UriRecord)
    assert record.iri == "https://hcekit.invalid/demo"


def test_url_and_text_records() -> None:
    long_text = "Grüße aus hcekit " * 20  # > MLe: several READ BINARY chunks
    r = rig(url="http://www.example.org/x", text=long_text, lang="de")
    reads: list[bytes] = []
    r.terminal.on_exchange = lambda c, _: reads.append(c) if c[1] == 0xB0 else None
    with r.terminal.tap():
        message = read_ndef(r.terminal)
    uri, text = list(ndef.message_decoder(message))
    assert uri.iri == "http://www.example.org/x"
    assert (text.text, text.language) == (long_text, "de")
    assert len(reads) >= 4  # CC, NLEN, and at least two message chunks


def select_file(r: LoopbackRig, fid: int) -> int:
    return r.terminal.transmit(CommandApdu(0, 0xA4, 0, 0x0C, fid.to_bytes(2, "big"))).sw


@pytest.mark.parametrize(("apdu", "sw"), [
    ("00B0800002", SW.INCORRECT_P1P2),     # offset with b16 set
    ("00B0100002", SW.WRONG_P1P2),         # beyond the 2048-byte file
    ("00D6000002AABB", SW.SECURITY_STATUS_NOT_SATISFIED),  # read-only tag
    ("00CA000000", SW.INS_NOT_SUPPORTED),
    ("80B0000002", SW.CLA_NOT_SUPPORTED),
])
def test_errors_on_a_read_only_tag(apdu: str, sw: int) -> None:
    r = rig()
    with r.terminal.tap():
        r.terminal.select(bytes.fromhex("D2760000850101"))
        assert select_file(r, NDEF_FILE_ID) == SW.NO_ERROR
        assert r.terminal.transmit(apdu).sw == sw


def test_file_selection_errors() -> None:
    r = rig()
    with r.terminal.tap():
        r.terminal.select(bytes.fromhex("D2760000850101"))
        assert r.terminal.transmit("00B0000002").sw == SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF
        assert select_file(r, 0xE105) == SW.FILE_NOT_FOUND
        assert r.terminal.transmit("00A4000C03E10300").sw == SW.WRONG_LENGTH
        assert select_file(r, CC_FILE_ID) == SW.NO_ERROR
        short = r.terminal.transmit("00B0000A20")
        assert (len(short.data), short.sw) == (5, SW.END_OF_FILE_REACHED)


def write_message(r: LoopbackRig, message: bytes) -> None:
    """How a phone writes: NLEN=0, the message, then the real NLEN."""
    t = r.terminal
    t.select(bytes.fromhex("D2760000850101"))
    assert select_file(r, NDEF_FILE_ID) == SW.NO_ERROR
    t.expect_ok("00D6000002 0000")
    data = message
    offset = 2
    while data:
        chunk, data = data[:200], data[200:]
        t.expect_ok(CommandApdu(0, 0xD6, offset >> 8, offset & 0xFF, chunk))
        offset += len(chunk)
    t.expect_ok(CommandApdu(0, 0xD6, 0, 0, len(message).to_bytes(2, "big")))


def test_writable_tag_persists_written_message(tmp_path: Path) -> None:
    store_path = tmp_path / "tag.sqlite"
    written = b"".join(ndef.message_encoder([ndef.TextRecord("written by a phone " * 15)]))
    store = SqliteStore(store_path)
    r = loopback_rig([NdefPlugin()], options={"ndef": {"writable": "true"}}, store=store)
    with r.terminal.tap():
        write_message(r, written)
        assert read_ndef(r.terminal) == written
        assert r.terminal.transmit("00D6 07FF 02 AABB".replace(" ", "")).sw == SW.NOT_ENOUGH_MEMORY
    r.close()
    store.close()  # one owner at a time: the next card opens the store again
    again = loopback_rig([NdefPlugin()], options={"ndef": {"writable": "true", "url": "https://x.invalid"}},
                         store=SqliteStore(store_path))
    with again.terminal.tap():
        (record,) = list(ndef.message_decoder(read_ndef(again.terminal)))
    assert record.text == "written by a phone " * 15


def test_bad_options_stop_the_card_with_a_clear_error() -> None:
    from hcekit.errors import PluginLoadError

    with pytest.raises(PluginLoadError, match="max_size"):
        rig(max_size="lots")
    with pytest.raises(PluginLoadError, match="exceeds"):
        rig(max_size="10")
