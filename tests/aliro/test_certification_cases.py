"""The CSA certification tool's NFC user-device cases, reader side ported to PC/SC.

Each test is one case of aliro-certification-tool ``test_collections/aliro/
nfc_user_device/`` (named after it), driven by :mod:`.reader_side` — a
reader written from the cases, not from the card — through pyscard, a
private pcscd, vpcd and ``hcekit``'s vpcd host. docs/aliro.md has the table
of every case and its status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit import SW
from hcekit.store import MemoryStore
from hcekit.testing.pcsc import PcscCard, PcscCardFactory
from hcekit_aliro import AliroPlugin, Personalization

from .conftest import GROUP, World
from .reader_side import OK, STEP_UP, VECTORS, Reader, dec, enc, get, pub, sign

pytestmark = pytest.mark.pcsc

EXCHANGE_OK = bytes.fromhex(VECTORS["exchange_success_status"])
UNSECURED = (0x0101).to_bytes(2, "big")
Serve = Callable[..., tuple[PcscCard, Reader]]


@pytest.fixture
def serve(pcsc_card: PcscCardFactory, world: World) -> Serve:
    def make(personalization: Personalization | None = None, **options: Any) -> tuple[PcscCard, Reader]:
        plugin = AliroPlugin(personalization or world.personalization())
        served = pcsc_card(plugin, store=MemoryStore(), **options)
        return served, world.reader(served.terminal)
    return make


def retap(served: PcscCard, reader: Reader) -> None:
    served.terminal.disconnect()
    served.terminal.connect()
    reader.eph = None
    reader.channel = None


def standard(reader: Reader, **auth1: Any) -> bytes:
    assert reader.select().sw == OK
    assert reader.auth0().sw == OK
    r, plain = reader.auth1(**auth1)
    assert r.sw == OK, f"AUTH1 answered {r.sw:04X}"
    return plain


# -- SELECT answer ---------------------------------------------------------------------------------

def test_nfc_ud_select_response_ud_info_tag(serve: Serve) -> None:
    _, reader = serve()
    r = reader.select()
    assert r.sw == OK
    fci = dict(dec(r.data))
    assert set(fci) == {0x6F}
    inner = dict(dec(fci[0x6F]))
    assert inner[0x84] == bytes.fromhex(VECTORS["expedited_aid"])
    proprietary = dict(dec(inner[0xA5]))
    assert proprietary[0x80] == b"\x00\x00"                       # CSA application
    versions = proprietary[0x5C]
    assert len(versions) % 2 == 0
    offered = [versions[i:i + 2] for i in range(0, len(versions), 2)]
    assert bytes.fromhex(VECTORS["protocol_version"]) in offered
    limits = [v for t, v in dec(proprietary[0x7F66])]
    assert len(limits) == 2 and all(len(x) == 2 for x in limits)
    standard(reader)
    _, plain = reader.exchange_plain(enc(0x97, UNSECURED))
    assert plain == EXCHANGE_OK


def test_nfc_ud_select_response_ud_descriptor_tag(serve: Serve) -> None:
    served, reader = serve()
    standard(reader)
    _, plain = reader.exchange_plain(enc(0x97, UNSECURED))
    assert plain == EXCHANGE_OK
    r = served.terminal.select(STEP_UP)          # the step-up application's own FCI
    assert r.sw == OK
    inner = dict(dec(dict(dec(r.data))[0x6F]))
    assert inner[0x84] == STEP_UP and dict(dec(inner[0xA5]))[0x80] == b"\x00\x00"


# -- standard flows -------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", [1, 2, 3])
def test_nfc_ud_standard_no_cert(serve: Serve, policy: int) -> None:
    _, reader = serve()
    assert reader.select().sw == OK
    assert reader.auth0(policy=policy).sw == OK
    r, plain = reader.auth1()
    assert r.sw == OK
    fields = dict(dec(plain))
    assert 0x5A in fields and 0x4E not in fields and len(fields[0x9E]) == 64
    assert len(fields[0x5E]) == 2
    r, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert r.sw == OK and answer == EXCHANGE_OK


def test_ud_auth1_key_slot_instead_of_public_key(serve: Serve) -> None:
    _, reader = serve()
    fields = dict(dec(standard(reader, want_public_key=False)))
    assert len(fields[0x4E]) == 8 and 0x5A not in fields


@pytest.mark.parametrize("chain", [None, 64], ids=["no_chaining", "with_chaining"])
def test_nfc_ud_standard_cert_in_load_cert(serve: Serve, world: World, chain: int | None) -> None:
    _, reader = serve(world.personalization(reader_key_known=False))
    assert reader.select().sw == OK and reader.auth0().sw == OK
    assert reader.load_cert(chain_every=chain).sw == OK
    r, plain = reader.auth1()
    assert r.sw == OK and dict(dec(plain))[0x5A] == reader.endpoint_public


@pytest.mark.parametrize("chain", [None, 64], ids=["no_chaining", "with_chaining"])
def test_nfc_ud_standard_cert_in_auth1(serve: Serve, world: World, chain: int | None) -> None:
    _, reader = serve(world.personalization(reader_key_known=False))
    assert reader.select().sw == OK and reader.auth0().sw == OK
    r, _ = reader.auth1(with_cert=True, chain_every=chain)
    assert r.sw == OK


def test_nfc_ud_standard_sixteen_groupidentifier_one_ac(serve: Serve) -> None:
    """One credential, the tool's sixteen reader groups and reader keys; a tap per group."""
    from hcekit_aliro import TrustedGroup

    groups = VECTORS["sixteen_groups"]
    personalization = Personalization(groups=[TrustedGroup(
        bytes.fromhex(g["group"]), bytes.fromhex(g["reader_public"])) for g in groups])
    served, _ = serve(personalization)
    sub_group = bytes.fromhex(VECTORS["sixteen_sub_group_identifier"])
    for number, group in enumerate(groups):
        key = ec.derive_private_key(int(group["reader_private"], 16), ec.SECP256R1())
        assert pub(key).hex() == group["reader_public"], "vector key pair inconsistent"
        reader = Reader(served.terminal, bytes.fromhex(group["group"]), sub_group, key)
        if number:
            retap(served, reader)
        standard(reader)
        _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
        assert answer == EXCHANGE_OK


