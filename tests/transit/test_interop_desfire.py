"""Interop: the PyPI ``python-desfire`` client drives the card through a real pcscd + vpcd.

python-desfire speaks native DESFire frames through its pyscard ``PCSCDevice``.
:class:`IsoWrappingDevice` (test side only; the card is unchanged) does what
an HCE-aware reader does: one ISO SELECT of the PICC DF name on the first
frame, then every native frame wrapped as ``90 INS 00 00 Lc data 00`` and
every ``data 91 xx`` answer turned back into ``xx data``.

Found while writing this (documented in docs/transit.md): python-desfire
0.1.5 appends the *last* 8 bytes of the CMAC to MACed commands, where EV1
(and this card, and python-desfire's own response check) use the *first* 8.
Its MACed writes are therefore refused with 91 1E INTEGRITY_ERROR and change
nothing; the test pins that, then shows the same write succeeding once the
client-side truncation is corrected in a test subclass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hcekit.store import MemoryStore
from hcekit.testing.pcsc import PcscCard
from hcekit.testing.requirements import missing
from hcekit_transit import PICC_DF_NAME, TRANSIT_AID, IssuerKeys, TransitPlugin
from hcekit_transit.crypto import crc32
from hcekit_transit.keys import SYSTEM_IDENTIFIER
from hcekit_transit.layout import CardProfile, personalize
from hcekit_transit.persist import CardStore

from .conftest import UID

pytestmark = [pytest.mark.pcsc, pytest.mark.interop]


def _need_desfire() -> Any:
    try:
        import desfire
    except ImportError:
        reason = "python-desfire is not installed (pip install 'hcekit[interop]')"
        missing(reason)
    return desfire


desfire = _need_desfire()
from desfire import DESFire  # noqa: E402
from desfire.devices.base import Device  # noqa: E402
from desfire.devices.pcsc import PCSCDevice  # noqa: E402
from desfire.diversify import diversify_key  # noqa: E402
from desfire.enums import (  # noqa: E402
    DESFireCommunicationMode,
    DESFireFileType,
    DESFireKeySettings,
    DESFireKeyType,
)
from desfire.exceptions import DESFireCommunicationError  # noqa: E402
from desfire.key import DESFireKey  # noqa: E402
from desfire.schemas import FilePermissions, FileSettings, KeySettings  # noqa: E402

APP = [0xC0, 0xFF, 0xEE]
ZERO = bytes(16)
FREE, KEY0 = 0xE, 0x0


class IsoWrappingDevice(Device):  # type: ignore[misc]
    """Native DESFire frames → ISO/IEC 7816-4 wrapped APDUs, after one ISO SELECT."""

    def __init__(self, inner: Any, df_name: bytes) -> None:
        self.inner = inner
        self.df_name = df_name
        self.selected = False
        self.log: list[tuple[list[int], list[int]]] = []

    def transceive(self, frame: list[int]) -> list[int]:
        if not self.selected:
            select = [0x00, 0xA4, 0x04, 0x00, len(self.df_name), *self.df_name, 0x00]
            response = list(self.inner.transceive(select))
            assert response[-2:] == [0x90, 0x00], f"ISO SELECT answered {response}"
            self.selected = True
        ins, data = frame[0], list(frame[1:])
        apdu = [0x90, ins, 0x00, 0x00] + ([len(data), *data] if data else []) + [0x00]
        response = list(self.inner.transceive(apdu))
        self.log.append((apdu, response))
        assert response[-2] == 0x91, f"not a DESFire answer: {response[-2:]}"
        return [response[-1], *response[:-2]]


class Ev1MacDESFire(DESFire):  # type: ignore[misc]
    """python-desfire with the one client-side fix: MACed commands carry the CMAC's first 8 bytes."""

    def _preprocess(self, apdu_cmd: list[int], tx_mode: Any, disable_crc: bool = False,
                    encryption_offset: int = 1) -> list[int]:
        if self.is_authenticated and tx_mode == DESFireCommunicationMode.CMAC:
            return list(apdu_cmd) + list(self.session_key.calculate_cmac(apdu_cmd)[:8])
        return list(super()._preprocess(apdu_cmd, tx_mode, disable_crc, encryption_offset))


