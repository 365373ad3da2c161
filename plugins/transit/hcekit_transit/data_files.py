"""Standard and backup data files: ReadData and WriteData.

A standard file changes at once; a backup file's writes wait in the
transaction until CommitTransaction (see :mod:`.transaction`). Reads always
show the committed contents.
"""

from __future__ import annotations

from .access import file_mode
from .context import CommandContext, Reply, file_of_type, need_length, u24
from .model import DataFile, FileType
from .status import DesfireError, DfStatus

__all__ = ["read_data", "write_data", "WRITE_HEADER"]

#: File number, 3-byte offset, 3-byte length: what precedes the data of a write.
WRITE_HEADER = 7


def read_data(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 7)
    f = file_of_type(cmd.level.application, cmd.data[0], DataFile)
    mode = file_mode(cmd.session, f, (f.access.read, f.access.read_write), "ReadData")
    offset, length = u24(cmd.data[1:4]), u24(cmd.data[4:7])
    end = f.size if length == 0 else offset + length
    if offset >= f.size or end > f.size:
        raise DesfireError(DfStatus.BOUNDARY_ERROR, f"read {offset}+{length} beyond {f.size} bytes")
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(f.data[offset:end], mode)


def write_data(cmd: CommandContext) -> Reply:
    data = cmd.data
    if len(data) <= WRITE_HEADER:
        raise DesfireError(DfStatus.LENGTH_ERROR, "WriteData takes file, offset, length, data")
    app = cmd.level.application
    fid = data[0]
    f = file_of_type(app, fid, DataFile)
    mode = file_mode(cmd.session, f, (f.access.write, f.access.read_write), "WriteData")
    offset, length = u24(data[1:4]), u24(data[4:7])
    if length == 0:
        raise DesfireError(DfStatus.LENGTH_ERROR, "WriteData of 0 bytes")
    payload = cmd.session.in_protected(cmd.ins, bytes(data[:WRITE_HEADER]),
                                       bytes(data[WRITE_HEADER:]), mode, length)
    if offset + length > f.size:
        raise DesfireError(DfStatus.BOUNDARY_ERROR, f"write {offset}+{length} beyond {f.size} bytes")
    if f.type is FileType.BACKUP:
        cmd.pending.write(fid, offset, payload)
    else:
        new = f._replace(data=f.data[:offset] + payload + f.data[offset + length:])
        cmd.store.save(apps=[app._replace(files={**app.files, fid: new})])
    return cmd.session.reply(b"")