# -- fast --------------------------------------------------------------------------------------------

def test_nfc_ud_fast(serve: Serve) -> None:
    served, reader = serve()
    standard(reader)
    retap(served, reader)
    assert reader.select().sw == OK
    r = reader.auth0(fast=True)
    assert r.sw == OK
    plain = reader.open_cryptogram(get(r.data, 0x9D) or b"")
    assert plain is not None, "cryptogram does not open with the Kpersistent of AUTH1"
    fields = dict(dec(plain))
    assert len(fields[0x5E]) == 2 and len(fields[0x91]) == 20 and len(fields[0x92]) == 20
    r, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert r.sw == OK and answer == EXCHANGE_OK


def test_fast_without_kpersistent_falls_back_to_standard(serve: Serve) -> None:
    _, reader = serve()
    assert reader.select().sw == OK
    r = reader.auth0(fast=True)
    cryptogram = get(r.data, 0x9D)
    assert r.sw == OK and cryptogram is not None and len(cryptogram) == 64
    assert reader.open_cryptogram(cryptogram) is None
    assert reader.auth1()[0].sw == OK


def test_nfc_ud_neg_auth0_different_cryptogram_consecutive_fast(serve: Serve) -> None:
    served, reader = serve()
    reader.tool_vectors = False
    standard(reader)
    cryptograms = []
    for _ in range(2):
        retap(served, reader)
        assert reader.select().sw == OK
        r = reader.auth0(fast=True)
        cryptograms.append(get(r.data, 0x9D))
        assert reader.open_cryptogram(cryptograms[-1] or b"") is not None
    assert cryptograms[0] != cryptograms[1]


