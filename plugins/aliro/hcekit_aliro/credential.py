"""The credential's persistent state in the plugin store, and how it is personalised.

Store layout (namespace ``aliro``), every write inside a store transaction:

* ``endpoint_private_key`` — the credential's P-256 scalar (32 bytes);
* ``config`` — JSON: trusted reader groups (group identifier → reader
  verification key and/or reader-system issuer key), signaling options and
  the timestamps AUTH1 and the cryptogram report;
* ``kpersistent/<reader identifier hex>`` — JSON ``{"reader_public", "persistent_key"}``,
  one per reader that finished a standard transaction, and
  ``kpersistent_index`` — their reader identifiers, least recently used first.
  An entry and the index change in one transaction: a torn tap leaves the
  previous complete state, never half a key or an index naming a missing entry;
* ``mailbox`` — the reader-writable mailbox; ``access_document`` and
  ``revocation_document`` — the step-up documents (CBOR).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from hcekit.store import PluginStore

from .assumptions import KPERSISTENT_CACHE_SIZE, MAILBOX_SIZE
from .crypto import generate_key, load_point, point_of
from .protocol import (
    ACCESS_DOCUMENT_TYPE,
    READER_GROUP_LENGTH,
    REVOCATION_DOCUMENT_TYPE,
    TIMESTAMP_LENGTH,
)
from .stepup import AccessDocument, build_access_document
from .storage import (
    KEY_CONFIG,
    KEY_DOCUMENT,
    KEY_ENDPOINT,
    KEY_INDEX,
    KEY_MAILBOX,
    KEY_PERSISTENT_PREFIX,
    KEY_REVOCATION,
    add_options,
    is_personalised,
)
from .testkeys import TEST_GROUP_ID, test_credential_issuer_key, test_issuer_key, test_reader_key

__all__ = ["CachedReader", "Credential", "Personalization", "TrustedGroup", "add_options"]


@dataclass(frozen=True)
class TrustedGroup:
    """A reader group this credential opens (Matter: group identifier + verification key)."""

    group_id: bytes
    reader_public: bytes | None = None   # verifies AUTH1 without a certificate
    issuer_public: bytes | None = None   # verifies reader certificates (LOAD CERT / tag 90)

    def to_json(self) -> dict[str, str | None]:
        return {"group": self.group_id.hex(),
                "reader_public": self.reader_public.hex() if self.reader_public else None,
                "issuer_public": self.issuer_public.hex() if self.issuer_public else None}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TrustedGroup:
        rp, ip = raw.get("reader_public"), raw.get("issuer_public")
        return cls(bytes.fromhex(raw["group"]), bytes.fromhex(rp) if rp else None,
                   bytes.fromhex(ip) if ip else None)


@dataclass(frozen=True)
class CachedReader:
    reader_public: bytes
    kpersistent: bytes


@dataclass
class Personalization:
    """What ``hcekit aliro personalize`` (or the first start) writes into the store."""

    groups: list[TrustedGroup]
    endpoint_key: ec.EllipticCurvePrivateKey = field(default_factory=generate_key)
    document_issuer: ec.EllipticCurvePrivateKey | None = None
    access_data: dict[str, Any] = field(default_factory=lambda: {"0": 1, "1": b"hcekit"})
    credential_timestamp: bytes = bytes(TIMESTAMP_LENGTH)
    revocation_timestamp: bytes = bytes(TIMESTAMP_LENGTH)
    mailbox_write: bool = True
    test: bool = False

    def __post_init__(self) -> None:
        for group in self.groups:
            if len(group.group_id) != READER_GROUP_LENGTH:
                raise ValueError("a reader group identifier is 16 bytes")
            if group.reader_public is None and group.issuer_public is None:
                raise ValueError(f"reader group {group.group_id.hex()}: give a reader key "
                                 "or an issuer key")
            for key in (group.reader_public, group.issuer_public):
                if key is not None:
                    load_point(key)
        for stamp in (self.credential_timestamp, self.revocation_timestamp):
            if len(stamp) != TIMESTAMP_LENGTH:
                raise ValueError("timestamps are 20 bytes")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Personalization:
        """From the declared ``aliro.*`` options (see :func:`add_options`); TEST group by default."""
        group_id = options.get("group")
        reader_key, issuer_key = options.get("reader_key"), options.get("issuer_key")
        if group_id is None:
            if reader_key is not None or issuer_key is not None:
                raise ValueError("aliro.reader_key / aliro.issuer_key need aliro.group")
            default = cls.test_default()
            groups = default.groups
        else:
            if reader_key is None and issuer_key is None:
                raise ValueError("aliro.group needs aliro.reader_key or aliro.issuer_key")
            groups = [TrustedGroup(group_id, reader_key, issuer_key)]
        return cls(groups=groups,
                   document_issuer=test_credential_issuer_key() if options.get("documents", True)
                   else None,
                   mailbox_write=bool(options.get("mailbox_write", True)),
                   test=group_id is None)

    @classmethod
    def test_default(cls) -> Personalization:
        """The TEST reader group (reader key and issuer key from :mod:`.testkeys`)."""
        return cls(groups=[TrustedGroup(TEST_GROUP_ID, point_of(test_reader_key()),
                                        point_of(test_issuer_key()))],
                   document_issuer=test_credential_issuer_key(), test=True)

    def write(self, store: PluginStore) -> None:
        document = revocation = None
        if self.document_issuer is not None:
            document = build_access_document(self.document_issuer, point_of(self.endpoint_key),
                                             self.access_data)
            revocation = build_access_document(self.document_issuer, None, {"1": []},
                                               doc_type=REVOCATION_DOCUMENT_TYPE)
        config = {
            "groups": [g.to_json() for g in self.groups],
            "credential_timestamp": self.credential_timestamp.hex(),
            "revocation_timestamp": self.revocation_timestamp.hex(),
            "mailbox_write": self.mailbox_write,
            "test": self.test,
        }
        scalar = self.endpoint_key.private_numbers().private_value.to_bytes(32, "big")
        with store.transaction():
            for key in store.keys():
                store.delete(key)
            store.set(KEY_ENDPOINT, scalar)
            store.set_json(KEY_CONFIG, config)
            store.set_json(KEY_INDEX, [])
            store.set(KEY_MAILBOX, bytes(MAILBOX_SIZE))
            if document is not None and revocation is not None:
                store.set(KEY_DOCUMENT, document.encoded)
                store.set(KEY_REVOCATION, revocation.encoded)


class Credential:
    """Typed access to the store; reads are cached per instance, writes are transactional."""

    def __init__(self, store: PluginStore) -> None:
        self.store = store
        self._endpoint: ec.EllipticCurvePrivateKey | None = None
        self._config: dict[str, Any] | None = None

    @property
    def personalised(self) -> bool:
        return is_personalised(self.store)

    @property
    def endpoint_key(self) -> ec.EllipticCurvePrivateKey:
        if self._endpoint is None:
            raw = self.store.get(KEY_ENDPOINT)
            if raw is None:
                raise LookupError("the Aliro credential is not personalised")
            self._endpoint = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        return self._endpoint

    @property
    def endpoint_public(self) -> bytes:
        return point_of(self.endpoint_key)

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = self.store.get_json(KEY_CONFIG, {}) or {}
        return self._config

    def group(self, group_id: bytes) -> TrustedGroup | None:
        for raw in self.config.get("groups", []):
            group = TrustedGroup.from_json(raw)
            if group.group_id == group_id:
                return group
        return None

    @property
    def timestamps(self) -> tuple[bytes, bytes]:
        zero = bytes(TIMESTAMP_LENGTH).hex()
        return (bytes.fromhex(self.config.get("credential_timestamp", zero)),
                bytes.fromhex(self.config.get("revocation_timestamp", zero)))

    @property
    def mailbox_writable(self) -> bool:
        return bool(self.config.get("mailbox_write", True))

    # -- Kpersistent cache ------------------------------------------------------------------

    def cached_reader(self, reader_id: bytes) -> CachedReader | None:
        raw = self.store.get_json(KEY_PERSISTENT_PREFIX + reader_id.hex())
        if not raw:
            return None
        return CachedReader(bytes.fromhex(raw["reader_public"]),
                            bytes.fromhex(raw["persistent_key"]))

    def cached_readers(self) -> list[bytes]:
        return [bytes.fromhex(h) for h in self.store.get_json(KEY_INDEX, []) or []]

    def remember(self, reader_id: bytes, reader_public: bytes, kpersistent: bytes) -> None:
        """Store (or refresh) this reader's Kpersistent atomically, evicting the LRU entry."""
        name = reader_id.hex()
        with self.store.transaction():
            index = [h for h in self.store.get_json(KEY_INDEX, []) or [] if h != name]
            index.append(name)
            while len(index) > KPERSISTENT_CACHE_SIZE:
                self.store.delete(KEY_PERSISTENT_PREFIX + index.pop(0))
            self.store.set_json(KEY_PERSISTENT_PREFIX + name,
                                {"reader_public": reader_public.hex(),
                                 "persistent_key": kpersistent.hex()})
            self.store.set_json(KEY_INDEX, index)

    # -- mailbox and documents -----------------------------------------------------------------

    @property
    def mailbox(self) -> bytes:
        return self.store.get(KEY_MAILBOX) or bytes(MAILBOX_SIZE)

    def write_mailbox(self, content: bytes) -> None:
        with self.store.transaction():
            self.store.set(KEY_MAILBOX, content)

    @property
    def documents(self) -> list[AccessDocument]:
        """The step-up documents held: the Access Document and the Revocation Document."""
        held = []
        for key, doc_type in ((KEY_DOCUMENT, ACCESS_DOCUMENT_TYPE),
                              (KEY_REVOCATION, REVOCATION_DOCUMENT_TYPE)):
            raw = self.store.get(key)
            if raw is not None:
                held.append(AccessDocument(doc_type, raw))
        return held
