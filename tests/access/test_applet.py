"""The PIV applet over loopback: SELECT, GET DATA, GENERAL AUTHENTICATE, VERIFY, chaining."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hcekit import SW, CommandApdu, hookimpl, tlv
from hcekit.store import MemoryStore
from hcekit.terminal import LoopbackTransport, Terminal
from hcekit.trace import TraceRecord
from hcekit_access import PIV_AID, AccessPlugin, BadgeRequest
from hcekit_access.objects import (
    NON_FEDERAL_FASCN,
    Chuid,
    parse_certificate_object,
    unwrap_object,
)

from .conftest import BadgeFactory

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "piv_fascn_yubico_chuid.json").read_text())


def get_data(tag: str, le: int | None = 256) -> CommandApdu:
    body = bytes.fromhex(tag)
    return CommandApdu(0x00, 0xCB, 0x3F, 0xFF, b"\x5c" + bytes((len(body),)) + body, le)


def general_authenticate(challenge: bytes, p1: int = 0x11, p2: int = 0x9E,
                         template: bytes | None = None) -> CommandApdu:
    if template is None:
        template = tlv.encode(0x7C, [tlv.encode(0x82, b""), tlv.encode(0x81, challenge)])
    return CommandApdu(0x00, 0x87, p1, p2, template, 256)


@pytest.fixture
def badge(badge_rig: BadgeFactory) -> tuple[Terminal, AccessPlugin]:
    rig, plugin = badge_rig()
    rig.terminal.connect()
    return rig.terminal, plugin


# -- SELECT ---------------------------------------------------------------------------


@pytest.mark.parametrize("aid", ["A000000308", "A00000030800001000", "A000000308000010000100"])
def test_select_answers_the_application_property_template(
        badge: tuple[Terminal, AccessPlugin], aid: str) -> None:
    terminal, _ = badge
    response = terminal.select(bytes.fromhex(aid))
    assert response.sw == SW.NO_ERROR
    (apt,) = tlv.parse(response.data)
    assert apt.tag == 0x61
    fields = {c.tag: c for c in apt.children()}
    assert fields[0x4F].value == bytes.fromhex("000010000100")
    assert tlv.find(fields[0x79].value, 0x4F) == bytes.fromhex("A000000308")
    assert tlv.find(fields[0xAC].value, 0x80) == b"\x11"


def test_select_with_p2_0c_returns_no_data(badge: tuple[Terminal, AccessPlugin]) -> None:
    terminal, _ = badge
    response = terminal.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, PIV_AID))
    assert (response.sw, response.data) == (SW.NO_ERROR, b"")
    assert terminal.transmit(get_data("5FC102")).sw == SW.NO_ERROR


def test_other_aids_are_not_ours(badge: tuple[Terminal, AccessPlugin]) -> None:
    terminal, _ = badge
    assert terminal.select(bytes.fromhex("A000000309")).sw == SW.FILE_NOT_FOUND
    # longer than the PIV AID: not a truncation of it
    assert terminal.select(PIV_AID + b"\x00").sw == SW.FILE_NOT_FOUND


# -- GET DATA -----------------------------------------------------------------------------


def test_chuid_and_certificate_belong_together(badge: tuple[Terminal, AccessPlugin]) -> None:
    terminal, plugin = badge
    terminal.select(PIV_AID)
    chuid = Chuid.parse(unwrap_object(terminal.transmit(get_data("5FC102")).check().data))
    assert chuid.fascn == NON_FEDERAL_FASCN.encode()
    assert chuid.uuid is not None
    container = unwrap_object(terminal.transmit(get_data("5FC101")).check().data)
    cert = x509.load_der_x509_certificate(parse_certificate_object(container))
    assert plugin.badge is not None
    assert cert == plugin.badge.certificate
    assert f"urn:uuid:{chuid.uuid}" in cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
    assert chuid.expiration == cert.not_valid_after_utc.strftime("%Y%m%d")


def test_chuid_layout_matches_yubico_template(badge_rig: BadgeFactory) -> None:
    """Same FASC-N, zero GUID, same expiry: byte for byte the CHUID Yubico writes."""
    template = VECTORS["chuid_template"]
    chuid = Chuid(NON_FEDERAL_FASCN.encode(), bytes(16), "20300101")
    assert chuid.encode() == bytes.fromhex(template["value"] + template["trailer"])


def test_certificate_answer_is_chained_over_61xx(badge_rig: BadgeFactory) -> None:
    rig, plugin = badge_rig()
    raw = Terminal(LoopbackTransport(rig.host), auto_get_response=False)
    with raw.tap():
        raw.select(PIV_AID)
        first = raw.transmit(get_data("5FC101"))
        assert first.sw1 == 0x61 and len(first.data) == 256
        data = bytearray(first.data)
        response = first
        while response.sw1 == 0x61:
            response = raw.transmit(CommandApdu(0x00, 0xC0, 0, 0, b"", response.sw2 or 256))
            data += response.data
        assert response.sw == SW.NO_ERROR
    assert plugin.badge is not None
    assert parse_certificate_object(unwrap_object(bytes(data))) == plugin.badge.certificate_der


@pytest.mark.parametrize("tag", ["7E", "5FC10C", "5FC107"])
def test_discovery_history_and_ccc_are_present(badge: tuple[Terminal, AccessPlugin],
                                               tag: str) -> None:
    terminal, _ = badge
    terminal.select(PIV_AID)
    response = terminal.transmit(get_data(tag)).check()
    (obj,) = tlv.parse(response.data)
    if tag == "7E":
        assert obj.tag == 0x7E
        assert tlv.find(obj.value, 0x4F) == PIV_AID
        assert tlv.find(obj.value, 0x5F2F) == b"\x40\x00"
    else:
        assert obj.tag == 0x53


@pytest.mark.parametrize(("command", "sw"), [
    (get_data("5FC105"), SW.FILE_NOT_FOUND),  # PIV Authentication certificate: not on a badge
    (get_data("5FC103"), SW.FILE_NOT_FOUND),  # fingerprints
    (get_data("5FC1FF"), SW.FILE_NOT_FOUND),
    (CommandApdu(0x00, 0xCB, 0x3F, 0x00, bytes.fromhex("5C035FC102"), 256), SW.INCORRECT_P1P2),
    (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, bytes.fromhex("5D035FC102"), 256), SW.INCORRECT_DATA),
    (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C055FC102"), 256), SW.INCORRECT_DATA),
    (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C035FC1020000"), 256),
     SW.INCORRECT_DATA),
    (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C00"), 256), SW.INCORRECT_DATA),
    (CommandApdu(0x00, 0xCB, 0x3F, 0xFF, b"", 256), SW.INCORRECT_DATA),
    (CommandApdu(0x80, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C035FC102"), 256),
     SW.CLA_NOT_SUPPORTED),
    (CommandApdu(0x0C, 0xCB, 0x3F, 0xFF, bytes.fromhex("5C035FC102"), 256),
     SW.SECURE_MESSAGING_NOT_SUPPORTED),
    (CommandApdu(0x00, 0xB0, 0x00, 0x00, b"", 256), SW.INS_NOT_SUPPORTED),
])
def test_bad_requests_get_the_right_status_word(badge: tuple[Terminal, AccessPlugin],
                                                command: CommandApdu, sw: int) -> None:
    terminal, _ = badge
    terminal.select(PIV_AID)
    assert terminal.transmit(command).sw == sw
    # the card keeps serving
    assert terminal.transmit(get_data("5FC102")).sw == SW.NO_ERROR


# -- GENERAL AUTHENTICATE ---------------------------------------------------------------


def _signature(response_data: bytes) -> bytes:
    (outer,) = tlv.parse(response_data)
    assert outer.tag == 0x7C
    (inner,) = outer.children()
    assert inner.tag == 0x82
    return inner.value


@pytest.mark.parametrize("hash_algorithm", [hashes.SHA256(), hashes.SHA1(), hashes.SHA384()])
def test_card_authentication_key_signs_the_challenge(
        badge: tuple[Terminal, AccessPlugin], hash_algorithm: hashes.HashAlgorithm) -> None:
    terminal, plugin = badge
    terminal.select(PIV_AID)
    digest = hashes.Hash(hash_algorithm)
    digest.update(b"door 7, 08:59:59")
    challenge = digest.finalize()
    signature = _signature(terminal.transmit(general_authenticate(challenge)).check().data)
    assert plugin.badge is not None
    key = plugin.badge.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, challenge, ec.ECDSA(utils.Prehashed(hash_algorithm)))


def test_challenge_order_in_template_does_not_matter(badge: tuple[Terminal, AccessPlugin]) -> None:
    terminal, plugin = badge
    terminal.select(PIV_AID)
    challenge = bytes(range(32))
    template = tlv.encode(0x7C, [tlv.encode(0x81, challenge), tlv.encode(0x82, b"")])
    signature = _signature(
        terminal.transmit(general_authenticate(b"", template=template)).check().data)
    assert plugin.badge is not None
    key = plugin.badge.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, challenge, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def test_chained_general_authenticate_is_reassembled(badge: tuple[Terminal, AccessPlugin]) -> None:
    terminal, plugin = badge
    terminal.select(PIV_AID)
    challenge = bytes(range(100, 132))
    data = general_authenticate(challenge).data
    first = terminal.transmit(CommandApdu(0x10, 0x87, 0x11, 0x9E, data[:10]))
    assert first.sw == SW.NO_ERROR and not first.data
    last = terminal.transmit(CommandApdu(0x00, 0x87, 0x11, 0x9E, data[10:], 256)).check()
    assert plugin.badge is not None
    key = plugin.badge.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(_signature(last.data), challenge, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


@pytest.mark.parametrize(("command", "sw"), [
    (general_authenticate(bytes(32), p2=0x9A), SW.INCORRECT_P1P2),
    (general_authenticate(bytes(32), p2=0x9C), SW.INCORRECT_P1P2),
    (general_authenticate(bytes(32), p1=0x14), SW.INCORRECT_P1P2),
    (general_authenticate(bytes(32), p1=0x07), SW.INCORRECT_P1P2),
    (general_authenticate(bytes(31)), SW.INCORRECT_DATA),
    (general_authenticate(b""), SW.INCORRECT_DATA),
    (general_authenticate(b"", template=tlv.encode(0x7C, [tlv.encode(0x81, bytes(32))])),
     SW.INCORRECT_DATA),
    (general_authenticate(b"", template=tlv.encode(0x7C, [tlv.encode(0x80, b""),
                                                          tlv.encode(0x81, bytes(32))])),
     SW.INCORRECT_DATA),
    (general_authenticate(b"", template=tlv.encode(0x7C, [tlv.encode(0x82, b""),
                                                          tlv.encode(0x85, bytes(65))])),
     SW.INCORRECT_DATA),
    (general_authenticate(b"", template=tlv.encode(0x7D, [tlv.encode(0x82, b""),
                                                          tlv.encode(0x81, bytes(32))])),
     SW.INCORRECT_DATA),
    (general_authenticate(b"", template=bytes.fromhex("7C0582008120")), SW.INCORRECT_DATA),
])
def test_general_authenticate_refusals(badge: tuple[Terminal, AccessPlugin],
                                       command: CommandApdu, sw: int) -> None:
    terminal, _ = badge
    terminal.select(PIV_AID)
    assert terminal.transmit(command).sw == sw
    assert terminal.transmit(general_authenticate(bytes(32))).sw == SW.NO_ERROR


class _Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    @hookimpl
    def hcekit_trace(self, record: TraceRecord) -> None:
        self.records.append(record)


def test_authentication_and_pin_exchanges_are_marked_sensitive() -> None:
    from hcekit.testing import loopback_rig

    recorder = _Recorder()
    rig = loopback_rig([AccessPlugin(), recorder])
    with rig.terminal.tap():
        rig.terminal.select(PIV_AID)
        rig.terminal.transmit(get_data("5FC102"))
        rig.terminal.transmit(general_authenticate(bytes(32)))
        rig.terminal.transmit("00200080083132333435363737")
    rig.close()
    sensitive = [r.command[1] for r in recorder.records if r.sensitive]
    plain = [r.command[1] for r in recorder.records if not r.sensitive]
    assert sensitive == [0x87, 0x20]
    assert 0xCB in plain


# -- VERIFY -----------------------------------------------------------------------------


def pin(text: str) -> bytes:
    return text.encode().ljust(8, b"\xff")


def test_pin_status_verify_and_reset(badge: tuple[Terminal, AccessPlugin]) -> None:
    terminal, _ = badge
    terminal.select(PIV_AID)
    assert terminal.transmit("0020008000").sw == 0x63C3
    assert terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("123456"))).sw == SW.NO_ERROR
    assert terminal.transmit("0020008000").sw == SW.NO_ERROR
    assert terminal.transmit("0020FF80").sw == SW.NO_ERROR  # reset security status
    assert terminal.transmit("00201080").sw == SW.INCORRECT_P1P2
    assert terminal.transmit("0020008000").sw == 0x63C3
    assert terminal.transmit("00200081").sw == SW.REFERENCED_DATA_NOT_FOUND
    assert terminal.transmit("0020008003313233").sw == SW.INCORRECT_DATA


def test_wrong_pins_block_and_the_block_survives_a_restart() -> None:
    from hcekit.testing import loopback_rig

    store = MemoryStore()
    rig = loopback_rig([AccessPlugin()], store=store)
    terminal = rig.terminal
    with terminal.tap():
        terminal.select(PIV_AID)
        assert terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("000000"))).sw == 0x63C2
        assert terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("000000"))).sw == 0x63C1
    rig.close()
    rig = loopback_rig([AccessPlugin()], store=store)
    terminal = rig.terminal
    with terminal.tap():
        terminal.select(PIV_AID)
        assert terminal.transmit("0020008000").sw == 0x63C1
        assert terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("000000"))).sw == \
            SW.AUTHENTICATION_METHOD_BLOCKED
        assert terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("123456"))).sw == \
            SW.AUTHENTICATION_METHOD_BLOCKED
        # the Card Authentication key needs no PIN: the door still works
        assert terminal.transmit(general_authenticate(bytes(32))).sw == SW.NO_ERROR
    rig.close()


def test_custom_pin_from_personalization(badge_rig: BadgeFactory) -> None:
    rig, _ = badge_rig(BadgeRequest(pin="24681357"))
    with rig.terminal.tap():
        rig.terminal.select(PIV_AID)
        assert rig.terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("123456"))).sw == 0x63C2
        assert rig.terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, b"24681357")).sw == \
            SW.NO_ERROR


def test_two_cards_on_one_store_never_spend_the_same_pin_try() -> None:
    """Card B's wrong PIN lands while card A is between reading and writing the retry counter:
    both tries count (issue 16: state is read inside the transaction that commits it)."""
    import threading

    from hcekit.store import PluginStore
    from hcekit.testing import loopback_rig
    from hcekit_access.storage import KEY_PIN_TRIES

    threads: list[threading.Thread] = []

    class InterleavingStore(PluginStore):
        other_card: list[Terminal] = []

        def get(self, key: str, default: bytes | None = None) -> bytes | None:
            value = super().get(key, default)
            if key == KEY_PIN_TRIES and self.other_card:
                terminal = self.other_card.pop()

                def wrong_pin() -> None:
                    with terminal.tap():
                        terminal.select(PIV_AID)
                        terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("999999")))

                thread = threading.Thread(target=wrong_pin)
                threads.append(thread)
                thread.start()
                # Let B finish if it can; if this card holds the store's transaction, B waits.
                thread.join(timeout=2.0)
            return value

    class Backend(MemoryStore):
        def namespace(self, name: str) -> PluginStore:
            return InterleavingStore(self, name)

    store = Backend()
    a, b = loopback_rig([AccessPlugin()], store=store), loopback_rig([AccessPlugin()], store=store)
    with a.terminal.tap():
        a.terminal.select(PIV_AID)
        InterleavingStore.other_card.append(b.terminal)
        a.terminal.transmit(CommandApdu(0, 0x20, 0, 0x80, pin("000000")))
    for thread in threads:
        thread.join()
    assert threads, "card B's VERIFY never ran"
    assert store.namespace("access").get_int(KEY_PIN_TRIES) == 1
    a.close()
    b.close()