def aes_key(value: bytes) -> Any:
    return DESFireKey(KeySettings(key_type=DESFireKeyType.DF_KEY_AES), value)


@pytest.fixture
def served(pcsc_card: Callable[..., PcscCard]) -> Iterator[tuple[PcscCard, MemoryStore]]:
    store = MemoryStore()
    personalize(CardStore(store.namespace("transit")), IssuerKeys.test_keys(),
                CardProfile(uid=UID))
    card = pcsc_card([TransitPlugin()], store=store, connect=False)
    yield card, store


def connect(served: tuple[PcscCard, MemoryStore], cls: type[Any] = DESFire) -> tuple[Any, Any]:
    from smartcard.System import readers

    card, _ = served
    reader = next(r for r in readers() if str(r) == card.reader)
    connection = reader.createConnection()
    connection.connect()
    # PCSCDevice wants the raw PCSCCardConnection (it reads .hcard), not pyscard's decorator
    raw = getattr(connection, "component", connection)
    device = IsoWrappingDevice(PCSCDevice(raw), PICC_DF_NAME)
    return cls(device), connection


def test_an10922_diversification_agrees_with_python_desfire() -> None:
    """python-desfire's diversify_key takes the whole input D = 01 ‖ M (AES-128 constant)."""
    keys = IssuerKeys.test_keys()
    theirs = diversify_key(list(keys.picc), list(b"\x01" + UID + b"\x00\x00\x00" + SYSTEM_IDENTIFIER))
    assert bytes(theirs) == keys.picc_key(UID)
    theirs = diversify_key(list(keys.validator),
                           list(b"\x01" + UID + TRANSIT_AID + SYSTEM_IDENTIFIER))
    assert bytes(theirs) == keys.role_key("validator", UID, TRANSIT_AID)


def test_version_authentication_and_application_list(served: Any) -> None:
    client, connection = connect(served)
    try:
        version = client.get_card_version()
        assert bytes(version.uid) == UID
        assert (version.hardware_vendor_id, version.software_major_version) == (0x04, 0x01)
        client.authenticate(0, aes_key(IssuerKeys.test_keys().picc_key(UID)))
        assert client.get_application_ids() == [list(TRANSIT_AID)]   # CMAC-verified answer
        settings = client.get_key_setting()
        assert settings.key_type == DESFireKeyType.DF_KEY_AES and settings.max_keys == 1
        # a wrong key: python-desfire sees the card's AUTHENTICATION_ERROR
        with pytest.raises(DESFireCommunicationError) as exc:
            client.authenticate(0, aes_key(bytes(16)))
        assert exc.value.status_code == 0xAE
    finally:
        connection.disconnect()


def _standard_file(mode: Any, access: int, size: int) -> Any:
    return FileSettings(encryption=mode, file_type=DESFireFileType.MDFT_STANDARD_DATA_FILE,
                        permissions=FilePermissions(access, access, access, KEY0), file_size=size)


