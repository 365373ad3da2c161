"""Where the card's DESFire state lives in the plugin store, and atomic writes to it.

One key per object: ``picc`` (card identity and master key) and
``app/<aid>`` (an application with its keys and files). Every change of the
card is one call here, inside one ``store.transaction()``: a process killed
mid-write leaves the previous value of every key.
"""

from __future__ import annotations

from collections.abc import Iterable

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

    def load(self) -> tuple[Picc, dict[bytes, Application]] | None:
        """The personalised card, or None when the store holds none."""
        raw = self.store.get_json(PICC_KEY)
        if raw is None:
            return None
        apps: dict[bytes, Application] = {}
        for key in self.store.keys(APP_PREFIX):
            app = app_from_json(self.store.get_json(key))
            apps[app.aid] = app
        return picc_from_json(raw), apps

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
