"""Where the card's DESFire state lives in the plugin store, and atomic writes to it.

One key per object: ``picc`` (card identity and master key) and
``app/<aid>`` (an application with its keys and files). Every change of the
card is one call here, inside one ``store.transaction()``: a process killed
mid-write leaves the previous value of every key.

The card keeps no copy of these objects between commands: each command reads
what it needs inside :meth:`CardStore.transaction` and writes its changes in
the same transaction, so a stale copy can never overwrite a newer commit
(another card on the same store, a re-personalisation).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager

from hcekit.errors import StoreError
from hcekit.store import PluginStore

from .model import Application, Picc, app_from_json, app_to_json, picc_from_json, picc_to_json

__all__ = ["CardStore"]

PICC_KEY = "picc"
APP_PREFIX = "app/"


class CardStore:
    def __init__(self, store: PluginStore) -> None:
        self.store = store

    def is_empty(self) -> bool:
        return PICC_KEY not in self.store

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic read-modify-write of the card (joins an enclosing transaction)."""
        return self.store.transaction()

    def picc(self) -> Picc:
        """The PICC record; StoreError when the store holds no personalised card."""
        raw = self.store.get_json(PICC_KEY)
        if raw is None:
            raise StoreError("the store holds no personalised transit card")
        return picc_from_json(raw)

    def app(self, aid: bytes) -> Application | None:
        raw = self.store.get_json(APP_PREFIX + aid.hex())
        return None if raw is None else app_from_json(raw)

    def app_ids(self) -> list[bytes]:
        return [bytes.fromhex(key[len(APP_PREFIX):]) for key in self.store.keys(APP_PREFIX)]

    def apps(self) -> dict[bytes, Application]:
        apps: dict[bytes, Application] = {}
        for key in self.store.keys(APP_PREFIX):
            app = app_from_json(self.store.get_json(key))
            apps[app.aid] = app
        return apps

    def load(self) -> tuple[Picc, dict[bytes, Application]] | None:
        """The personalised card, or None when the store holds none."""
        with self.transaction():
            if self.is_empty():
                return None
            return self.picc(), self.apps()

    def save(self, *, picc: Picc | None = None, apps: Iterable[Application] = (),
             deleted: Iterable[bytes] = ()) -> None:
        """Write the given objects together, or none of them."""
        with self.store.transaction():
            if picc is not None:
                self.store.set_json(PICC_KEY, picc_to_json(picc))
            for app in apps:
                self.store.set_json(APP_PREFIX + app.aid.hex(), app_to_json(app))
            for aid in deleted:
                self.store.delete(APP_PREFIX + aid.hex())

    def replace_all(self, picc: Picc, apps: Iterable[Application]) -> None:
        """Personalisation: drop every stored application, write the new card."""
        with self.store.transaction():
            for key in self.store.keys(APP_PREFIX):
                self.store.delete(key)
            self.save(picc=picc, apps=apps)
