"""Key commands: AuthenticateAES, key settings, key versions and ChangeKey's cryptogram.

ChangeKey sends the new key enciphered with the session: for the key the
session authenticated with, ``new key ‖ version ‖ CRC32(command ‖ new key ‖
version)``; for another key, ``(new XOR old) ‖ version ‖ CRC32(command ‖
(new XOR old) ‖ version) ‖ CRC32(new key)``, so only a holder of the old key
can set it. Changing the session's own key ends the session.
"""

from __future__ import annotations

from .access import KS_CONFIG_CHANGEABLE
from .context import CommandContext, Reply, need_length
from .crypto import BLOCK, crc32, tags_equal
from .model import KEY_TYPE_AES, CommMode
from .status import DesfireError, DfStatus

__all__ = ["authenticate", "get_key_settings", "change_key_settings", "get_key_version",
           "change_key", "new_key_from_cryptogram"]

_KEY_NO_MASK = 0x0F
_CRC = slice(BLOCK + 1, BLOCK + 5)
_NEW_KEY_CRC = slice(BLOCK + 5, BLOCK + 9)


def authenticate(cmd: CommandContext) -> Reply:
    """First pass of AuthenticateAES; the card sends the second pass to the session."""
    cmd.session.end()
    need_length(cmd.data, 1)
    key_no = cmd.data[0]
    return cmd.session.challenge(key_no, cmd.level.key(key_no), cmd.card.random)


def get_key_settings(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 0)
    cmd.session.in_plain(cmd.ins, cmd.data)
    level = cmd.level
    return cmd.session.reply(bytes((level.key_settings, KEY_TYPE_AES | level.key_count)))


def get_key_version(cmd: CommandContext) -> Reply:
    need_length(cmd.data, 1)
    version = cmd.level.key_version(cmd.data[0] & _KEY_NO_MASK)
    cmd.session.in_plain(cmd.ins, cmd.data)
    return cmd.session.reply(bytes((version,)))


def change_key_settings(cmd: CommandContext) -> Reply:
    cmd.session.require_key(0, "ChangeKeySettings")
    if not cmd.level.key_settings & KS_CONFIG_CHANGEABLE:
        raise DesfireError(DfStatus.PERMISSION_DENIED, "key settings are frozen")
    (settings,) = cmd.session.in_protected(cmd.ins, b"", cmd.data, CommMode.FULL, 1)
    cmd.level.set_key_settings(settings)
    return cmd.session.reply(b"")


def new_key_from_cryptogram(decrypted: bytes, head: bytes, old: bytes,
                            same: bool) -> tuple[bytes, int]:
    """(new key, version) from a deciphered ChangeKey cryptogram; INTEGRITY_ERROR if forged."""
    field, version = decrypted[:BLOCK], decrypted[BLOCK]
    checks = tags_equal(decrypted[_CRC], crc32(head + field + bytes((version,))))
    if same:
        new, padding = field, decrypted[_CRC.stop:]
    else:
        new = bytes(a ^ b for a, b in zip(field, old, strict=True))
        checks = checks and tags_equal(decrypted[_NEW_KEY_CRC], crc32(new))
        padding = decrypted[_NEW_KEY_CRC.stop:]
    if not checks or any(padding):
        raise DesfireError(DfStatus.INTEGRITY_ERROR, "ChangeKey cryptogram: CRC32 or padding wrong")
    return new, version


def change_key(cmd: CommandContext) -> Reply:
    session = cmd.session
    if session.key_no is None:
        raise DesfireError(DfStatus.AUTHENTICATION_ERROR, "ChangeKey needs authentication")
    if len(cmd.data) != 1 + 2 * BLOCK:
        raise DesfireError(DfStatus.LENGTH_ERROR, f"ChangeKey takes 33 bytes, got {len(cmd.data)}")
    key_byte, body = cmd.data[0], bytes(cmd.data[1:])
    target = key_byte & _KEY_NO_MASK
    session.require_key(cmd.level.change_key_authority(key_byte), "ChangeKey")
    old = cmd.level.key(target)
    same = session.key_no == target
    new, version = new_key_from_cryptogram(session.decrypt(body), bytes((cmd.ins, key_byte)),
                                           old, same)
    cmd.level.set_key(target, new, version)
    if same:
        session.end()
        return b""
    return session.reply(b"")
