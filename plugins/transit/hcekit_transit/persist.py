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

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from hcekit.errors import StoreError
from hcekit.store import PluginStore

from .model import Application, Picc, app_from_json, app_to_json, picc_from_json, picc_to_json

__all__ = ["CardStore"]

T = TypeVar("T")

PICC_KEY = "picc"
APP_PREFIX = "app/"


class CardStore:
    """The card's objects in one plugin store, read fresh on every call."""

    def __init__(self, store: PluginStore) -> None:
        self.store = store
        #: Decoded objects by store key, with the exact bytes they were decoded from. Only a
        #: decoding shortcut: every read still fetches the stored bytes and decodes again
        #: when they differ, so this never stands in for the stored state.
        self._decoded: dict[str, tuple[bytes, Any]] = {}

    def _read(self, key: str, decode: Callable[[Any], T]) -> T | None:
        raw = self.store.get(key)
        if raw is None:
            return None
        seen = self._decoded.get(key)
        if seen is not None and seen[0] == raw:
            value: T = seen[1]
            return value
        value = decode(json.loads(raw))
        self._decoded[key] = (raw, value)
        return value

    def is_empty(self) -> bool:
        return PICC_KEY not in self.store

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic read-modify-write of the card (joins an enclosing transaction)."""
        return self.store.transaction()

    def picc(self) -> Picc:
        """The PICC record; StoreError when the store holds no personalised card."""
        picc = self._read(PICC_KEY, picc_from_json)
        if picc is None:
            raise StoreError("the store holds no personalised transit card")
        return picc

    def app(self, aid: bytes) -> Application | None:
        return self._read(APP_PREFIX + aid.hex(), app_from_json)

    def app_ids(self) -> list[bytes]:
        return [bytes.fromhex(key[len(APP_PREFIX):]) for key in self.store.keys(APP_PREFIX)]

    def apps(self) -> dict[bytes, Application]:
        apps: dict[bytes, Application] = {}
        for key in self.store.keys(APP_PREFIX):
            app = self._read(key, app_from_json)
            if app is not None:
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
