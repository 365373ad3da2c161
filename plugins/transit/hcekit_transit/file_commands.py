"""File management: list files, read their settings, create each file type, delete.

The wire form of GetFileSettings and of the Create commands is the file's
type, communication mode and access rights, then what the type needs:
a size (data files), limits, value and flags (value files), record size and
count (record files). Numbers are little-endian.
"""

from __future__ import annotations

from .access import KS_FREE_CREATE_DELETE, KS_FREE_LISTING, require_master_unless
from .card_commands import CAPACITY, used_bytes
from .context import CommandContext, Reply, lookup_file, need_length, s32, u24
from .instructions import Ins
from .model import (
    AccessRights,
    Application,
    CommMode,
    DataFile,
    DesfireFile,
    FileType,
    RecordFile,
    ValueFile,
)
from .status import DesfireError, DfStatus

__all__ = ["MAX_FILES", "VALUE_LIMITED_CREDIT", "VALUE_FREE_GET", "get_file_ids",
           "get_file_settings", "create_data_file", "create_value_file", "create_record_file",
           "delete_file"]

MAX_FILES = 32
#: Value file option bits.
VALUE_LIMITED_CREDIT = 0x01
VALUE_FREE_GET = 0x02


def get_file_ids(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    app = cmd.level.application
    require_master_unless(cmd.session, app.key_settings, KS_FREE_LISTING, "GetFileIDs")
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(bytes(sorted(app.files)))


def _settings(f: DesfireFile) -> bytes:
    out = bytes((f.type, f.comm)) + f.access.encode()
    if isinstance(f, DataFile):
        return out + f.size.to_bytes(3, "little")
    if isinstance(f, ValueFile):
        flags = (VALUE_LIMITED_CREDIT if f.limited_credit_enabled else 0) | \
            (VALUE_FREE_GET if f.free_get_value else 0)
        return out + f.lower.to_bytes(4, "little", signed=True) + \
            f.upper.to_bytes(4, "little", signed=True) + \
            f.limited_credit_value.to_bytes(4, "little", signed=True) + bytes((flags,))
    return out + f.record_size.to_bytes(3, "little") + f.max_records.to_bytes(3, "little") + \
        len(f.records).to_bytes(3, "little")


def get_file_settings(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 1)
    app = cmd.level.application
    require_master_unless(cmd.session, app.key_settings, KS_FREE_LISTING, "GetFileSettings")
    f = lookup_file(app.files, cmd.data[0])
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(_settings(f))


def _comm_and_access(raw: bytes) -> tuple[CommMode, AccessRights]:
    try:
        comm = CommMode.decode(raw[0])
    except ValueError as exc:
        raise DesfireError(DfStatus.PARAMETER_ERROR, str(exc)) from None
    return comm, AccessRights.decode(raw[1:3])


def _add_file(cmd: CommandContext, app: Application, fid: int, f: DesfireFile, size: int) -> Reply:
    """The checks every Create command shares, then the new file stored."""
    require_master_unless(cmd.session, app.key_settings, KS_FREE_CREATE_DELETE, "creating a file")
    if fid >= MAX_FILES:
        raise DesfireError(DfStatus.PARAMETER_ERROR, f"file number {fid}: 0..31")
    if fid in app.files:
        raise DesfireError(DfStatus.DUPLICATE_ERROR, f"file {fid:02X} exists")
    if size > CAPACITY - used_bytes(cmd.store.apps()):
        raise DesfireError(DfStatus.OUT_OF_EEPROM, f"{size} bytes do not fit")
    cmd.session.in_plain(cmd.ins, cmd.data)
    cmd.store.save(apps=[app._replace(files={**app.files, fid: f})])
    return cmd.session.reply(b"")


def create_data_file(cmd: CommandContext) -> Reply:
    app = cmd.level.application
    need_length(cmd.data, 7, 9)
    body = cmd.data[:1] + cmd.data[3:] if len(cmd.data) == 9 else cmd.data  # ISO file ID
    comm, access = _comm_and_access(body[1:4])
    size = u24(body[4:7])
    if size == 0:
        raise DesfireError(DfStatus.PARAMETER_ERROR, "file size 0")
    ftype = FileType.STANDARD if cmd.ins == Ins.CREATE_STD_DATA_FILE else FileType.BACKUP
    return _add_file(cmd, app, body[0], DataFile(ftype, comm, access, bytes(size)), size)


def create_value_file(cmd: CommandContext) -> Reply:
    app = cmd.level.application
    data = cmd.data
    need_length(data, 17)
    comm, access = _comm_and_access(data[1:4])
    lower, upper, value = s32(data[4:8]), s32(data[8:12]), s32(data[12:16])
    flags = data[16]
    if not lower <= value <= upper or flags & ~(VALUE_LIMITED_CREDIT | VALUE_FREE_GET):
        raise DesfireError(DfStatus.PARAMETER_ERROR, "value file limits or flags invalid")
    vf = ValueFile(comm, access, lower, upper, value, bool(flags & VALUE_LIMITED_CREDIT),
                   bool(flags & VALUE_FREE_GET))
    return _add_file(cmd, app, data[0], vf, 4)


def create_record_file(cmd: CommandContext) -> Reply:
    app = cmd.level.application
    need_length(cmd.data, 10, 12)
    body = cmd.data[:1] + cmd.data[3:] if len(cmd.data) == 12 else cmd.data  # ISO file ID
    comm, access = _comm_and_access(body[1:4])
    record_size, max_records = u24(body[4:7]), u24(body[7:10])
    cyclic = cmd.ins == Ins.CREATE_CYCLIC_RECORD_FILE
    if record_size == 0 or max_records < (2 if cyclic else 1):
        raise DesfireError(DfStatus.PARAMETER_ERROR, "record size or count invalid")
    ftype = FileType.CYCLIC_RECORD if cyclic else FileType.LINEAR_RECORD
    rf = RecordFile(ftype, comm, access, record_size, max_records)
    return _add_file(cmd, app, body[0], rf, record_size * max_records)


def delete_file(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 1)
    app = cmd.level.application
    require_master_unless(cmd.session, app.key_settings, KS_FREE_CREATE_DELETE, "DeleteFile")
    fid = cmd.data[0]
    lookup_file(app.files, fid)
    cmd.session.in_plain(cmd.ins, cmd.data)
    files = dict(app.files)
    del files[fid]
    cmd.pending.forget(fid)
    cmd.store.save(apps=[app._replace(files=files)])
    return cmd.session.reply(b"")
