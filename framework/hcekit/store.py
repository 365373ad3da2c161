"""Per-plugin persistent state with atomic transactions.

The Java Card idea: everything written between ``beginTransaction`` and
``commitTransaction`` lands together or not at all, even if power is lost in
between. Here ``with plugin.store.transaction(): ...`` commits on normal exit
and rolls back on an exception; a process killed inside the block leaves the
old state, because :class:`SqliteStore` keeps the whole block in one SQLite
transaction (rollback journal / WAL do the anti-tearing). A single ``set``
outside a transaction is atomic by itself.

Values are bytes; ``get_int``/``get_json`` are conveniences on top. Nested
``transaction()`` blocks join the outermost one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .errors import StoreError

__all__ = ["Store", "MemoryStore", "SqliteStore", "PluginStore", "open_store"]


class Store:
    """A backend holding every plugin's namespace. Subclasses implement the ``_`` methods."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0

    def namespace(self, name: str) -> PluginStore:
        """The store of one plugin (plugins never see each other's keys)."""
        return PluginStore(self, name)

    # backend primitives (called with the lock held)
    def _get(self, ns: str, key: str) -> bytes | None:
        raise NotImplementedError

    def _set(self, ns: str, key: str, value: bytes) -> None:
        raise NotImplementedError

    def _delete(self, ns: str, key: str) -> None:
        raise NotImplementedError

    def _keys(self, ns: str, prefix: str) -> list[str]:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the backend (no-op for memory)."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes in the block land together, or none does."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._begin()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._rollback()
                raise
            self._depth -= 1
            if outer:
                self._commit()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0


class MemoryStore(Store):
    """In-memory backend for tests and the demo; transactions work the same way."""

    def __init__(self) -> None:
        super().__init__()
        self._data: dict[tuple[str, str], bytes] = {}
        self._undo: dict[tuple[str, str], bytes | None] | None = None

    def _remember(self, k: tuple[str, str]) -> None:
        if self._undo is not None and k not in self._undo:
            self._undo[k] = self._data.get(k)

    def _get(self, ns: str, key: str) -> bytes | None:
        return self._data.get((ns, key))

    def _set(self, ns: str, key: str, value: bytes) -> None:
        self._remember((ns, key))
        self._data[(ns, key)] = value

    def _delete(self, ns: str, key: str) -> None:
        self._remember((ns, key))
        self._data.pop((ns, key), None)

    def _keys(self, ns: str, prefix: str) -> list[str]:
        return sorted(k for n, k in self._data if n == ns and k.startswith(prefix))

    def _begin(self) -> None:
        self._undo = {}

    def _commit(self) -> None:
        self._undo = None

    def _rollback(self) -> None:
        assert self._undo is not None
        for k, old in self._undo.items():
            if old is None:
                self._data.pop(k, None)
            else:
                self._data[k] = old
        self._undo = None


class SqliteStore(Store):
    """SQLite backend (the default on disk). Safe across crashes and threads."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, "
                "value BLOB NOT NULL, PRIMARY KEY (ns, key))"
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc

    def _get(self, ns: str, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
        return None if row is None else bytes(row[0])

    def _set(self, ns: str, key: str, value: bytes) -> None:
        self._db.execute(
            "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(ns, key) DO UPDATE SET value=excluded.value",
            (ns, key, value),
        )

    def _delete(self, ns: str, key: str) -> None:
        self._db.execute("DELETE FROM kv WHERE ns=? AND key=?", (ns, key))

    def _keys(self, ns: str, prefix: str) -> list[str]:
        rows = self._db.execute(
            "SELECT key FROM kv WHERE ns=? AND substr(key, 1, ?)=? ORDER BY key",
            (ns, len(prefix), prefix),
        ).fetchall()
        return [r[0] for r in rows]

    def _begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._db.execute("COMMIT")

    def _rollback(self) -> None:
        self._db.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(path: str | Path | None) -> Store:
    """``None`` or ``":memory:"`` → :class:`MemoryStore`; a path → :class:`SqliteStore`."""
    if path is None or str(path) == ":memory:":
        return MemoryStore()
    return SqliteStore(path)


class PluginStore:
    """One plugin's view of the store: keys are strings, values bytes."""

    def __init__(self, backend: Store, namespace: str) -> None:
        self._backend = backend
        self.namespace = namespace

    def transaction(self) -> AbstractContextManager[None]:
        """Atomic block (see the module docstring). Joins an enclosing transaction."""
        return self._backend.transaction()

    @property
    def in_transaction(self) -> bool:
        return self._backend.in_transaction

    def get(self, key: str, default: bytes | None = None) -> bytes | None:
        with self._backend._lock:
            value = self._backend._get(self.namespace, key)
        return default if value is None else value

    def set(self, key: str, value: bytes) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise StoreError(f"store values are bytes; got {type(value).__name__} for {key!r}")
        with self._backend._lock:
            self._backend._set(self.namespace, key, bytes(value))

    def delete(self, key: str) -> None:
        with self._backend._lock:
            self._backend._delete(self.namespace, key)

    def keys(self, prefix: str = "") -> list[str]:
        with self._backend._lock:
            return self._backend._keys(self.namespace, prefix)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    # conveniences
    def get_int(self, key: str, default: int = 0) -> int:
        raw = self.get(key)
        return default if raw is None else int.from_bytes(raw, "big", signed=True)

    def set_int(self, key: str, value: int) -> None:
        length = max(1, (value.bit_length() + 8) // 8)
        self.set(key, value.to_bytes(length, "big", signed=True))

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self.get(key)
        return default if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any) -> None:
        self.set(key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())

