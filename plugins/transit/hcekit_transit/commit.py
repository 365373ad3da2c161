"""CommitTransaction and AbortTransaction.

Commit reads the selected application inside its store transaction, applies
the pending changes to it (:meth:`~.transaction.PendingChanges.apply`) and
writes it back in that same transaction: all of the transaction lands, or
none of it. At the PICC level nothing can be pending.
"""

from __future__ import annotations

from .context import CommandContext, Reply, need_length

__all__ = ["commit", "abort"]


def commit(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.session.in_plain(cmd.ins, cmd.data)
    if cmd.pending:
        cmd.store.save(apps=[cmd.pending.apply(cmd.level.application)])
    cmd.pending.clear()
    return cmd.session.reply(b"")


def abort(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.session.in_plain(cmd.ins, cmd.data)
    cmd.pending.clear()
    return cmd.session.reply(b"")