def test_application_files_in_each_mode_and_key_changes(served: Any) -> None:
    client, connection = connect(served)
    picc_key = IssuerKeys.test_keys().picc_key(UID)
    try:
        client.authenticate(0, aes_key(picc_key))
        client.create_application(APP, KeySettings(
            settings=[DESFireKeySettings.KS_ALLOW_CHANGE_MK, DESFireKeySettings.KS_LISTING_WITHOUT_MK,
                      DESFireKeySettings.KS_CONFIGURATION_CHANGEABLE],
            key_type=DESFireKeyType.DF_KEY_AES), 3)
        assert sorted(client.get_application_ids()) == sorted([APP, list(TRANSIT_AID)])

        client.select_application(APP)
        client.authenticate(0, aes_key(ZERO))
        client.create_standard_file(1, _standard_file(DESFireCommunicationMode.PLAIN, FREE, 24))
        client.create_standard_file(2, _standard_file(DESFireCommunicationMode.CMAC, KEY0, 24))
        client.create_standard_file(3, _standard_file(DESFireCommunicationMode.ENCRYPTED, KEY0, 32))
        assert client.get_file_ids() == [1, 2, 3]
        settings = client.get_file_settings(3)
        assert settings.encryption == DESFireCommunicationMode.ENCRYPTED and settings.file_size == 32

        # enciphered: CRC32 + AES-CBC with the chained IV, both directions
        secret = list(b"fully enciphered payload!")
        assert crc32(bytes(secret) + bytes(7) + b"\x00")[-1] != 0  # the client strips trailing 00
        client.write_file_data(3, 0, DESFireCommunicationMode.ENCRYPTED, secret)
        assert client.read_file_data(3, settings) == secret + [0] * 7

        # MACed read: the card's response CMAC verifies in python-desfire
        before = client.read_file_data(2, client.get_file_settings(2))
        assert before == [0] * 24

        # plain file with free access, read and written without a session
        client.select_application(APP)
        client.write_file_data(1, 4, DESFireCommunicationMode.PLAIN, list(b"plain text"))
        plain = client.read_file_data(1, client.get_file_settings(1))
        assert bytes(plain) == bytes(4) + b"plain text" + bytes(10)

        # key changes: key 1 (XOR form) while authenticated with key 0, then key 0 itself
        client.authenticate(0, aes_key(ZERO))
        new1, new0 = bytes(range(16)), bytes(range(32, 48))
        client.change_key(1, aes_key(ZERO), aes_key(new1), 5)
        assert client.get_key_version(1) == 5
        client.change_key(0, aes_key(ZERO), aes_key(new0), 2)
        with pytest.raises(DESFireCommunicationError):
            client.authenticate(0, aes_key(ZERO))
        client.select_application(APP)
        client.authenticate(1, aes_key(new1))
        client.select_application(APP)
        client.authenticate(0, aes_key(new0))
        assert client.read_file_data(3, settings) == secret + [0] * 7

        client.select_application([0, 0, 0])
        client.authenticate(0, aes_key(picc_key))
        client.delete_application(APP)
        assert client.get_application_ids() == [list(TRANSIT_AID)]
    finally:
        connection.disconnect()


def _maced_app(client: Any) -> Any:
    client.authenticate(0, aes_key(IssuerKeys.test_keys().picc_key(UID)))
    client.create_application(APP, KeySettings(settings=[DESFireKeySettings.KS_ALLOW_CHANGE_MK],
                                               key_type=DESFireKeyType.DF_KEY_AES), 1)
    client.select_application(APP)
    client.authenticate(0, aes_key(ZERO))
    client.create_standard_file(2, _standard_file(DESFireCommunicationMode.CMAC, KEY0, 16))
    return client.get_file_settings(2)


def test_stock_client_maced_write_is_refused_and_changes_nothing(served: Any) -> None:
    client, connection = connect(served)
    try:
        settings = _maced_app(client)
        with pytest.raises(DESFireCommunicationError) as exc:
            client.write_file_data(2, 0, DESFireCommunicationMode.CMAC, list(b"maced"))
        assert exc.value.status_code == 0x1E
        client.select_application(APP)
        client.authenticate(0, aes_key(ZERO))
        assert client.read_file_data(2, settings) == [0] * 16
    finally:
        connection.disconnect()


def test_maced_write_with_ev1_mac_truncation(served: Any) -> None:
    client, connection = connect(served, Ev1MacDESFire)
    try:
        settings = _maced_app(client)
        client.write_file_data(2, 0, DESFireCommunicationMode.CMAC, list(b"maced write"))
        assert bytes(client.read_file_data(2, settings)) == b"maced write" + bytes(5)
    finally:
        connection.disconnect()
