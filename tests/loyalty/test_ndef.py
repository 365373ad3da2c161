"""The NDEF codec, checked against ndeflib (a foreign implementation) and by properties."""

from __future__ import annotations

import ndef as ndeflib
import pytest
from hcekit_loyalty.ndef import (
    NdefFormatError,
    NdefRecord,
    Tnf,
    decode_message,
    encode_message,
    find_record,
)
from hypothesis import given, settings
from hypothesis import strategies as st

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8).map(
    str.encode)
records = st.builds(
    NdefRecord,
    st.just(Tnf.EXTERNAL),
    names,
    st.binary(max_size=600),
    st.one_of(st.just(b""), names),
)


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.lists(records, min_size=1, max_size=5))
def test_round_trip(recs: list[NdefRecord]) -> None:
    assert decode_message(encode_message(recs)) == recs


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.lists(records, min_size=1, max_size=4))
def test_bytes_equal_ndeflib(recs: list[NdefRecord]) -> None:
    ours = encode_message(recs)
    theirs = b"".join(ndeflib.message_encoder(
        [ndeflib.Record("urn:nfc:ext:" + r.type.decode(), r.id.decode(), r.payload)
         for r in recs]))
    assert ours == theirs
    decoded = list(ndeflib.message_decoder(ours))
    assert [(d.type, d.name, bytes(d.data)) for d in decoded] == [
        ("urn:nfc:ext:" + r.type.decode(), r.id.decode(), r.payload) for r in recs]


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.binary(max_size=64))
def test_garbage_never_crashes(data: bytes) -> None:
    try:
        decode_message(data)
    except NdefFormatError:
        pass


@pytest.mark.parametrize(("raw", "message"), [
    ("", "empty"),
    ("d4", "truncated header"),
    ("d40305636c6404", "needs"),                     # payload shorter than announced
    ("d40301737472000000", "after the record flagged ME"),
    ("9403017374720a", "without a record flagged ME"),
    ("5403017374720a", "MB flag misplaced"),
    ("f403017374720a", "chunked"),
    ("d70301737472ff", "reserved TNF"),
])
def test_malformed_messages_are_refused_precisely(raw: str, message: str) -> None:
    with pytest.raises(NdefFormatError, match=message):
        decode_message(bytes.fromhex(raw))


def test_smart_tap_names_and_lookup() -> None:
    well_known = NdefRecord(Tnf.WELL_KNOWN, b"T", b"\x02enUSD", b"ccd")
    external = NdefRecord.external(b"mdn", b"\x04" + bytes(32), with_id=True)
    assert well_known.name == b"ccd" and external.name == b"mdn" and external.id == b"mdn"
    assert find_record([well_known, external], b"ccd") is well_known
    assert find_record([well_known], b"xyz") is None
    with pytest.raises(ValueError):
        encode_message([])
