"""Linear and cyclic record files: WriteRecord, ReadRecords, ClearRecordFile.

WriteRecord fills one new record (in parts, at offsets) that is appended on
commit; a cyclic file then drops its oldest record, a full linear file
refuses the write. ReadRecords counts from the newest record.
"""

from __future__ import annotations

from .access import file_mode
from .context import CommandContext, Reply, file_of_type, need_length, u24
from .data_files import WRITE_HEADER
from .model import FileType, RecordFile
from .status import DesfireError, DfStatus

__all__ = ["write_record", "read_records", "clear_record_file"]


def write_record(cmd: CommandContext) -> Reply:
    data = cmd.data
    if len(data) <= WRITE_HEADER:
        raise DesfireError(DfStatus.LENGTH_ERROR, "WriteRecord takes file, offset, length, data")
    fid = data[0]
    f = file_of_type(cmd.level.application, fid, RecordFile)
    mode = file_mode(cmd.session, f, (f.access.write, f.access.read_write), "WriteRecord")
    offset, length = u24(data[1:4]), u24(data[4:7])
    if length == 0:
        raise DesfireError(DfStatus.LENGTH_ERROR, "WriteRecord of 0 bytes")
    payload = cmd.session.in_protected(cmd.ins, bytes(data[:WRITE_HEADER]),
                                       bytes(data[WRITE_HEADER:]), mode, length)
    if offset + length > f.record_size:
        raise DesfireError(DfStatus.BOUNDARY_ERROR, "write beyond the record size")
    record = cmd.pending.new_records.get(fid)
    if record is None:
        current = cmd.pending.records_view(fid, f)
        if f.type is FileType.LINEAR_RECORD and len(current.records) >= f.capacity:
            raise DesfireError(DfStatus.BOUNDARY_ERROR, "linear record file is full")
        record = cmd.pending.new_records[fid] = bytearray(f.record_size)
    record[offset:offset + length] = payload
    return cmd.session.reply(b"")


def read_records(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 7)
    f = file_of_type(cmd.level.application, cmd.data[0], RecordFile)
    mode = file_mode(cmd.session, f, (f.access.read, f.access.read_write), "ReadRecords")
    offset, count = u24(cmd.data[1:4]), u24(cmd.data[4:7])
    n = len(f.records)
    if offset >= n or offset + count > n:
        raise DesfireError(DfStatus.BOUNDARY_ERROR, f"records {offset}+{count} of {n}")
    count = count or n - offset
    cmd.session.in_plain(cmd.ins, cmd.data)
    chosen = f.records[n - offset - count:n - offset]
    return cmd.session.reply(b"".join(chosen), mode)


def clear_record_file(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 1)
    fid = cmd.data[0]
    f = file_of_type(cmd.level.application, fid, RecordFile)
    file_mode(cmd.session, f, (f.access.read_write,), "ClearRecordFile")
    cmd.session.in_plain(cmd.ins, cmd.data)
    cmd.pending.clear_records(fid)
    return cmd.session.reply(b"")
