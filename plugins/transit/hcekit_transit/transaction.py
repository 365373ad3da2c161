"""The EV1 transaction: backup, value and record file changes that wait for CommitTransaction.

Pending changes are kept as what the commands asked for, not as copies of
files: bytes written at an offset of a backup file, the net amount credited
or debited on a value file, records appended, a record file cleared. Commit
applies them to the files as the store holds them *inside the commit's store
transaction*, re-checking the value limits there. So a transaction on this
card never writes back a stale copy: whatever another writer committed in
between is kept (and a commit that would break a limit is refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from .model import Application, DataFile, DesfireFile, RecordFile, ValueFile
from .status import DesfireError, DfStatus

__all__ = ["PendingChanges"]

F = TypeVar("F", DataFile, ValueFile, RecordFile)


@dataclass
class PendingChanges:
    """What the current transaction changes, per file number."""

    writes: dict[int, list[tuple[int, bytes]]] = field(default_factory=dict)
    value_deltas: dict[int, int] = field(default_factory=dict)
    debited: dict[int, int] = field(default_factory=dict)
    limited_credit_used: set[int] = field(default_factory=set)
    cleared: set[int] = field(default_factory=set)
    new_records: dict[int, bytearray] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.writes or self.value_deltas or self.cleared or self.new_records)

    def clear(self) -> None:
        """Commit or abort: nothing is pending any more."""
        for fid in {*self.writes, *self.value_deltas, *self.debited, *self.limited_credit_used,
                    *self.cleared, *self.new_records}:
            self.forget(fid)

    def forget(self, fid: int) -> None:
        """The file was deleted: nothing of it is pending any more."""
        self.writes.pop(fid, None)
        self.value_deltas.pop(fid, None)
        self.debited.pop(fid, None)
        self.limited_credit_used.discard(fid)
        self.cleared.discard(fid)
        self.new_records.pop(fid, None)

    # -- what later commands of the same transaction see ------------------------------------

    def data_view(self, fid: int, f: DataFile) -> DataFile:
        data = f.data
        for offset, chunk in self.writes.get(fid, ()):
            data = data[:offset] + chunk + data[offset + len(chunk):]
        return f._replace(data=data)

    def value_view(self, fid: int, f: ValueFile) -> ValueFile:
        return f._replace(value=f.value + self.value_deltas.get(fid, 0))

    def records_view(self, fid: int, f: RecordFile) -> RecordFile:
        return f._replace(records=()) if fid in self.cleared else f

    # -- recording changes ---------------------------------------------------------------------

    def write(self, fid: int, offset: int, chunk: bytes) -> None:
        self.writes.setdefault(fid, []).append((offset, chunk))

    def change_value(self, fid: int, delta: int) -> None:
        self.value_deltas[fid] = self.value_deltas.get(fid, 0) + delta

    def record_debit(self, fid: int, amount: int) -> None:
        self.debited[fid] = self.debited.get(fid, 0) + amount
        self.change_value(fid, -amount)

    def clear_records(self, fid: int) -> None:
        self.new_records.pop(fid, None)
        self.cleared.add(fid)

    # -- commit ----------------------------------------------------------------------------------

    def apply(self, app: Application) -> Application:
        """*app* as the store holds it now, with every pending change applied."""
        files = dict(app.files)
        for fid in self.writes:
            files[fid] = self.data_view(fid, _file(files, fid, DataFile))
        for fid in self.value_deltas:
            files[fid] = _within_limits(fid, self.value_view(fid, _file(files, fid, ValueFile)))
        for fid in self.cleared:
            files[fid] = _file(files, fid, RecordFile)._replace(records=())
        for fid, record in self.new_records.items():
            rf = _file(files, fid, RecordFile)
            files[fid] = rf._replace(records=(*rf.records, bytes(record))[-rf.capacity:])
        for fid, debited in self.debited.items():
            vf = _file(files, fid, ValueFile)
            if vf.limited_credit_enabled:
                files[fid] = vf._replace(limited_credit_value=debited)
        for fid in self.limited_credit_used:
            files[fid] = _file(files, fid, ValueFile)._replace(limited_credit_value=0)
        return app._replace(files=files)


def _file(files: dict[int, DesfireFile], fid: int, kind: type[F]) -> F:
    f = files.get(fid)
    if not isinstance(f, kind):
        raise DesfireError(DfStatus.FILE_NOT_FOUND,
                           f"file {fid:02X} changed under the transaction; nothing committed")
    return f


def _within_limits(fid: int, f: ValueFile) -> ValueFile:
    if not f.lower <= f.value <= f.upper:
        raise DesfireError(DfStatus.BOUNDARY_ERROR,
                           f"value file {fid:02X}: {f.value} outside {f.lower}..{f.upper} at commit")
    return f