def test_nfc_ud_fast_kpersistent_cache_max(serve: Serve, world: World) -> None:
    """Sixteen readers of the group (the tool's reader cache size) each get a fast tap."""
    served, first = serve()
    readers = [first] + [Reader(served.terminal, GROUP, bytes([i]) * 16, world.reader_key)
                         for i in range(1, 16)]
    for reader in readers:
        retap(served, reader)
        standard(reader)
    for reader in readers:
        retap(served, reader)
        assert reader.select().sw == OK
        r = reader.auth0(fast=True)
        assert reader.open_cryptogram(get(r.data, 0x9D) or b"") is not None
        _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
        assert answer == EXCHANGE_OK


def test_nfc_ud_auth0_response_chaining(serve: Serve) -> None:
    """AUTH0 with a vendor extension (B1) and Le = 60: the 67-byte answer comes in 61xx parts."""
    served, reader = serve(auto_get_response=False)
    assert reader.select().sw == OK
    vendor = enc(0xB1, b"\x00\x00\x01" + enc(0x01, bytes(range(30))))
    data = reader.auth0_data(fast=False, extra=vendor)
    from hcekit import CommandApdu

    first = served.terminal.transmit(CommandApdu(0x80, 0x80, 0, 0, data, 60))
    assert first.sw1 == SW.BYTES_REMAINING >> 8 and len(first.data) == 60
    rest = served.terminal.transmit(CommandApdu(0x00, 0xC0, 0, 0, b"", first.sw2 or 256))
    assert rest.sw == OK
    reader.endpoint_eph = get(first.data + rest.data, 0x86) or b""
    served.terminal.auto_get_response = True
    assert reader.auth1()[0].sw == OK
    _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert answer == EXCHANGE_OK


# -- AUTH0 negative cases ---------------------------------------------------------------------------

def test_nfc_ud_neg_auth0_wrong_p1p2(serve: Serve) -> None:
    _, reader = serve()
    assert reader.select().sw == OK
    r = reader.send(0x80, 0x80, reader.auth0_data(False), p1=0x01, p2=0x02)
    assert r.sw not in (OK,) and r.sw1 in (0x6A, 0x6B)


def test_nfc_ud_neg_auth0_extra_tag(serve: Serve) -> None:
    """The case sends an undefined tag AA (01 02 03) in AUTH0 and expects AUTH0, AUTH1 and
    EXCHANGE all to succeed: the credential skips unknown AUTH0 tags."""
    _, reader = serve()
    assert reader.select().sw == OK
    r = reader.send(0x80, 0x80, reader.auth0_data(False, extra=enc(0xAA, b"\x01\x02\x03")))
    assert r.sw == OK
    reader.endpoint_eph = get(r.data, 0x86) or b""
    assert reader.auth1()[0].sw == OK
    _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert answer == EXCHANGE_OK


@pytest.mark.parametrize("field", ["key-under-tag-88", "policy", "parameters", "ephemeral"])
def test_nfc_ud_neg_auth0_wrong_value(serve: Serve, field: str) -> None:
    """The case moves the reader key to tag 88 (so 87 is missing): an error SW, after which
    CONTROL FLOW (S1 00, S2 00) is answered 9000. Wrong policy, RFU bits and a point off the
    curve are refused the same way."""
    _, reader = serve()
    assert reader.select().sw == OK
    data = reader.auth0_data(False)
    point = pub(reader.eph)  # type: ignore[arg-type]
    if field == "key-under-tag-88":
        data = data.replace(enc(0x87, point), enc(0x88, point))
    elif field == "policy":
        data = data.replace(b"\x42\x01\x01", b"\x42\x01\x07", 1)
    elif field == "parameters":
        data = data.replace(b"\x41\x01\x00", b"\x41\x01\x80", 1)
    else:
        data = data.replace(point, point[:-1] + bytes([point[-1] ^ 1]))
    assert reader.send(0x80, 0x80, data).sw == 0x6A80
    assert reader.send(0x80, 0x3C, enc(0x41, b"\x00") + enc(0x42, b"\x00"), le=None).sw == OK


def test_nfc_ud_neg_auth0_unsupported_protocol_version(serve: Serve) -> None:
    _, reader = serve()
    assert reader.select().sw == OK
    assert reader.send(0x80, 0x80, reader.auth0_data(False, version=b"\x09\x09")).sw == 0x6A81


