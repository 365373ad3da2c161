"""Fixtures for the transit card: a loopback card on a fresh store, the TEST keys, a reader."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hcekit.store import MemoryStore, Store
from hcekit.testing.loopback import LoopbackRig, loopback_rig
from hcekit_transit import TRANSIT_AID, TRANSIT_DF_NAME, IssuerKeys, TransitPlugin
from hcekit_transit.layout import CardProfile, personalize
from hcekit_transit.persist import CardStore
from hcekit_transit.reader import DesfireReader

UID = bytes.fromhex("04112233445566")


@dataclass
class TransitRig:
    rig: LoopbackRig
    store: Store
    plugin: TransitPlugin
    reader: DesfireReader
    keys: IssuerKeys
    uid: bytes

    def key(self, role: str) -> bytes:
        return self.keys.role_key(role, self.uid, TRANSIT_AID)

    def snapshot(self) -> dict[str, bytes | None]:
        """Every stored key/value of the transit namespace (to prove nothing changed)."""
        ns = self.store.namespace("transit")
        return {k: ns.get(k) for k in ns.keys()}

    def open_app(self, role: str | None = None, key_no: int | None = None) -> DesfireReader:
        self.reader.select(TRANSIT_DF_NAME)
        if role is not None:
            number = {"app_master": 0, "validator": 1, "topup": 2, "inspector": 3}[role]
            self.reader.authenticate(number if key_no is None else key_no, self.key(role))
        return self.reader

    def retap(self) -> None:
        self.rig.terminal.disconnect()
        self.rig.terminal.connect()


RigFactory = Callable[..., TransitRig]


@pytest.fixture
def keys() -> IssuerKeys:
    return IssuerKeys.test_keys()


@pytest.fixture
def make_rig(keys: IssuerKeys) -> Iterator[RigFactory]:
    made: list[TransitRig] = []

    def make(store: Store | None = None, profile: CardProfile | None = None,
             personalised: bool = True) -> TransitRig:
        store = store if store is not None else MemoryStore()
        if personalised and CardStore(store.namespace("transit")).is_empty():
            personalize(CardStore(store.namespace("transit")), keys,
                        profile or CardProfile(uid=UID))
        plugin = TransitPlugin()
        rig = loopback_rig([plugin], store=store)
        rig.terminal.connect()
        uid = plugin.card.uid if plugin.card is not None else UID
        item = TransitRig(rig, store, plugin, DesfireReader(rig.terminal), keys, uid)
        made.append(item)
        return item

    yield make
    for item in made:
        item.rig.terminal.disconnect()
        item.rig.close()


@pytest.fixture
def transit(make_rig: RigFactory) -> TransitRig:
    return make_rig()
