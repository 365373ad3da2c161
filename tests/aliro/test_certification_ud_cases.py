"""The certification tool's UD-NFC-AUTH0-x.y and UD-NFC-AUTH1-x.y cases over PC/SC.

AUTH1-1.0/1.1/1.2 use the tool's own reader key, reader-system issuer key and
X.509 reader certificates (tests/vectors/aliro_cert_tool.json): a certificate
the credential must accept and one it must refuse, as known answers.
"""

from __future__ import annotations

import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.store import MemoryStore
from hcekit.testing.pcsc import PcscCard, PcscCardFactory
from hcekit_aliro import AliroPlugin, Personalization, TrustedGroup

from .conftest import World, compress
from .reader_side import OK, VECTORS, Reader, dec, get

pytestmark = pytest.mark.pcsc


def _tool_certificate(name: str) -> bytes:
    return compress(x509.load_der_x509_certificate(bytes.fromhex(VECTORS[name])))


@pytest.fixture
def tool_reader(pcsc_card: PcscCardFactory) -> tuple[PcscCard, Reader]:
    """A credential trusting the tool's reader-system issuer, and the tool's reader."""
    group = bytes.fromhex(VECTORS["auth1_group_identifier"])
    personalization = Personalization(groups=[TrustedGroup(
        group, None, bytes.fromhex(VECTORS["auth1_issuer_public"]))])
    served = pcsc_card(AliroPlugin(personalization), store=MemoryStore())
    key = ec.derive_private_key(int(VECTORS["auth1_reader_private"], 16), ec.SECP256R1())
    reader = Reader(served.terminal, group, os.urandom(16), key,
                    certificate=_tool_certificate("auth1_10_certificate"))
    return served, reader


def test_ud_nfc_auth0_1_0(pcsc_card: PcscCardFactory, world: World) -> None:
    served = pcsc_card(AliroPlugin(world.personalization()), store=MemoryStore())
    reader = world.reader(served.terminal)
    assert reader.select().sw == OK
    r = reader.auth0()
    assert r.sw == OK
    fields = dict(dec(r.data))
    assert len(fields[0x86]) == 65 and fields[0x86][0] == 0x04 and 0x9D not in fields


def test_ud_nfc_auth0_1_1_version_that_does_not_exist(pcsc_card: PcscCardFactory, world: World) -> None:
    served = pcsc_card(AliroPlugin(world.personalization()), store=MemoryStore())
    reader = world.reader(served.terminal)
    assert reader.select().sw == OK
    versions = dict(dec(reader.fci[2:]))[0x5C]          # the A5 template's 5C
    assert b"\xff\xff" not in [versions[i:i + 2] for i in range(0, len(versions), 2)]
    assert reader.send(0x80, 0x80, reader.auth0_data(False, version=b"\xff\xff")).sw != OK


@pytest.mark.parametrize("bad_key", [
    "02" + "A6E979B0F9244E8656CB4A5CFEDAA742ED43AF6612DB5CFD8950A1850EA488C3"
           "14C9C12B497BD260C4A2FE1CD8CCF84D45D290456E7622CCD441ACE78CC7DE34",
    "04" + "A6E979B0F9244E8656CB4A5CFEDAA742ED43AF6612DB5CFD8950A1850EA488C3C9"
           "14C9C12B497BD260C4A2FE1CD8CCF84D45D290456E7622CCD441ACE78CC7DE34",
    "04" + "A6E979B0F9244E8656CB4A5CFEDAA742ED43AF6612DB5CFD8950A1850EA488C3"
           "14C9C12B497BD260C4A2FE1CD8CCF84D45D290456E7622CCD441ACE78CC7DE34C9",
], ids=["type-02", "x-33-bytes", "y-33-bytes"])
def test_ud_nfc_auth0_1_2_invalid_reader_ephemeral_key(pcsc_card: PcscCardFactory, world: World,
                                                        bad_key: str) -> None:
    served = pcsc_card(AliroPlugin(world.personalization()), store=MemoryStore())
    reader = world.reader(served.terminal)
    assert reader.select().sw == OK
    data = reader.auth0_data(False)
    from .reader_side import enc, pub

    data = data.replace(enc(0x87, pub(reader.eph)), enc(0x87, bytes.fromhex(bad_key)))  # type: ignore[arg-type]
    assert reader.send(0x80, 0x80, data).sw == 0x6A80