def test_nfc_ud_neg_auth0_unknown_reader_id(serve: Serve) -> None:
    _, reader = serve()
    reader.group = bytes(16)
    assert reader.select().sw == OK
    assert reader.auth0().sw == OK          # nothing revealed before reader authentication
    r, _ = reader.auth1()
    assert r.sw == 0x6982


def test_nfc_ud_neg_auth0_chaining_not_completed(serve: Serve) -> None:
    served, reader = serve()
    assert reader.select().sw == OK
    from hcekit import CommandApdu

    data = reader.auth0_data(False)
    part = served.terminal.transmit(CommandApdu(0x90, 0x80, 0, 0, data[:100], None))
    assert part.sw == OK
    other = served.terminal.transmit(CommandApdu(0x80, 0x81, 0, 0, data[100:], 256))
    assert other.sw == SW.LAST_COMMAND_OF_CHAIN_EXPECTED


# -- AUTH1 negative cases ---------------------------------------------------------------------------

def _after_auth0(serve: Serve, **kw: Any) -> tuple[PcscCard, Reader]:
    served, reader = serve(**kw)
    assert reader.select().sw == OK and reader.auth0().sw == OK
    return served, reader


def test_nfc_ud_neg_auth1_wrong_p1p2(serve: Serve) -> None:
    _, reader = _after_auth0(serve)
    assert reader.send(0x80, 0x81, reader.auth1_data(), p1=1).sw == 0x6A86


def test_nfc_ud_neg_auth1_extra_tag(serve: Serve) -> None:
    _, reader = _after_auth0(serve)
    assert reader.send(0x80, 0x81, reader.auth1_data() + enc(0xAA, b"\x00")).sw == 0x6A80


def test_nfc_ud_neg_auth1_wrong_values(serve: Serve) -> None:
    _, reader = _after_auth0(serve)
    data = reader.auth1_data().replace(b"\x41\x01\x01", b"\x41\x01\x81", 1)
    assert reader.send(0x80, 0x81, data).sw == 0x6A80
    short = enc(0x41, b"\x01") + enc(0x9E, bytes(63))
    assert reader.send(0x80, 0x81, short).sw == 0x6A80


def test_nfc_ud_neg_auth1_wrong_reader_signature(serve: Serve) -> None:
    _, reader = _after_auth0(serve)
    other = ec.generate_private_key(ec.SECP256R1())
    forged = sign(other, reader.signed_data(bytes.fromhex(VECTORS["reader_usage"])))
    assert reader.send(0x80, 0x81, reader.auth1_data(signature=forged)).sw == 0x6982
    # the session is closed: even a correct AUTH1 now fails until the reader starts over
    assert reader.send(0x80, 0x81, reader.auth1_data()).sw == 0x6985


def test_nfc_ud_neg_auth1_chaining_not_completed(serve: Serve) -> None:
    served, reader = _after_auth0(serve)
    from hcekit import CommandApdu

    data = reader.auth1_data()
    assert served.terminal.transmit(CommandApdu(0x90, 0x81, 0, 0, data[:40], None)).sw == OK
    assert served.terminal.transmit(
        CommandApdu(0x80, 0xC9, 0, 0, data[40:], 256)).sw == SW.LAST_COMMAND_OF_CHAIN_EXPECTED


@pytest.mark.parametrize("damage", ["format", "bytes-5-6", "signature"])
def test_nfc_ud_neg_standard_cert_in_load_cert_with_chaining_incorrect(
        serve: Serve, world: World, damage: str) -> None:
    _, reader = _after_auth0(serve, personalization=world.personalization(reader_key_known=False))
    cert = reader.certificate
    assert cert is not None
    if damage == "format":
        cert = cert[:-5]                              # truncated DER
    elif damage == "bytes-5-6":                       # as the case damages it
        cert = cert[:5] + b"\xff\xff" + cert[7:]
    else:
        cert = cert[:-3] + bytes([cert[-3] ^ 0x01]) + cert[-2:]   # one bit of the signature
    assert reader.load_cert(cert, chain_every=64).sw == 0x6A80
    assert reader.auth1()[0].sw == 0x6982               # no trusted reader key after all


