"""A DESFire EV1 PICC in native frames: commands in, (status, data) out. No I/O.

:class:`DesfireCard` is the card side of the EV1 protocol for AES-128 keys:
application and file management, AES authentication, plain / MACed / fully
enciphered communication, data, backup, value and record files, and the
transaction model (backup, value and record files change only on
CommitTransaction; anything else that ends the session discards them). The
ISO/IEC 7816-4 wrapping (CLA 90, SW 91xx) is the plugin's job.

Session rules kept from EV1: every error status ends the authentication and
discards the pending transaction; SelectApplication and a new Authenticate
end the authentication; while authenticated every command and response
moves the chained IV (see :mod:`.crypto`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from hcekit.errors import StoreError
from hcekit.sm import zero_pad

from .crypto import (
    BLOCK,
    MAC_LENGTH,
    ZERO_IV,
    SessionCipher,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    crc32,
    rotate_left,
    session_key,
    tags_equal,
)
from .model import (
    FREE,
    KEY_TYPE_AES,
    KEY_TYPE_MASK,
    NEVER,
    PICC_AID,
    AccessRights,
    Application,
    CommMode,
    DataFile,
    DesfireFile,
    FileType,
    Picc,
    RecordFile,
    ValueFile,
)
from .persist import CardStore
from .status import DesfireError, DfStatus

__all__ = ["DesfireCard", "Ins", "FRAME_SIZE", "VERSION_HW", "VERSION_SW"]

#: Most data bytes in one response frame (EV1 sends at most 59 plus the status).
FRAME_SIZE = 59
MAX_FILES = 32
MAX_KEYS = 14
#: Bytes of file storage the emulated card offers (a DESFire EV1 4K).
CAPACITY = 4096
#: Longest command accepted across continuation frames.
MAX_COMMAND = CAPACITY + 64
_INT32 = (-(2**31), 2**31 - 1)

#: GetVersion frames: vendor NXP-compatible DESFire EV1 4K (hardware, then software).
VERSION_HW = bytes((0x04, 0x01, 0x01, 0x01, 0x00, 0x18, 0x05))
VERSION_SW = bytes((0x04, 0x01, 0x01, 0x01, 0x04, 0x18, 0x05))
_BATCH = b"HCEKT"
_PRODUCTION = bytes((0x01, 0x26))

# Key settings bits.
KS_ALLOW_CHANGE_MK = 0x01
KS_FREE_LISTING = 0x02
KS_FREE_CREATE_DELETE = 0x04
KS_CONFIG_CHANGEABLE = 0x08
CHANGE_KEY_SAME = 0xE
CHANGE_KEY_FROZEN = 0xF

# Value file option bits.
VALUE_LIMITED_CREDIT = 0x01
VALUE_FREE_GET = 0x02


class Ins(IntEnum):
    """Native DESFire EV1 command codes this card implements."""

    AUTHENTICATE_AES = 0xAA
    ADDITIONAL_FRAME = 0xAF
    GET_VERSION = 0x60
    GET_CARD_UID = 0x51
    FREE_MEMORY = 0x6E
    FORMAT_PICC = 0xFC
    SELECT_APPLICATION = 0x5A
    GET_APPLICATION_IDS = 0x6A
    CREATE_APPLICATION = 0xCA
    DELETE_APPLICATION = 0xDA
    GET_KEY_SETTINGS = 0x45
    CHANGE_KEY_SETTINGS = 0x54
    GET_KEY_VERSION = 0x64
    CHANGE_KEY = 0xC4
    GET_FILE_IDS = 0x6F
    GET_FILE_SETTINGS = 0xF5
    CREATE_STD_DATA_FILE = 0xCD
    CREATE_BACKUP_DATA_FILE = 0xCB
    CREATE_VALUE_FILE = 0xCC
    CREATE_LINEAR_RECORD_FILE = 0xC1
    CREATE_CYCLIC_RECORD_FILE = 0xC0
    DELETE_FILE = 0xDF
    READ_DATA = 0xBD
    WRITE_DATA = 0x3D
    GET_VALUE = 0x6C
    CREDIT = 0x0C
    DEBIT = 0xDC
    LIMITED_CREDIT = 0x1C
    WRITE_RECORD = 0x3B
    READ_RECORDS = 0xBB
    CLEAR_RECORD_FILE = 0xEB
    COMMIT_TRANSACTION = 0xC7
    ABORT_TRANSACTION = 0xA7


def _u24(raw: bytes) -> int:
    return int.from_bytes(raw, "little")


def _s32(raw: bytes) -> int:
    return int.from_bytes(raw, "little", signed=True)


def _fail(status: DfStatus, message: str) -> DesfireError:
    return DesfireError(status, message)


def _need_length(data: bytes, *allowed: int) -> None:
    if len(data) not in allowed:
        raise _fail(DfStatus.LENGTH_ERROR,
                    f"{len(data)} parameter bytes; expected {' or '.join(map(str, allowed))}")


@dataclass
class _Auth:
    key_no: int
    cipher: SessionCipher


@dataclass
class _PendingAuth:
    key_no: int
    key: bytes
    rnd_b: bytes
    challenge: bytes


class _Transaction:
    """Changes to backup, value and record files waiting for CommitTransaction."""

    __slots__ = ("debited", "files", "limited_credit_used", "new_records")

    def __init__(self) -> None:
        self.files: dict[int, DesfireFile] = {}
        self.new_records: dict[int, bytearray] = {}
        self.debited: dict[int, int] = {}
        self.limited_credit_used: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.files or self.new_records)


Handler = Callable[[int, bytes], bytes]


class DesfireCard:
    """The PICC: its persistent state (via :class:`CardStore`) and one session."""

    def __init__(self, store: CardStore, picc: Picc, apps: dict[bytes, Application],
                 *, random: Callable[[int], bytes] = os.urandom) -> None:
        self._store = store
        self.picc = picc
        self.apps = dict(apps)
        self._random = random
        self._handlers: dict[int, Handler] = {
            Ins.GET_VERSION: self._get_version,
            Ins.GET_CARD_UID: self._get_card_uid,
            Ins.FREE_MEMORY: self._free_memory,
            Ins.FORMAT_PICC: self._format_picc,
            Ins.AUTHENTICATE_AES: self._authenticate,
            Ins.SELECT_APPLICATION: self._select_application,
            Ins.GET_APPLICATION_IDS: self._get_application_ids,
            Ins.CREATE_APPLICATION: self._create_application,
            Ins.DELETE_APPLICATION: self._delete_application,
            Ins.GET_KEY_SETTINGS: self._get_key_settings,
            Ins.CHANGE_KEY_SETTINGS: self._change_key_settings,
            Ins.GET_KEY_VERSION: self._get_key_version,
            Ins.CHANGE_KEY: self._change_key,
            Ins.GET_FILE_IDS: self._get_file_ids,
            Ins.GET_FILE_SETTINGS: self._get_file_settings,
            Ins.CREATE_STD_DATA_FILE: self._create_data_file,
            Ins.CREATE_BACKUP_DATA_FILE: self._create_data_file,
            Ins.CREATE_VALUE_FILE: self._create_value_file,
            Ins.CREATE_LINEAR_RECORD_FILE: self._create_record_file,
            Ins.CREATE_CYCLIC_RECORD_FILE: self._create_record_file,
            Ins.DELETE_FILE: self._delete_file,
            Ins.READ_DATA: self._read_data,
            Ins.WRITE_DATA: self._write_data,
            Ins.GET_VALUE: self._get_value,
            Ins.CREDIT: self._change_value,
            Ins.DEBIT: self._change_value,
            Ins.LIMITED_CREDIT: self._change_value,
            Ins.WRITE_RECORD: self._write_record,
            Ins.READ_RECORDS: self._read_records,
            Ins.CLEAR_RECORD_FILE: self._clear_record_file,
            Ins.COMMIT_TRANSACTION: self._commit,
            Ins.ABORT_TRANSACTION: self._abort,
        }
        self.reset()

    # -- session -------------------------------------------------------------------------

    def reset(self) -> None:
        """Field lost or application deselected: back to the PICC level, nothing pending."""
        self.selected: bytes = PICC_AID
        self._auth: _Auth | None = None
        self._pending_auth: _PendingAuth | None = None
        self._txn = _Transaction()
        self._frames: list[bytes] = []
        #: A write command arriving in several frames: (ins, bytes so far, total expected).
        self._incoming: tuple[int, bytearray, int] | None = None

    @property
    def authenticated_key(self) -> int | None:
        return self._auth.key_no if self._auth is not None else None

    @property
    def transaction_pending(self) -> bool:
        return bool(self._txn)

    def select(self, aid: bytes) -> None:
        """Select an application (or the PICC level) as SelectApplication does."""
        if aid != PICC_AID and aid not in self.apps:
            raise _fail(DfStatus.APPLICATION_NOT_FOUND, f"no application {aid.hex().upper()}")
        self.reset()
        self.selected = aid

    def find_df_name(self, df_name: bytes) -> bytes | None:
        """The AID of the application created with ISO DF name *df_name*."""
        for app in self.apps.values():
            if app.df_name and app.df_name == df_name:
                return app.aid
        return None

    # -- the exchange ----------------------------------------------------------------------

    def process(self, ins: int, data: bytes) -> tuple[int, bytes]:
        """One native command → (status byte, response data). Never raises DesfireError."""
        if ins == Ins.ADDITIONAL_FRAME:
            if self._frames:
                return self._next_frame()
            if self._pending_auth is not None:
                return self._guarded(self._authenticate_part2, ins, data)
            if self._incoming is not None:
                return self._continue_incoming(data)
            self._end_session()
            return DfStatus.ILLEGAL_COMMAND, b""
        self._frames = []
        self._pending_auth = None
        self._incoming = None
        handler = self._handlers.get(ins)
        if handler is None:
            self._end_session()
            return DfStatus.ILLEGAL_COMMAND, b""
        if ins in (Ins.WRITE_DATA, Ins.WRITE_RECORD):
            expected = self._write_length(data)
            if expected > len(data):
                self._incoming = (ins, bytearray(data), expected)
                return DfStatus.ADDITIONAL_FRAME, b""
        return self._guarded(handler, ins, data)

    def _write_length(self, data: bytes) -> int:
        """Bytes a WriteData/WriteRecord needs in all (EV1 readers send long ones in frames)."""
        app = self.apps.get(self.selected)
        f = app.files.get(data[0]) if app is not None and len(data) >= 7 else None
        if f is None:
            return 0  # the handler answers the precise error
        length = _u24(data[4:7])
        mode = CommMode.PLAIN
        keys = (f.access.write, f.access.read_write)
        if FREE not in keys and self._auth is not None and self._auth.key_no in keys:
            mode = f.comm
        overhead = {CommMode.PLAIN: length, CommMode.MACED: length + MAC_LENGTH,
                    CommMode.FULL: len(zero_pad(bytes(length + 4), BLOCK))}[mode]
        return min(7 + overhead, MAX_COMMAND)

    def _continue_incoming(self, data: bytes) -> tuple[int, bytes]:
        assert self._incoming is not None
        ins, buffered, expected = self._incoming
        buffered += data
        if len(buffered) < expected:
            return DfStatus.ADDITIONAL_FRAME, b""
        self._incoming = None
        if len(buffered) > expected:
            self._end_session()
            return DfStatus.LENGTH_ERROR, b""
        return self._guarded(self._handlers[ins], ins, bytes(buffered))

    def _guarded(self, handler: Handler, ins: int, data: bytes) -> tuple[int, bytes]:
        try:
            out = handler(ins, data)
        except DesfireError as exc:
            self._end_session()
            return exc.status, b""
        except BaseException:
            self._end_session()
            raise
        if self._pending_auth is not None:
            return DfStatus.ADDITIONAL_FRAME, out
        return self._split(out)

    def _split(self, out: bytes) -> tuple[int, bytes]:
        if self._frames:  # the handler framed its answer itself (GetVersion)
            return DfStatus.ADDITIONAL_FRAME, out
        if len(out) <= FRAME_SIZE:
            return DfStatus.OPERATION_OK, out
        self._frames = [out[i:i + FRAME_SIZE] for i in range(FRAME_SIZE, len(out), FRAME_SIZE)]
        return DfStatus.ADDITIONAL_FRAME, out[:FRAME_SIZE]

    def _next_frame(self) -> tuple[int, bytes]:
        frame = self._frames.pop(0)
        return (DfStatus.ADDITIONAL_FRAME if self._frames else DfStatus.OPERATION_OK), frame

    def _end_session(self) -> None:
        self._auth = None
        self._pending_auth = None
        self._incoming = None
        self._txn = _Transaction()
        self._frames = []

    # -- secure messaging --------------------------------------------------------------------

    def _in_plain(self, ins: int, data: bytes) -> None:
        if self._auth is not None:
            self._auth.cipher.cmac(bytes((ins,)) + data)

    def _in_protected(self, ins: int, header: bytes, body: bytes, mode: CommMode,
                      plain_length: int) -> bytes:
        """Command data after *header* as the file's mode sends it → the plain data."""
        if mode is CommMode.PLAIN or self._auth is None:
            self._in_plain(ins, header + body)
            if len(body) != plain_length:
                raise _fail(DfStatus.LENGTH_ERROR, f"{len(body)} data bytes, expected {plain_length}")
            return body
        cipher = self._auth.cipher
        if mode is CommMode.MACED:
            if len(body) != plain_length + MAC_LENGTH:
                raise _fail(DfStatus.LENGTH_ERROR,
                            f"{len(body)} bytes; expected {plain_length} data + 8 MAC")
            plain, mac = body[:-MAC_LENGTH], body[-MAC_LENGTH:]
            if not tags_equal(cipher.mac(bytes((ins,)) + header + plain), mac):
                raise _fail(DfStatus.INTEGRITY_ERROR, "command MAC does not verify")
            return plain
        expected = len(zero_pad(bytes(plain_length + 4), BLOCK))
        if len(body) != expected:
            raise _fail(DfStatus.LENGTH_ERROR, f"{len(body)} enciphered bytes, expected {expected}")
        decrypted = cipher.decrypt(body)
        plain = decrypted[:plain_length]
        check = decrypted[plain_length:plain_length + 4]
        padding = decrypted[plain_length + 4:]
        if not tags_equal(check, crc32(bytes((ins,)) + header + plain)) or any(padding):
            raise _fail(DfStatus.INTEGRITY_ERROR, "enciphered command: CRC32 or padding wrong")
        return plain

    def _reply(self, data: bytes, mode: CommMode = CommMode.PLAIN) -> bytes:
        """Response data as the session requires: plain, + CMAC, or enciphered with CRC32."""
        auth = self._auth
        if auth is None:
            return data
        if mode is CommMode.FULL:
            return auth.cipher.encrypt(zero_pad(data + crc32(data + b"\x00"), BLOCK))
        return data + auth.cipher.mac(data + b"\x00")

    # -- permission checks ---------------------------------------------------------------------

    def _app(self) -> Application:
        if self.selected == PICC_AID:
            raise _fail(DfStatus.PERMISSION_DENIED, "command needs an application, PICC selected")
        return self.apps[self.selected]

    def _key_settings(self) -> int:
        if self.selected == PICC_AID:
            return self.picc.key_settings
        return self.apps[self.selected].key_settings

    def _require_key(self, key_no: int, what: str) -> None:
        if self._auth is None or self._auth.key_no != key_no:
            raise _fail(DfStatus.AUTHENTICATION_ERROR, f"{what} needs authentication with key {key_no}")

    def _require_master_unless(self, setting_bit: int, what: str) -> None:
        if not self._key_settings() & setting_bit:
            self._require_key(0, what)

    def _file_mode(self, f: DesfireFile, keys: tuple[int, ...], what: str) -> CommMode:
        """Check the access rights *keys* allow; the communication mode to use."""
        if FREE in keys:
            return CommMode.PLAIN
        if self._auth is not None and self._auth.key_no in keys:
            return f.comm
        if all(k == NEVER for k in keys):
            raise _fail(DfStatus.PERMISSION_DENIED, f"{what}: access never allowed")
        raise _fail(DfStatus.AUTHENTICATION_ERROR, f"{what}: not authenticated with an allowed key")

    def _file(self, app: Application, fid: int) -> DesfireFile:
        f = app.files.get(fid)
        if f is None:
            raise _fail(DfStatus.FILE_NOT_FOUND, f"no file {fid:02X}")
        return f

    def _pending_or_committed(self, fid: int, f: DesfireFile) -> DesfireFile:
        return self._txn.files.get(fid, f)

    def _save_app(self, app: Application) -> None:
        self._save(apps=[app])
        self.apps[app.aid] = app

    def _save(self, **changes: Any) -> None:
        """Write through to the store; a failed write is EV1's EEPROM_ERROR, memory unchanged."""
        try:
            self._store.save(**changes)
        except (StoreError, sqlite3.Error, OSError) as exc:
            raise _fail(DfStatus.EEPROM_ERROR, f"store write failed: {exc}") from exc

    # -- card level ------------------------------------------------------------------------------

    def _get_version(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        self._in_plain(ins, data)
        third = self.picc.uid + _BATCH + _PRODUCTION
        protected = self._reply(VERSION_HW + VERSION_SW + third)
        self._frames = [protected[7:14], protected[14:]]
        return protected[:7]

    def _get_card_uid(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        if self._auth is None:
            raise _fail(DfStatus.AUTHENTICATION_ERROR, "GetCardUID needs authentication")
        self._in_plain(ins, data)
        return self._reply(self.picc.uid, CommMode.FULL)

    def _used_bytes(self) -> int:
        total = 0
        for app in self.apps.values():
            for f in app.files.values():
                if isinstance(f, DataFile):
                    total += f.size
                elif isinstance(f, RecordFile):
                    total += f.record_size * f.max_records
                else:
                    total += 4
        return total

    def _free_memory(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        self._in_plain(ins, data)
        return self._reply(max(0, CAPACITY - self._used_bytes()).to_bytes(3, "little"))

    def _format_picc(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        if self.selected != PICC_AID:
            raise _fail(DfStatus.PERMISSION_DENIED, "FormatPICC at application level")
        self._require_key(0, "FormatPICC")
        self._in_plain(ins, data)
        self._save(deleted=list(self.apps))
        self.apps = {}
        return self._reply(b"")

    # -- authentication ----------------------------------------------------------------------------

    def _key(self, key_no: int) -> bytes:
        if self.selected == PICC_AID:
            if key_no != 0:
                raise _fail(DfStatus.NO_SUCH_KEY, f"the PICC has only key 0, not {key_no}")
            return self.picc.master_key
        app = self.apps[self.selected]
        if key_no >= app.key_count:
            raise _fail(DfStatus.NO_SUCH_KEY, f"application has {app.key_count} keys, not {key_no}")
        return app.keys[key_no]

    def _authenticate(self, ins: int, data: bytes) -> bytes:
        self._auth = None
        _need_length(data, 1)
        key_no = data[0]
        key = self._key(key_no)
        rnd_b = self._random(BLOCK)
        challenge = aes_cbc_encrypt(key, ZERO_IV, rnd_b)
        self._pending_auth = _PendingAuth(key_no, key, rnd_b, challenge)
        return challenge

    def _authenticate_part2(self, ins: int, data: bytes) -> bytes:
        pending = self._pending_auth
        assert pending is not None
        self._pending_auth = None
        _need_length(data, 2 * BLOCK)
        plain = aes_cbc_decrypt(pending.key, pending.challenge, data)
        rnd_a, rnd_b_rotated = plain[:BLOCK], plain[BLOCK:]
        if not tags_equal(rnd_b_rotated, rotate_left(pending.rnd_b)):
            raise _fail(DfStatus.AUTHENTICATION_ERROR, "reader's RndB' is wrong (wrong key?)")
        answer = aes_cbc_encrypt(pending.key, data[-BLOCK:], rotate_left(rnd_a))
        self._auth = _Auth(pending.key_no, SessionCipher(session_key(rnd_a, pending.rnd_b)))
        return answer

    # -- applications ------------------------------------------------------------------------------

    def _select_application(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 3)
        self.select(bytes(data))
        return b""

    def _get_application_ids(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        if self.selected != PICC_AID:
            raise _fail(DfStatus.PERMISSION_DENIED, "GetApplicationIDs at application level")
        self._require_master_unless(KS_FREE_LISTING, "GetApplicationIDs")
        self._in_plain(ins, data)
        return self._reply(b"".join(sorted(self.apps)))

    def _create_application(self, ins: int, data: bytes) -> bytes:
        if self.selected != PICC_AID:
            raise _fail(DfStatus.PERMISSION_DENIED, "CreateApplication at application level")
        if len(data) < 5:
            raise _fail(DfStatus.LENGTH_ERROR, "CreateApplication takes AID, settings, key byte")
        self._require_master_unless(KS_FREE_CREATE_DELETE, "CreateApplication")
        aid, settings, key_byte = bytes(data[:3]), data[3], data[4]
        iso = bool(key_byte & 0x20)
        df_name = b""
        if iso:
            if not 8 <= len(data) <= 23:
                raise _fail(DfStatus.LENGTH_ERROR, "ISO application needs a file ID and a DF name")
            df_name = bytes(data[7:])
        elif len(data) != 5:
            raise _fail(DfStatus.LENGTH_ERROR, "extra bytes without the ISO file ID flag")
        key_count = key_byte & 0x0F
        if aid == PICC_AID:
            raise _fail(DfStatus.PARAMETER_ERROR, "AID 000000 is the PICC")
        if key_byte & KEY_TYPE_MASK != KEY_TYPE_AES:
            raise _fail(DfStatus.PARAMETER_ERROR, "only AES-128 applications are supported")
        if not 1 <= key_count <= MAX_KEYS:
            raise _fail(DfStatus.PARAMETER_ERROR, f"key count {key_count}: 1..14")
        if aid in self.apps or (df_name and self.find_df_name(df_name) is not None):
            raise _fail(DfStatus.DUPLICATE_ERROR, f"application {aid.hex().upper()} exists")
        self._in_plain(ins, data)
        app = Application(aid, settings, (bytes(BLOCK),) * key_count, (0,) * key_count,
                          {}, df_name)
        self._save_app(app)
        return self._reply(b"")

    def _delete_application(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 3)
        aid = bytes(data)
        if aid not in self.apps:
            raise _fail(DfStatus.APPLICATION_NOT_FOUND, f"no application {aid.hex().upper()}")
        own_master = self.selected == aid and self.authenticated_key == 0
        if not own_master:
            if self.selected != PICC_AID:
                raise _fail(DfStatus.PERMISSION_DENIED, "DeleteApplication of another application")
            self._require_master_unless(KS_FREE_CREATE_DELETE, "DeleteApplication")
        self._in_plain(ins, data)
        self._save(deleted=[aid])
        del self.apps[aid]
        if self.selected == aid:
            self.reset()
            return b""
        return self._reply(b"")

    # -- keys ---------------------------------------------------------------------------------------

    def _get_key_settings(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        self._in_plain(ins, data)
        if self.selected == PICC_AID:
            return self._reply(bytes((self.picc.key_settings, KEY_TYPE_AES | 1)))
        app = self.apps[self.selected]
        return self._reply(bytes((app.key_settings, KEY_TYPE_AES | app.key_count)))

    def _get_key_version(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 1)
        key_no = data[0] & 0x0F
        self._key(key_no)
        self._in_plain(ins, data)
        if self.selected == PICC_AID:
            return self._reply(bytes((self.picc.master_key_version,)))
        return self._reply(bytes((self.apps[self.selected].key_versions[key_no],)))

    def _change_key_settings(self, ins: int, data: bytes) -> bytes:
        self._require_key(0, "ChangeKeySettings")
        if not self._key_settings() & KS_CONFIG_CHANGEABLE:
            raise _fail(DfStatus.PERMISSION_DENIED, "key settings are frozen")
        (settings,) = self._in_protected(ins, b"", data, CommMode.FULL, 1)
        if self.selected == PICC_AID:
            picc = replace(self.picc, key_settings=settings)
            self._save(picc=picc)
            self.picc = picc
        else:
            self._save_app(replace(self.apps[self.selected], key_settings=settings))
        return self._reply(b"")

    def _change_key(self, ins: int, data: bytes) -> bytes:
        if self._auth is None:
            raise _fail(DfStatus.AUTHENTICATION_ERROR, "ChangeKey needs authentication")
        if len(data) != 1 + 2 * BLOCK:
            raise _fail(DfStatus.LENGTH_ERROR, f"ChangeKey takes 33 bytes, got {len(data)}")
        key_byte, body = data[0], bytes(data[1:])
        target = key_byte & 0x0F
        if self.selected == PICC_AID:
            if target != 0 or key_byte & KEY_TYPE_MASK != KEY_TYPE_AES:
                raise _fail(DfStatus.PARAMETER_ERROR, "the PICC master key is AES key 0")
            if not self.picc.key_settings & KS_ALLOW_CHANGE_MK:
                raise _fail(DfStatus.PERMISSION_DENIED, "the PICC master key is frozen")
            self._require_key(0, "ChangeKey (PICC)")
        else:
            app = self.apps[self.selected]
            if target >= app.key_count:
                raise _fail(DfStatus.NO_SUCH_KEY, f"no key {target}")
            change = app.key_settings >> 4
            if target == 0:
                if not app.key_settings & KS_ALLOW_CHANGE_MK:
                    raise _fail(DfStatus.PERMISSION_DENIED, "the application master key is frozen")
                self._require_key(0, "ChangeKey (master)")
            elif change == CHANGE_KEY_FROZEN:
                raise _fail(DfStatus.PERMISSION_DENIED, "application keys are frozen")
            else:
                self._require_key(target if change == CHANGE_KEY_SAME else change, "ChangeKey")
        old = self._key(target)
        same = self._auth.key_no == target
        decrypted = self._auth.cipher.decrypt(body)
        head = bytes((ins, key_byte))
        if same:
            new, version = decrypted[:BLOCK], decrypted[BLOCK]
            checks = tags_equal(decrypted[17:21], crc32(head + new + bytes((version,))))
            padding = decrypted[21:]
        else:
            xored, version = decrypted[:BLOCK], decrypted[BLOCK]
            new = bytes(a ^ b for a, b in zip(xored, old, strict=True))
            checks = tags_equal(decrypted[17:21], crc32(head + xored + bytes((version,)))) \
                and tags_equal(decrypted[21:25], crc32(new))
            padding = decrypted[25:]
        if not checks or any(padding):
            raise _fail(DfStatus.INTEGRITY_ERROR, "ChangeKey cryptogram: CRC32 or padding wrong")
        if self.selected == PICC_AID:
            picc = replace(self.picc, master_key=new, master_key_version=version)
            self._save(picc=picc)
            self.picc = picc
        else:
            app = self.apps[self.selected]
            keys = list(app.keys)
            versions = list(app.key_versions)
            keys[target], versions[target] = new, version
            self._save_app(replace(app, keys=tuple(keys), key_versions=tuple(versions)))
        if same:
            self._auth = None
            return b""
        return self._reply(b"")

    # -- files: management --------------------------------------------------------------------------

    def _get_file_ids(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        app = self._app()
        self._require_master_unless(KS_FREE_LISTING, "GetFileIDs")
        self._in_plain(ins, data)
        return self._reply(bytes(sorted(app.files)))

    def _get_file_settings(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 1)
        app = self._app()
        self._require_master_unless(KS_FREE_LISTING, "GetFileSettings")
        f = self._file(app, data[0])
        self._in_plain(ins, data)
        out = bytes((f.type, f.comm)) + f.access.encode()
        if isinstance(f, DataFile):
            out += f.size.to_bytes(3, "little")
        elif isinstance(f, ValueFile):
            flags = (VALUE_LIMITED_CREDIT if f.limited_credit_enabled else 0) | \
                (VALUE_FREE_GET if f.free_get_value else 0)
            out += f.lower.to_bytes(4, "little", signed=True) + \
                f.upper.to_bytes(4, "little", signed=True) + \
                f.limited_credit_value.to_bytes(4, "little", signed=True) + bytes((flags,))
        else:
            out += f.record_size.to_bytes(3, "little") + f.max_records.to_bytes(3, "little") + \
                len(f.records).to_bytes(3, "little")
        return self._reply(out)

    def _new_file_checks(self, app: Application, fid: int, size: int) -> None:
        self._require_master_unless(KS_FREE_CREATE_DELETE, "creating a file")
        if fid >= MAX_FILES:
            raise _fail(DfStatus.PARAMETER_ERROR, f"file number {fid}: 0..31")
        if fid in app.files:
            raise _fail(DfStatus.DUPLICATE_ERROR, f"file {fid:02X} exists")
        if size > CAPACITY - self._used_bytes():
            raise _fail(DfStatus.OUT_OF_EEPROM, f"{size} bytes do not fit")

    @staticmethod
    def _comm_and_access(raw: bytes) -> tuple[CommMode, AccessRights]:
        try:
            comm = CommMode.decode(raw[0])
        except ValueError as exc:
            raise _fail(DfStatus.PARAMETER_ERROR, str(exc)) from None
        return comm, AccessRights.decode(raw[1:3])

    def _create_data_file(self, ins: int, data: bytes) -> bytes:
        app = self._app()
        _need_length(data, 7, 9)
        body = data[:1] + data[3:] if len(data) == 9 else data
        fid = body[0]
        comm, access = self._comm_and_access(body[1:4])
        size = _u24(body[4:7])
        if size == 0:
            raise _fail(DfStatus.PARAMETER_ERROR, "file size 0")
        self._new_file_checks(app, fid, size)
        ftype = FileType.STANDARD if ins == Ins.CREATE_STD_DATA_FILE else FileType.BACKUP
        self._in_plain(ins, data)
        self._save_app(replace(app, files={**app.files,
                                           fid: DataFile(ftype, comm, access, bytes(size))}))
        return self._reply(b"")

    def _create_value_file(self, ins: int, data: bytes) -> bytes:
        app = self._app()
        _need_length(data, 17)
        fid = data[0]
        comm, access = self._comm_and_access(data[1:4])
        lower, upper, value = _s32(data[4:8]), _s32(data[8:12]), _s32(data[12:16])
        flags = data[16]
        if not lower <= value <= upper or flags & ~(VALUE_LIMITED_CREDIT | VALUE_FREE_GET):
            raise _fail(DfStatus.PARAMETER_ERROR, "value file limits or flags invalid")
        self._new_file_checks(app, fid, 4)
        self._in_plain(ins, data)
        vf = ValueFile(comm, access, lower, upper, value, bool(flags & VALUE_LIMITED_CREDIT),
                       bool(flags & VALUE_FREE_GET))
        self._save_app(replace(app, files={**app.files, fid: vf}))
        return self._reply(b"")

    def _create_record_file(self, ins: int, data: bytes) -> bytes:
        app = self._app()
        _need_length(data, 10, 12)
        body = data[:1] + data[3:] if len(data) == 12 else data
        fid = body[0]
        comm, access = self._comm_and_access(body[1:4])
        record_size, max_records = _u24(body[4:7]), _u24(body[7:10])
        cyclic = ins == Ins.CREATE_CYCLIC_RECORD_FILE
        if record_size == 0 or max_records < (2 if cyclic else 1):
            raise _fail(DfStatus.PARAMETER_ERROR, "record size or count invalid")
        self._new_file_checks(app, fid, record_size * max_records)
        self._in_plain(ins, data)
        ftype = FileType.CYCLIC_RECORD if cyclic else FileType.LINEAR_RECORD
        rf = RecordFile(ftype, comm, access, record_size, max_records)
        self._save_app(replace(app, files={**app.files, fid: rf}))
        return self._reply(b"")

    def _delete_file(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 1)
        app = self._app()
        self._require_master_unless(KS_FREE_CREATE_DELETE, "DeleteFile")
        fid = data[0]
        self._file(app, fid)
        self._in_plain(ins, data)
        files = dict(app.files)
        del files[fid]
        self._txn.files.pop(fid, None)
        self._txn.new_records.pop(fid, None)
        self._save_app(replace(app, files=files))
        return self._reply(b"")

    # -- data files ------------------------------------------------------------------------------------

    def _data_file(self, app: Application, fid: int) -> DataFile:
        f = self._file(app, fid)
        if not isinstance(f, DataFile):
            raise _fail(DfStatus.PARAMETER_ERROR, f"file {fid:02X} is not a data file")
        return f

    def _read_data(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 7)
        app = self._app()
        f = self._data_file(app, data[0])
        mode = self._file_mode(f, (f.access.read, f.access.read_write), "ReadData")
        offset, length = _u24(data[1:4]), _u24(data[4:7])
        end = f.size if length == 0 else offset + length
        if offset >= f.size or end > f.size:
            raise _fail(DfStatus.BOUNDARY_ERROR, f"read {offset}+{length} beyond {f.size} bytes")
        self._in_plain(ins, data)
        return self._reply(f.data[offset:end], mode)

    def _write_data(self, ins: int, data: bytes) -> bytes:
        if len(data) < 8:
            raise _fail(DfStatus.LENGTH_ERROR, "WriteData takes file, offset, length, data")
        app = self._app()
        fid = data[0]
        f = self._data_file(app, fid)
        mode = self._file_mode(f, (f.access.write, f.access.read_write), "WriteData")
        offset, length = _u24(data[1:4]), _u24(data[4:7])
        if length == 0:
            raise _fail(DfStatus.LENGTH_ERROR, "WriteData of 0 bytes")
        payload = self._in_protected(ins, bytes(data[:7]), bytes(data[7:]), mode, length)
        if offset + length > f.size:
            raise _fail(DfStatus.BOUNDARY_ERROR, f"write {offset}+{length} beyond {f.size} bytes")
        current = self._pending_or_committed(fid, f)
        assert isinstance(current, DataFile)
        new = replace(current, data=current.data[:offset] + payload + current.data[offset + length:])
        if f.type is FileType.BACKUP:
            self._txn.files[fid] = new
        else:
            self._save_app(replace(app, files={**app.files, fid: new}))
        return self._reply(b"")

    # -- value files ------------------------------------------------------------------------------------

    def _value_file(self, app: Application, fid: int) -> ValueFile:
        f = self._file(app, fid)
        if not isinstance(f, ValueFile):
            raise _fail(DfStatus.PARAMETER_ERROR, f"file {fid:02X} is not a value file")
        return f

    def _get_value(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 1)
        app = self._app()
        f = self._value_file(app, data[0])
        a = f.access
        mode = CommMode.PLAIN if f.free_get_value else \
            self._file_mode(f, (a.read, a.write, a.read_write), "GetValue")
        self._in_plain(ins, data)
        return self._reply(f.value.to_bytes(4, "little", signed=True), mode)

    def _change_value(self, ins: int, data: bytes) -> bytes:
        if len(data) < 5:
            raise _fail(DfStatus.LENGTH_ERROR, "value command takes file and amount")
        app = self._app()
        fid = data[0]
        f = self._value_file(app, fid)
        a = f.access
        keys = {Ins.CREDIT: (a.read_write,), Ins.DEBIT: (a.read, a.write, a.read_write),
                Ins.LIMITED_CREDIT: (a.write, a.read_write)}[Ins(ins)]
        mode = self._file_mode(f, keys, Ins(ins).name)
        amount = _s32(self._in_protected(ins, bytes(data[:1]), bytes(data[1:]), mode, 4))
        if amount < 0:
            raise _fail(DfStatus.PARAMETER_ERROR, f"negative amount {amount}")
        current = self._pending_or_committed(fid, f)
        assert isinstance(current, ValueFile)
        txn = self._txn
        if ins == Ins.DEBIT:
            value = current.value - amount
            if value < current.lower:
                raise _fail(DfStatus.BOUNDARY_ERROR, "debit below the lower limit")
            txn.debited[fid] = txn.debited.get(fid, 0) + amount
        else:
            if ins == Ins.LIMITED_CREDIT:
                if not f.limited_credit_enabled:
                    raise _fail(DfStatus.PERMISSION_DENIED, "limited credit is not enabled")
                if fid in txn.debited or fid in txn.limited_credit_used \
                        or amount > current.limited_credit_value:
                    raise _fail(DfStatus.BOUNDARY_ERROR, "limited credit beyond the last debits")
                txn.limited_credit_used.add(fid)
            value = current.value + amount
            if value > current.upper:
                raise _fail(DfStatus.BOUNDARY_ERROR, "credit above the upper limit")
        txn.files[fid] = replace(current, value=value)
        return self._reply(b"")

    # -- record files ------------------------------------------------------------------------------------

    def _record_file(self, app: Application, fid: int) -> RecordFile:
        f = self._file(app, fid)
        if not isinstance(f, RecordFile):
            raise _fail(DfStatus.PARAMETER_ERROR, f"file {fid:02X} is not a record file")
        return f

    def _write_record(self, ins: int, data: bytes) -> bytes:
        if len(data) < 8:
            raise _fail(DfStatus.LENGTH_ERROR, "WriteRecord takes file, offset, length, data")
        app = self._app()
        fid = data[0]
        f = self._record_file(app, fid)
        mode = self._file_mode(f, (f.access.write, f.access.read_write), "WriteRecord")
        offset, length = _u24(data[1:4]), _u24(data[4:7])
        if length == 0:
            raise _fail(DfStatus.LENGTH_ERROR, "WriteRecord of 0 bytes")
        payload = self._in_protected(ins, bytes(data[:7]), bytes(data[7:]), mode, length)
        if offset + length > f.record_size:
            raise _fail(DfStatus.BOUNDARY_ERROR, "write beyond the record size")
        current = self._pending_or_committed(fid, f)
        assert isinstance(current, RecordFile)
        record = self._txn.new_records.get(fid)
        if record is None:
            if f.type is FileType.LINEAR_RECORD and len(current.records) >= f.capacity:
                raise _fail(DfStatus.BOUNDARY_ERROR, "linear record file is full")
            record = self._txn.new_records[fid] = bytearray(f.record_size)
        record[offset:offset + length] = payload
        return self._reply(b"")

    def _read_records(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 7)
        app = self._app()
        f = self._record_file(app, data[0])
        mode = self._file_mode(f, (f.access.read, f.access.read_write), "ReadRecords")
        offset, count = _u24(data[1:4]), _u24(data[4:7])
        n = len(f.records)
        if offset >= n or offset + count > n:
            raise _fail(DfStatus.BOUNDARY_ERROR, f"records {offset}+{count} of {n}")
        count = count or n - offset
        self._in_plain(ins, data)
        chosen = f.records[n - offset - count:n - offset]
        return self._reply(b"".join(chosen), mode)

    def _clear_record_file(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 1)
        app = self._app()
        fid = data[0]
        f = self._record_file(app, fid)
        self._file_mode(f, (f.access.read_write,), "ClearRecordFile")
        self._in_plain(ins, data)
        self._txn.new_records.pop(fid, None)
        self._txn.files[fid] = replace(f, records=())
        return self._reply(b"")

    # -- transactions ------------------------------------------------------------------------------------

    def _commit(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        self._in_plain(ins, data)
        txn = self._txn
        if self.selected != PICC_AID and txn:
            app = self.apps[self.selected]
            files = dict(app.files)
            for fid, f in txn.files.items():
                files[fid] = f
            for fid, record in txn.new_records.items():
                rf = files[fid]
                assert isinstance(rf, RecordFile)
                records = (*rf.records, bytes(record))[-rf.capacity:]
                files[fid] = replace(rf, records=records)
            for fid, debited in txn.debited.items():
                vf = files[fid]
                assert isinstance(vf, ValueFile)
                if vf.limited_credit_enabled:
                    files[fid] = replace(vf, limited_credit_value=debited)
            for fid in txn.limited_credit_used:
                vf = files[fid]
                assert isinstance(vf, ValueFile)
                files[fid] = replace(vf, limited_credit_value=0)
            self._save_app(replace(app, files=files))
        self._txn = _Transaction()
        return self._reply(b"")

    def _abort(self, ins: int, data: bytes) -> bytes:
        _need_length(data, 0)
        self._in_plain(ins, data)
        self._txn = _Transaction()
        return self._reply(b"")