def test_ud_nfc_auth0_1_3_second_auth0_fresh_key(pcsc_card: PcscCardFactory, world: World) -> None:
    served = pcsc_card(AliroPlugin(world.personalization()), store=MemoryStore())
    reader = world.reader(served.terminal)
    assert reader.select().sw == OK
    first, second = reader.auth0(), reader.auth0()
    assert first.sw == second.sw == OK
    assert get(first.data, 0x86) != get(second.data, 0x86)
    assert get(second.data, 0xB2) is None
    assert reader.auth1()[0].sw == OK            # the second AUTH0 is the live transaction


def _standard_then_select(pcsc_card: PcscCardFactory, world: World) -> tuple[PcscCard, Reader]:
    served = pcsc_card(AliroPlugin(world.personalization()), store=MemoryStore())
    reader = world.reader(served.terminal)
    assert reader.select().sw == OK and reader.auth0().sw == OK and reader.auth1()[0].sw == OK
    served.terminal.disconnect()
    served.terminal.connect()
    reader.eph = None
    assert reader.select().sw == OK
    return served, reader


def test_ud_nfc_auth0_2_0_fast_cryptogram_contents(pcsc_card: PcscCardFactory, world: World) -> None:
    _, reader = _standard_then_select(pcsc_card, world)
    r = reader.auth0(fast=True)
    assert r.sw == OK and get(r.data, 0xB2) is None
    fields = dict(dec(reader.open_cryptogram(get(r.data, 0x9D) or b"") or b""))
    assert len(fields[0x5E]) == 2 and len(fields[0x91]) == 20 and len(fields[0x92]) == 20


def test_ud_nfc_auth0_2_1_two_fast_auth0(pcsc_card: PcscCardFactory, world: World) -> None:
    _, reader = _standard_then_select(pcsc_card, world)
    cryptograms = []
    for _ in range(2):
        reader.eph = None
        reader.tool_vectors = False
        r = reader.auth0(fast=True)
        cryptograms.append(get(r.data, 0x9D) or b"")
        assert reader.open_cryptogram(cryptograms[-1]) is not None
    assert cryptograms[0] != cryptograms[1]


def test_ud_nfc_auth0_3_0_standard_has_no_cryptogram(pcsc_card: PcscCardFactory, world: World) -> None:
    _, reader = _standard_then_select(pcsc_card, world)
    r = reader.auth0(fast=False)
    assert r.sw == OK and get(r.data, 0x9D) is None


def test_ud_nfc_auth1_1_0_tool_certificate_in_auth1_key_slot(tool_reader: tuple[PcscCard, Reader]) -> None:
    _, reader = tool_reader
    assert reader.select().sw == OK and reader.auth0().sw == OK
    r, plain = reader.auth1(want_public_key=False, with_cert=True)
    assert r.sw == OK and len(dict(dec(plain))[0x4E]) == 8


def test_ud_nfc_auth1_1_1_damaged_compressed_certificate(tool_reader: tuple[PcscCard, Reader]) -> None:
    _, reader = tool_reader
    assert reader.select().sw == OK and reader.auth0().sw == OK
    assert reader.certificate is not None
    damaged = bytearray(reader.certificate)
    damaged[5] = damaged[6] = 0xFF
    reader.certificate = bytes(damaged)
    r, _ = reader.auth1(want_public_key=False, with_cert=True)
    assert r.sw != OK


def test_ud_nfc_auth1_1_2_certificate_of_another_issuer(tool_reader: tuple[PcscCard, Reader]) -> None:
    _, reader = tool_reader
    reader.certificate = _tool_certificate("auth1_12_certificate")
    assert reader.select().sw == OK and reader.auth0().sw == OK
    r, _ = reader.auth1(want_public_key=False, with_cert=True)
    assert r.sw == 0x6A80