# -- EXCHANGE --------------------------------------------------------------------------------------

def _secure(serve: Serve, **kw: Any) -> tuple[PcscCard, Reader]:
    served, reader = serve(**kw)
    standard(reader)
    return served, reader


def _reads(answer: bytes) -> list[bytes]:
    body, out, i = answer[:-4], [], 0
    while i < len(body):
        n = int.from_bytes(body[i:i + 2], "big")
        out.append(body[i + 2:i + 2 + n])
        i += 2 + n
    return out


def test_nfc_ud_exchange_write_read_set_request(serve: Serve) -> None:
    served, reader = _secure(serve)
    assert reader.bitmap & (1 << 4) and reader.bitmap & (1 << 5)
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x8A, b"\x00\x10hello")))
    assert answer == EXCHANGE_OK
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x95, b"\x00\x20\x00\x04\xee")))
    assert answer == EXCHANGE_OK
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x10\x00\x05"),
                                                     enc(0x87, b"\x00\x20\x00\x05")))
    assert answer is not None and answer[-4:] == EXCHANGE_OK
    assert _reads(answer) == [b"hello", b"\xee" * 4 + b"\x00"]
    # the mailbox persists: next tap reads it back and the bitmap says "non-zero data"
    retap(served, reader)
    standard(reader)
    assert reader.bitmap & (1 << 3)
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x10\x00\x05")))
    assert answer is not None and _reads(answer) == [b"hello"]


def test_nfc_ud_exchange_with_chaining(serve: Serve) -> None:
    """The case's EXCHANGE: reads (0, 0x12C) and (0x2C, 0x100), then writes of 300 x AB at 0
    and 128 x 0102 at 0x2C — about 600 bytes each way, chained — then the same reads."""
    _, reader = _secure(serve)
    reads = enc(0x87, b"\x00\x00\x01\x2c") + enc(0x87, b"\x00\x2c\x01\x00")
    writes = enc(0x8A, b"\x00\x00" + b"\xab" * 300) + enc(0x8A, b"\x00\x2c" + b"\x01\x02" * 128)
    _, answer = reader.exchange_plain(reader.mailbox(reads, writes))
    assert answer is not None and answer[-4:] == EXCHANGE_OK
    assert _reads(answer) == [bytes(300), bytes(256)]           # read before the writes
    _, answer = reader.exchange_plain(reader.mailbox(reads))
    assert answer is not None
    assert _reads(answer) == [b"\xab" * 44 + b"\x01\x02" * 128, b"\x01\x02" * 128]
    _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert answer == EXCHANGE_OK


def test_nfc_ud_exchange_with_extended_length(serve: Serve) -> None:
    """The case's large read (0x113 bytes) in one extended-length APDU each way."""
    _, reader = _secure(serve)
    blob = bytes(range(256)) + bytes(0x13)
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x8A, b"\x00\x00" + blob)), extended=True)
    assert answer == EXCHANGE_OK
    r, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x00\x01\x13"))
                                      + enc(0x97, UNSECURED), extended=True)
    assert r.sw == OK and answer is not None and _reads(answer) == [blob]
    _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert answer == EXCHANGE_OK


def test_nfc_ud_exchange_mailbox_out_of_bounds(serve: Serve) -> None:
    """A read from 0x11C of 0x100 bytes runs past the 0x12C-byte mailbox: success, the 16
    bytes that exist."""
    _, reader = _secure(serve)
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x01\x1c\x01\x00")))
    assert answer is not None and answer[-4:] == EXCHANGE_OK and _reads(answer) == [bytes(16)]
    _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert answer == EXCHANGE_OK


def test_exchange_write_past_the_mailbox_end_fails_atomically(serve: Serve) -> None:
    _, reader = _secure(serve)
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x8A, b"\x00\x00abc"),
                                                     enc(0x8A, b"\x01\x2a" + b"xyz")))
    assert answer is not None and answer != EXCHANGE_OK
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x00\x00\x03")))
    assert answer is not None and _reads(answer) == [bytes(3)]      # the first write was undone


