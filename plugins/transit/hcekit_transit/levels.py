"""What SelectApplication selects: the PICC level or an application, behind one interface.

The PICC level behaves as an application with one key (the card master key)
and no files; the differences (it manages applications, its key 0 must be an
AES key, its settings live in the ``picc`` record) are answered here, so a
command handler never asks which level is selected.

A level is read from the store inside the store transaction of the command
that uses it, and every change is written back in that same transaction: the
card holds no copy that could overwrite a newer commit.
"""

from __future__ import annotations

from .access import CHANGE_KEY_FROZEN, CHANGE_KEY_SAME, KS_ALLOW_CHANGE_MK
from .model import KEY_TYPE_AES, KEY_TYPE_MASK, PICC_AID, Application, DesfireFile, Picc
from .persist import CardStore
from .status import DesfireError, DfStatus

__all__ = ["Level", "PiccLevel", "ApplicationLevel", "load_level"]


class Level:
    """The interface both levels offer to command handlers."""

    aid: bytes
    key_settings: int
    key_count: int

    def __init__(self, store: CardStore) -> None:
        self.store = store

    @property
    def application(self) -> Application:
        """The selected application; PERMISSION_DENIED at the PICC level (no files there)."""
        raise NotImplementedError

    @property
    def files(self) -> dict[int, DesfireFile]:
        """The level's files (none at the PICC level)."""
        raise NotImplementedError

    def require_picc(self, what: str) -> None:
        """Commands that manage applications run at the PICC level only."""
        raise NotImplementedError

    def key(self, key_no: int) -> bytes:
        raise NotImplementedError

    def key_version(self, key_no: int) -> int:
        raise NotImplementedError

    def change_key_authority(self, key_byte: int) -> int:
        """The key a session must hold to run ChangeKey with *key_byte*; refuses frozen keys."""
        raise NotImplementedError

    def set_key(self, key_no: int, key: bytes, version: int) -> None:
        raise NotImplementedError

    def set_key_settings(self, settings: int) -> None:
        raise NotImplementedError


class PiccLevel(Level):
    """Application 000000: the card master key, and the applications below it."""

    aid = PICC_AID
    key_count = 1

    def __init__(self, store: CardStore, picc: Picc) -> None:
        super().__init__(store)
        self.picc = picc
        self.key_settings = picc.key_settings

    @property
    def application(self) -> Application:
        raise DesfireError(DfStatus.PERMISSION_DENIED,
                           "command needs an application, PICC selected")

    @property
    def files(self) -> dict[int, DesfireFile]:
        return {}

    def require_picc(self, what: str) -> None:
        return None

    def key(self, key_no: int) -> bytes:
        if key_no != 0:
            raise DesfireError(DfStatus.NO_SUCH_KEY, f"the PICC has only key 0, not {key_no}")
        return self.picc.master_key

    def key_version(self, key_no: int) -> int:
        self.key(key_no)
        return self.picc.master_key_version

    def change_key_authority(self, key_byte: int) -> int:
        if key_byte & 0x0F != 0 or key_byte & KEY_TYPE_MASK != KEY_TYPE_AES:
            raise DesfireError(DfStatus.PARAMETER_ERROR, "the PICC master key is AES key 0")
        if not self.key_settings & KS_ALLOW_CHANGE_MK:
            raise DesfireError(DfStatus.PERMISSION_DENIED, "the PICC master key is frozen")
        return 0

    def set_key(self, key_no: int, key: bytes, version: int) -> None:
        self.store.save(picc=self.picc._replace(master_key=key, master_key_version=version))

    def set_key_settings(self, settings: int) -> None:
        self.store.save(picc=self.picc._replace(key_settings=settings))


class ApplicationLevel(Level):
    """One application: its keys, its key settings and its files."""

    def __init__(self, store: CardStore, app: Application) -> None:
        super().__init__(store)
        self.app = app
        self.aid = app.aid
        self.key_settings = app.key_settings
        self.key_count = app.key_count

    @property
    def application(self) -> Application:
        return self.app

    @property
    def files(self) -> dict[int, DesfireFile]:
        return self.app.files

    def require_picc(self, what: str) -> None:
        raise DesfireError(DfStatus.PERMISSION_DENIED, f"{what} at application level")

    def key(self, key_no: int) -> bytes:
        if key_no >= self.key_count:
            raise DesfireError(DfStatus.NO_SUCH_KEY,
                               f"application has {self.key_count} keys, not {key_no}")
        return self.app.keys[key_no]

    def key_version(self, key_no: int) -> int:
        self.key(key_no)
        return self.app.key_versions[key_no]

    def change_key_authority(self, key_byte: int) -> int:
        target = key_byte & 0x0F
        if target >= self.key_count:
            raise DesfireError(DfStatus.NO_SUCH_KEY, f"no key {target}")
        change = self.key_settings >> 4
        if target == 0:
            if not self.key_settings & KS_ALLOW_CHANGE_MK:
                raise DesfireError(DfStatus.PERMISSION_DENIED,
                                   "the application master key is frozen")
            return 0
        if change == CHANGE_KEY_FROZEN:
            raise DesfireError(DfStatus.PERMISSION_DENIED, "application keys are frozen")
        return target if change == CHANGE_KEY_SAME else change

    def set_key(self, key_no: int, key: bytes, version: int) -> None:
        keys, versions = list(self.app.keys), list(self.app.key_versions)
        keys[key_no], versions[key_no] = key, version
        self.store.save(apps=[self.app._replace(keys=tuple(keys), key_versions=tuple(versions))])

    def set_key_settings(self, settings: int) -> None:
        self.store.save(apps=[self.app._replace(key_settings=settings)])


def load_level(store: CardStore, aid: bytes) -> Level:
    """The level *aid* names, as the store holds it now."""
    if aid == PICC_AID:
        return PiccLevel(store, store.picc())
    app = store.app(aid)
    if app is None:
        raise DesfireError(DfStatus.APPLICATION_NOT_FOUND, f"no application {aid.hex().upper()}")
    return ApplicationLevel(store, app)
