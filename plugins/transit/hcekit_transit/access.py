"""Who may do what: key settings and file access rights (DESFire EV1).

Key settings (one byte per level): b0 the master key may change, b1 listing
is free, b2 creating/deleting is free, b3 the settings may change; an
application's high nibble names the key that changes the other keys (E: each
key itself, F: frozen). A file's access rights name one key (or E free, F
never) for read, write, read&write and change; the key the session
authenticated with decides both whether a command may run and in which
communication mode it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import FREE, NEVER, CommMode, DesfireFile
from .session import Session
from .status import DesfireError, DfStatus

__all__ = ["KS_ALLOW_CHANGE_MK", "KS_FREE_LISTING", "KS_FREE_CREATE_DELETE",
           "KS_CONFIG_CHANGEABLE", "CHANGE_KEY_SAME", "CHANGE_KEY_FROZEN",
           "require_master_unless", "file_mode", "expected_mode"]

KS_ALLOW_CHANGE_MK = 0x01
KS_FREE_LISTING = 0x02
KS_FREE_CREATE_DELETE = 0x04
KS_CONFIG_CHANGEABLE = 0x08
#: High nibble of an application's key settings: which key changes keys 1..13.
CHANGE_KEY_SAME = 0xE
CHANGE_KEY_FROZEN = 0xF


def require_master_unless(session: Session, key_settings: int, setting_bit: int,
                          what: str) -> None:
    """The level's master key (0) is needed unless *setting_bit* makes the command free."""
    if not key_settings & setting_bit:
        session.require_key(0, what)


def file_mode(session: Session, f: DesfireFile, keys: Sequence[int], what: str) -> CommMode:
    """Check that one of the access rights *keys* allows the command; the mode to use."""
    if FREE in keys:
        return CommMode.PLAIN
    if session.key_no is not None and session.key_no in keys:
        return f.comm
    if all(k == NEVER for k in keys):
        raise DesfireError(DfStatus.PERMISSION_DENIED, f"{what}: access never allowed")
    raise DesfireError(DfStatus.AUTHENTICATION_ERROR,
                       f"{what}: not authenticated with an allowed key")


def expected_mode(session: Session, f: DesfireFile, keys: Sequence[int]) -> CommMode:
    """The mode a write will be checked in, without refusing (to size a framed command)."""
    if FREE not in keys and session.key_no is not None and session.key_no in keys:
        return f.comm
    return CommMode.PLAIN