def test_nfc_ud_neg_exchange_mailbox_out_of_bounds(serve: Serve) -> None:
    _, reader = _secure(serve)
    r, answer = reader.exchange_plain(reader.mailbox(enc(0x87, (0x11C).to_bytes(2, "big")
                                                         + (0xFF00).to_bytes(2, "big"))))
    assert r.sw == OK and answer is not None
    assert answer[-4:] != EXCHANGE_OK and _reads(answer) == []
    _, answer = reader.exchange_plain(enc(0x97, (0x0020).to_bytes(2, "big")))
    assert answer == EXCHANGE_OK


def test_nfc_ud_neg_exchange_with_extra_tag(serve: Serve) -> None:
    """The case adds an undefined tag 99 (a copy of the mailbox operations) next to the
    mailbox container and expects success with exactly the real read answered."""
    _, reader = _secure(serve)
    ops = enc(0x8C, b"\x00") + enc(0x87, b"\x00\x0c\x00\x10")
    r, answer = reader.exchange_plain(enc(0xBA, ops) + enc(0x99, ops))
    assert r.sw == OK and answer is not None
    assert answer[-4:] == EXCHANGE_OK and _reads(answer) == [bytes(16)]
    r, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert r.sw == OK and answer == EXCHANGE_OK


def test_exchange_refuses_an_unknown_mailbox_operation(serve: Serve) -> None:
    _, reader = _secure(serve)
    r, _ = reader.exchange_plain(reader.mailbox(enc(0x27, b"\x00\x00\x00\x01")))
    assert r.sw == 0x6A80


def test_nfc_ud_neg_exchange_with_wrong_length(serve: Serve) -> None:
    """As the case builds it: a read under a wrong tag (27) in the mailbox container, whose
    length byte then claims 100 more bytes than there are; an error SW, then EXCHANGE works."""
    _, reader = _secure(serve)
    payload = bytearray(reader.mailbox(enc(0x27, b"\x00\x0c\x00\x10")))
    payload[1] = min(0xFF, len(payload) + 0x64)
    r, _ = reader.exchange_plain(bytes(payload))
    assert r.sw == 0x6A80
    r, _ = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x00\x00")))   # read is 4 bytes
    assert r.sw == 0x6A80
    r, answer = reader.exchange_plain(enc(0x97, (0x0020).to_bytes(2, "big")))
    assert r.sw == OK and answer == EXCHANGE_OK


def test_nfc_ud_neg_exchange_with_chaining_not_completed(serve: Serve) -> None:
    served, reader = _secure(serve)
    from hcekit import CommandApdu

    assert reader.channel is not None
    sealed = reader.channel.seal(enc(0x97, UNSECURED))
    assert served.terminal.transmit(CommandApdu(0x90, 0xC9, 0, 0, sealed[:8], None)).sw == OK
    assert served.terminal.transmit(
        CommandApdu(0x80, 0x3C, 0, 0, b"\x41\x01\x00\x42\x01\x00", None)).sw == \
        SW.LAST_COMMAND_OF_CHAIN_EXPECTED


def test_nfc_ud_neg_exchange_with_chaining_not_completed_then_read(serve: Serve) -> None:
    """An EXCHANGE whose chain lost a block (so its GCM tag fails) is refused; the counters
    moved on both sides, and the next EXCHANGE reads 8 mailbox bytes (the case's step 7)."""
    _, reader = _secure(serve)
    assert reader.channel is not None
    sealed = reader.channel.seal(reader.mailbox(enc(0x87, b"\x00\x00\x00\x08")) + bytes(40))
    assert _send_chained_skipping_block(reader, 0xC9, sealed) == 0x6982
    r, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x00\x00\x08")))
    assert r.sw == OK and answer is not None and _reads(answer) == [bytes(8)]


