"""PICC-level commands: card identity, memory, and creating/listing/deleting applications."""

from __future__ import annotations

from .access import KS_FREE_CREATE_DELETE, KS_FREE_LISTING, require_master_unless
from .context import CommandContext, Reply, need_length
from .crypto import BLOCK
from .model import KEY_TYPE_AES, KEY_TYPE_MASK, PICC_AID, Application, CommMode, DataFile, RecordFile
from .status import DesfireError, DfStatus

__all__ = ["CAPACITY", "MAX_KEYS", "VERSION_HW", "VERSION_SW", "used_bytes", "get_version",
           "get_card_uid", "free_memory", "format_picc", "select_application",
           "get_application_ids", "create_application", "delete_application"]

#: Bytes of file storage the emulated card offers (a DESFire EV1 4K).
CAPACITY = 4096
MAX_KEYS = 14
#: GetVersion frames: vendor NXP-compatible DESFire EV1 4K (hardware, then software).
VERSION_HW = bytes((0x04, 0x01, 0x01, 0x01, 0x00, 0x18, 0x05))
VERSION_SW = bytes((0x04, 0x01, 0x01, 0x01, 0x04, 0x18, 0x05))
_BATCH = b"HCEKT"
_PRODUCTION = bytes((0x01, 0x26))
_ISO_FILE_ID_FLAG = 0x20
_KEY_COUNT_MASK = 0x0F
_VALUE_FILE_BYTES = 4


def used_bytes(apps: dict[bytes, Application]) -> int:
    """File storage the applications take (value files count 4 bytes)."""
    total = 0
    for app in apps.values():
        for f in app.files.values():
            if isinstance(f, DataFile):
                total += f.size
            elif isinstance(f, RecordFile):
                total += f.record_size * f.max_records
            else:
                total += _VALUE_FILE_BYTES
    return total


def get_version(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.session.in_plain(cmd.ins, cmd.data)
    third = cmd.store.picc().uid + _BATCH + _PRODUCTION
    protected = cmd.session.reply(VERSION_HW + VERSION_SW + third)
    return [protected[:7], protected[7:14], protected[14:]]


def get_card_uid(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    if cmd.session.key_no is None:
        raise DesfireError(DfStatus.AUTHENTICATION_ERROR, "GetCardUID needs authentication")
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(cmd.store.picc().uid, CommMode.FULL)


def free_memory(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.session.in_plain(cmd.ins, cmd.data)
    free = max(0, CAPACITY - used_bytes(cmd.store.apps()))
    return cmd.session.reply(free.to_bytes(3, "little"))


def format_picc(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.level.require_picc("FormatPICC")
    cmd.session.require_key(0, "FormatPICC")
    cmd.session.in_plain(cmd.ins, cmd.data)
    cmd.store.save(deleted=cmd.store.app_ids())
    return cmd.session.reply(b"")


def select_application(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 3)
    cmd.card.select(bytes(cmd.data))
    return b""


def get_application_ids(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.level.require_picc("GetApplicationIDs")
    require_master_unless(cmd.session, cmd.level.key_settings, KS_FREE_LISTING,
                          "GetApplicationIDs")
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(b"".join(sorted(cmd.store.app_ids())))


def _parse_create_application(data: bytes) -> Application:
    if len(data) < 5:
        raise DesfireError(DfStatus.LENGTH_ERROR, "CreateApplication takes AID, settings, key byte")
    aid, settings, key_byte = bytes(data[:3]), data[3], data[4]
    df_name = b""
    if key_byte & _ISO_FILE_ID_FLAG:
        if not 8 <= len(data) <= 23:
            raise DesfireError(DfStatus.LENGTH_ERROR,
                               "ISO application needs a file ID and a DF name")
        df_name = bytes(data[7:])
    elif len(data) != 5:
        raise DesfireError(DfStatus.LENGTH_ERROR, "extra bytes without the ISO file ID flag")
    key_count = key_byte & _KEY_COUNT_MASK
    if aid == PICC_AID:
        raise DesfireError(DfStatus.PARAMETER_ERROR, "AID 000000 is the PICC")
    if key_byte & KEY_TYPE_MASK != KEY_TYPE_AES:
        raise DesfireError(DfStatus.PARAMETER_ERROR, "only AES-128 applications are supported")
    if not 1 <= key_count <= MAX_KEYS:
        raise DesfireError(DfStatus.PARAMETER_ERROR, f"key count {key_count}: 1..14")
    return Application(aid, settings, (bytes(BLOCK),) * key_count, (0,) * key_count, {},
                       df_name)


def create_application(cmd: CommandContext) -> Reply:
    cmd.level.require_picc("CreateApplication")
    if len(cmd.data) < 5:
        raise DesfireError(DfStatus.LENGTH_ERROR, "CreateApplication takes AID, settings, key byte")
    require_master_unless(cmd.session, cmd.level.key_settings, KS_FREE_CREATE_DELETE,
                          "CreateApplication")
    app = _parse_create_application(cmd.data)
    apps = cmd.store.apps()
    if app.aid in apps or (app.df_name and any(a.df_name == app.df_name for a in apps.values())):
        raise DesfireError(DfStatus.DUPLICATE_ERROR, f"application {app.aid.hex().upper()} exists")
    cmd.session.in_plain(cmd.ins, cmd.data)
    cmd.store.save(apps=[app])
    return cmd.session.reply(b"")


def delete_application(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 3)
    aid = bytes(cmd.data)
    if cmd.store.app(aid) is None:
        raise DesfireError(DfStatus.APPLICATION_NOT_FOUND, f"no application {aid.hex().upper()}")
    selected = cmd.level.aid == aid
    if not (selected and cmd.session.key_no == 0):  # an application may delete itself
        cmd.level.require_picc("DeleteApplication of another application")
        require_master_unless(cmd.session, cmd.level.key_settings, KS_FREE_CREATE_DELETE,
                              "DeleteApplication")
    cmd.session.in_plain(cmd.ins, cmd.data)
    cmd.store.save(deleted=[aid])
    if selected:
        cmd.card.reset()
        return b""
    return cmd.session.reply(b"")
