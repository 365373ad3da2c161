"""Value files: GetValue, Credit, Debit and LimitedCredit.

Credit, Debit and LimitedCredit wait in the transaction (see
:mod:`.transaction`), checked against the limits at once and again at
commit. LimitedCredit gives back at most what the last committed transaction
debited, once, and not in a transaction that debits.
"""

from __future__ import annotations

from .access import file_mode
from .context import CommandContext, Reply, file_of_type, need_length, s32
from .instructions import Ins
from .model import CommMode, ValueFile
from .status import DesfireError, DfStatus

__all__ = ["get_value", "change_value"]

_AMOUNT = 4


def get_value(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 1)
    f = file_of_type(cmd.level.application, cmd.data[0], ValueFile)
    a = f.access
    mode = CommMode.PLAIN if f.free_get_value else \
        file_mode(cmd.session, f, (a.read, a.write, a.read_write), "GetValue")
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(f.value.to_bytes(_AMOUNT, "little", signed=True), mode)


def _check_limited_credit(cmd: CommandContext, fid: int, f: ValueFile, amount: int) -> None:
    if not f.limited_credit_enabled:
        raise DesfireError(DfStatus.PERMISSION_DENIED, "limited credit is not enabled")
    pending = cmd.pending
    if fid in pending.debited or fid in pending.limited_credit_used \
            or amount > f.limited_credit_value:
        raise DesfireError(DfStatus.BOUNDARY_ERROR, "limited credit beyond the last debits")
    pending.limited_credit_used.add(fid)


def change_value(cmd: CommandContext) -> Reply:
    if len(cmd.data) < 1 + _AMOUNT:
        raise DesfireError(DfStatus.LENGTH_ERROR, "value command takes file and amount")
    fid = cmd.data[0]
    f = file_of_type(cmd.level.application, fid, ValueFile)
    a = f.access
    ins = Ins(cmd.ins)
    keys = {Ins.CREDIT: (a.read_write,), Ins.DEBIT: (a.read, a.write, a.read_write),
            Ins.LIMITED_CREDIT: (a.write, a.read_write)}[ins]
    mode = file_mode(cmd.session, f, keys, ins.name)
    amount = s32(cmd.session.in_protected(cmd.ins, bytes(cmd.data[:1]), bytes(cmd.data[1:]),
                                          mode, _AMOUNT))
    if amount < 0:
        raise DesfireError(DfStatus.PARAMETER_ERROR, f"negative amount {amount}")
    current = cmd.pending.value_view(fid, f)
    if ins is Ins.DEBIT:
        if current.value - amount < current.lower:
            raise DesfireError(DfStatus.BOUNDARY_ERROR, "debit below the lower limit")
        cmd.pending.record_debit(fid, amount)
        return cmd.session.reply(b"")
    if ins is Ins.LIMITED_CREDIT:
        _check_limited_credit(cmd, fid, current, amount)
    if current.value + amount > current.upper:
        raise DesfireError(DfStatus.BOUNDARY_ERROR, "credit above the upper limit")
    cmd.pending.change_value(fid, amount)
    return cmd.session.reply(b"")