def test_exchange_tampered_ciphertext_is_refused_and_never_decrypted(serve: Serve) -> None:
    _, reader = _secure(serve)
    assert reader.channel is not None
    sealed = bytearray(reader.channel.seal(reader.mailbox(enc(0x8A, b"\x00\x00evil"))))
    sealed[0] ^= 1
    assert reader.send(0x80, 0xC9, bytes(sealed)).sw == 0x6982
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x87, b"\x00\x00\x00\x04")))
    assert answer is not None and _reads(answer) == [bytes(4)]      # nothing was written
    # a replay of a good message fails too: its counter is spent
    good = reader.channel.seal(enc(0x97, UNSECURED))
    assert reader.send(0x80, 0xC9, good).sw == OK
    assert reader.send(0x80, 0xC9, good).sw == 0x6982


def test_read_only_mailbox_refuses_writes(serve: Serve, world: World) -> None:
    _, reader = _secure(serve, personalization=world.personalization(mailbox_write=False))
    assert not reader.bitmap & (1 << 5)
    _, answer = reader.exchange_plain(reader.mailbox(enc(0x8A, b"\x00\x00x")))
    assert answer is not None and answer != EXCHANGE_OK


# -- step-up -------------------------------------------------------------------------------------------

def _device_request(*doc_types: str, scope: str = "matter1") -> bytes:
    """As the tool's DeviceRequestBuilder: name space = doc type, element → intent to retain."""
    requests = [{"1": cbor2.CBORTag(24, cbor2.dumps({"1": {t: {scope: False}}, "5": t}))}
                for t in doc_types or ("aliro-a",)]
    return cbor2.dumps({"1": "1.0", "2": requests})


def _check_signed(document: dict[str, Any], endpoint_public: bytes | None) -> None:
    """The tool's Document.check_signature: item digests in the MSO, COSE_Sign1 by the issuer."""
    import hashlib

    from hcekit_aliro.testkeys import test_credential_issuer_key

    from .reader_side import verify

    doc_type = document["5"]
    protected, _, payload, signature = document["1"]["2"]
    mso = cbor2.loads(cbor2.loads(payload).value)
    assert mso["5"] == doc_type
    for item in document["1"]["1"][doc_type]:
        digest_id = cbor2.loads(item.value)["1"]
        assert mso["3"][doc_type][digest_id] == hashlib.sha256(cbor2.dumps(item)).digest()
    if endpoint_public is None:
        assert "4" not in mso
    else:
        key = mso["4"]["1"]
        assert b"\x04" + key[-2] + key[-3] == endpoint_public
    sig_structure = cbor2.dumps(["Signature1", protected, b"", payload])
    assert verify(pub(test_credential_issuer_key()), sig_structure, signature)


def _step_up(serve: Serve, *doc_types: str) -> tuple[Reader, dict[str, Any]]:
    served, reader = _secure(serve)
    assert reader.bitmap & 1 and reader.bitmap & 2 and reader.bitmap & (1 << 2)
    assert served.terminal.select(STEP_UP).sw == OK     # the bitmap asks for the step-up SELECT
    r, plain = reader.envelope(_device_request(*doc_types))
    assert r.sw == OK and plain is not None
    response = cbor2.loads(plain)
    assert response["1"] == "1.0" and response["3"] == 0
    return reader, response


@pytest.mark.parametrize("case", ["basic", "ad"])
def test_nfc_ud_stepup_basic_and_ad(serve: Serve, case: str) -> None:
    reader, response = _step_up(serve, "aliro-a")
    (document,) = response["2"]
    assert document["5"] == "aliro-a"
    (item,) = document["1"]["1"]["aliro-a"]
    assert cbor2.loads(item.value)["3"] == "matter1"
    _check_signed(document, reader.endpoint_public)
    # step 6: EXCHANGE (expedited keys) after the step-up SELECT
    r, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert r.sw == OK and answer == EXCHANGE_OK


def test_nfc_ud_stepup_ad_rd(serve: Serve) -> None:
    reader, response = _step_up(serve, "aliro-a", "aliro-r")
    assert sorted(d["5"] for d in response["2"]) == ["aliro-a", "aliro-r"]
    for document in response["2"]:
        _check_signed(document, reader.endpoint_public if document["5"] == "aliro-a" else None)
    _, answer = reader.exchange_plain(enc(0x97, UNSECURED))
    assert answer == EXCHANGE_OK


