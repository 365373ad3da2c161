"""The NDEF codec (hcekit.ndef), checked against ndeflib (a foreign implementation) and by properties."""

from __future__ import annotations

import ndef as ndeflib
import pytest
from hcekit.ndef import (
    URI_PREFIXES,
    NdefError,
    NdefRecord,
    Tnf,
    decode_message,
    describe_record,
    encode_message,
    text_record,
    uri_record,
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


iri_text = st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), max_size=40)
uris = st.one_of(
    st.sampled_from(sorted(URI_PREFIXES.values())).flatmap(
        lambda prefix: iri_text.map(lambda rest: prefix + rest)),
    iri_text,
)


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(uris, st.text(max_size=300), st.sampled_from(["en", "de-CH", "zh-Hant"]))
def test_uri_and_text_records_read_back_by_ndeflib(uri: str, text: str, lang: str) -> None:
    message = encode_message([uri_record(uri), text_record(text, lang)])
    uri_back, text_back = ndeflib.message_decoder(message)
    assert isinstance(uri_back, ndeflib.UriRecord) and uri_back.iri == uri
    assert isinstance(text_back, ndeflib.TextRecord)
    assert (text_back.text, text_back.language) == (text, lang)


def test_uri_record_takes_the_longest_abbreviation() -> None:
    assert uri_record("https://www.example.org").payload == b"\x02example.org"
    assert uri_record("urn:epc:id:sgtin:1").payload == b"\x1esgtin:1"
    assert uri_record("gopher://x").payload == b"\x00gopher://x"


def test_ndeflib_messages_decode_and_describe() -> None:
    theirs = b"".join(ndeflib.message_encoder([
        ndeflib.UriRecord("http://www.nfc-forum.org"),
        ndeflib.TextRecord("Grüße", "de", "UTF-16"),
        ndeflib.Record("application/octet-stream", "", b"\x01\x02")]))
    uri, text, media = decode_message(theirs)
    assert describe_record(uri) == "URI  http://www.nfc-forum.org"
    assert describe_record(text) == "Text [de] Grüße"
    assert media.tnf is Tnf.MEDIA and media.type == b"application/octet-stream"
    assert describe_record(media) == "TNF MEDIA type b'application/octet-stream' (2 bytes)"


@settings(deadline=None)  # CI machines are shared and slow; no timing asserts
@given(st.binary(max_size=64))
def test_garbage_never_crashes(data: bytes) -> None:
    try:
        decode_message(data)
    except NdefError:
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
    ("c4030000", "truncated payload length"),
    ("dc0301", "truncated ID length"),
])
def test_malformed_messages_are_refused_precisely(raw: str, message: str) -> None:
    with pytest.raises(NdefError, match=message):
        decode_message(bytes.fromhex(raw))


def test_what_cannot_be_encoded_is_refused() -> None:
    with pytest.raises(NdefError, match="at least one record"):
        encode_message([])
    with pytest.raises(NdefError, match="255 bytes"):
        encode_message([NdefRecord.external(b"x" * 256, b"")])
    with pytest.raises(NdefError, match="language code"):
        text_record("hi", "")
    with pytest.raises(NdefError, match="language code"):
        text_record("hi", "fü")
    with pytest.raises(NdefError, match="control characters"):
        uri_record("https://example.org/\n")