def test_nfc_ud_stepup_rd(serve: Serve) -> None:
    _, response = _step_up(serve, "aliro-r")
    (document,) = response["2"]
    assert document["5"] == "aliro-r"
    _check_signed(document, None)


def test_stepup_unknown_document_type_answers_no_document(serve: Serve) -> None:
    _, response = _step_up(serve, "aliro-x")
    assert response["2"] == []


def test_stepup_without_auth1_is_refused(serve: Serve) -> None:
    served, reader = serve()
    assert served.terminal.select(STEP_UP).sw == OK
    reader.step_up_keys = (bytes(32), bytes(32))
    r, _ = reader.envelope(_device_request())
    assert r.sw == 0x6985


# -- the product's reader over the real stack --------------------------------------------------

def test_hcekit_aliro_reader_over_pcsc(pcsc_card: PcscCardFactory) -> None:
    """``hcekit aliro reader --reader`` and ``hcekit tap aliro-reader`` against a served card."""
    import subprocess
    import sys
    from pathlib import Path

    served = pcsc_card([AliroPlugin()], store=MemoryStore(), connect=False)
    hcekit = str(Path(sys.executable).parent / "hcekit")
    for args in (["aliro", "reader", "--reader", served.reader],
                 ["tap", "--reader", served.reader, "aliro-reader", "-s", "step_up=no"]):
        done = subprocess.run([hcekit, *args], capture_output=True, text=True, timeout=120,
                              env=served.env)
        assert done.returncode == 0 and "ACCESS GRANTED" in done.stdout, done.stdout + done.stderr
        assert "fast again: fast transaction" in done.stdout


def test_control_flow_ends_the_transaction(serve: Serve) -> None:
    _, reader = _secure(serve)
    assert reader.send(0x80, 0x3C, enc(0x41, b"\x00"), le=None).sw == 0x6A80   # S2 missing
    assert reader.send(0x80, 0x3C, enc(0x41, b"\x00") + enc(0x42, b"\x27"), le=None).sw == OK
    assert reader.channel is not None
    assert reader.send(0x80, 0xC9, reader.channel.seal(enc(0x97, UNSECURED))).sw == 0x6985


def _send_chained_skipping_block(reader: Reader, ins: int, data: bytes) -> int:
    """As the tool's ``skip_command=1`` with ``max_data_len=30``: 30-byte blocks, the second
    one never sent; the SW of the last block."""
    from hcekit import CommandApdu

    blocks = [data[i:i + 30] for i in range(0, len(data), 30)]
    sw = OK
    for number, block in enumerate(blocks):
        if number == 1:
            continue
        last = number == len(blocks) - 1
        sw = reader.terminal.transmit(CommandApdu(0x80 if last else 0x90, ins, 0, 0, block,
                                                  256 if last else None)).sw
    return sw


def test_nfc_ud_neg_auth0_chaining_not_completed_block_skipped(serve: Serve) -> None:
    """The case's own construction: AUTH0 (with a vendor extension) in 30-byte blocks, the
    second never sent → error; AUTH1 → error; CONTROL FLOW → 9000."""
    _, reader = serve()
    assert reader.select().sw == OK
    vendor = enc(0xB1, b"\x00\x00\x01" + enc(0x01, bytes(30)))
    assert _send_chained_skipping_block(reader, 0x80, reader.auth0_data(False, extra=vendor)) != OK
    assert reader.send(0x80, 0x81, enc(0x41, b"\x01") + enc(0x9E, bytes(64))).sw != OK
    assert reader.send(0x80, 0x3C, enc(0x41, b"\x00") + enc(0x42, b"\x00"), le=None).sw == OK


def test_nfc_ud_neg_auth1_chaining_not_completed_block_skipped(serve: Serve) -> None:
    """AUTH1 in 30-byte blocks, the second never sent → error; the step-up SELECT still works."""
    served, reader = serve()
    assert reader.select().sw == OK and reader.auth0().sw == OK
    assert _send_chained_skipping_block(reader, 0x81, reader.auth1_data()) != OK
    assert served.terminal.select(STEP_UP).sw == OK
