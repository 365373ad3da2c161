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

A store on disk has one owner: :class:`SqliteStore` locks it while open
(:class:`StoreLock`), so a second process — a second ``hcekit serve``, a
``personalize`` — is refused with the holder named instead of overwriting a
running card's state. Keys are stored in clear in a file created 0600 in a
0700 directory; docs/user-guide.md says what protects them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import sqlite3
import stat
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StoreError
from .logs import get_logger

__all__ = ["MEMORY", "Store", "MemoryStore", "SqliteStore", "PluginStore", "StoreHolder",
           "StoreLock", "StoreLockedError", "open_store"]

#: The ``--store`` value for a throwaway in-memory store.
MEMORY = ":memory:"

log = get_logger("hcekit.store")


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

    def namespaces(self) -> list[str]:
        """The namespaces holding at least one key (which plugins have state here)."""
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

    def namespaces(self) -> list[str]:
        with self._lock:
            return sorted({n for n, _ in self._data})

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
    """SQLite backend (the default on disk). Safe across crashes and threads.

    One owner at a time: a writable store is locked (see :class:`StoreLock`)
    for as long as it is open, so two processes — or two cards in one
    process — never work on one card's state. ``read_only=True`` opens an
    existing store for reading without the lock (``show`` commands), and
    never creates anything. A new store file is created 0600; its directory
    must exist unless ``create_parent`` (then it is created 0700).
    """

    def __init__(self, path: str | Path, *, read_only: bool = False,
                 create_parent: bool = False, owner: str | None = None) -> None:
        super().__init__()
        if not str(path):
            raise StoreError("the store path is empty: give a file name, or "
                             f"'{MEMORY}' for a throwaway card")
        self.path = Path(path)
        #: The file itself, every symlink resolved: the lock and SQLite work on this name,
        #: so every path to one store meets one lock.
        self.file = Path(os.path.realpath(self.path))
        self.read_only = read_only
        #: True when this object created the store file (see :meth:`discard`).
        self.created = False
        self._lock_file: StoreLock | None = None
        self._no_table = False  # a read-only open of a file that holds no store yet
        if read_only:
            self._db = self._open_read_only()
            return
        _check_existing_file(self.path, self.file)
        _prepare_directory(self.path, self.file.parent, create_parent)
        self._lock_file = StoreLock.acquire(self.file, owner, shown_as=self.path)
        try:
            self.created = _create_private_file(self.file)
            self._db = self._open_writable()
        except BaseException:
            if self.created:  # nothing left behind by a store that never opened
                self.file.unlink(missing_ok=True)
            self._lock_file.release(remove=True)
            raise
        if not self.created:
            _warn_if_readable_by_others(self.path)

    def _open_read_only(self) -> sqlite3.Connection:
        if not self.file.is_file():
            raise StoreError(f"no store at {self.path}")
        base = f"file:{urllib.parse.quote(str(self.file))}?mode=ro"
        # A WAL database needs its -shm file to be read; when nobody has it open and the
        # directory is not ours to write, read the (checkpointed) file as immutable.
        for uri in (base, base + "&immutable=1"):
            try:
                db = sqlite3.connect(uri, uri=True, isolation_level=None,
                                     check_same_thread=False)
                self._no_table = db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='kv'"
                ).fetchone() is None
                return db
            except sqlite3.Error as exc:
                error = exc
        raise StoreError(f"cannot read store {self.path}: {error}") from error

    def _open_writable(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(str(self.file), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, "
                "value BLOB NOT NULL, PRIMARY KEY (ns, key))"
            )
            # SQLite opens an unwritable file read-only without a word; a card on it would
            # serve until its first commit fails. Take the write lock once to find out now.
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            db.close()
            if "not a database" in str(exc):
                raise StoreError(f"cannot open store {self.path}: not an hcekit store (the "
                                 "file is not a SQLite database)") from exc
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise StoreError(
                    f"store {self.path} is read-only ({exc}): a card on it could not commit "
                    "anything; fix its permissions, or use --store :memory: for a throwaway "
                    "card") from exc
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        return db

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    def _get(self, ns: str, key: str) -> bytes | None:
        if self._no_table:
            return None
        row = self._run("SELECT value FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
        return None if row is None else bytes(row[0])

    def _set(self, ns: str, key: str, value: bytes) -> None:
        self._run(
            "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(ns, key) DO UPDATE SET value=excluded.value",
            (ns, key, value),
        )

    def _delete(self, ns: str, key: str) -> None:
        self._run("DELETE FROM kv WHERE ns=? AND key=?", (ns, key))

    def _keys(self, ns: str, prefix: str) -> list[str]:
        if self._no_table:
            return []
        rows = self._run(
            "SELECT key FROM kv WHERE ns=? AND substr(key, 1, ?)=? ORDER BY key",
            (ns, len(prefix), prefix),
        ).fetchall()
        return [r[0] for r in rows]

    def namespaces(self) -> list[str]:
        if self._no_table:
            return []
        with self._lock:
            return [r[0] for r in self._run("SELECT DISTINCT ns FROM kv ORDER BY ns").fetchall()]

    def _begin(self) -> None:
        self._run("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._run("COMMIT")

    def _rollback(self) -> None:
        self._run("ROLLBACK")

    def close(self) -> None:
        """Close the database and give up ownership. Idempotent."""
        with self._lock:
            self._db.close()
            if self._lock_file is not None:
                self._lock_file.release()
                self._lock_file = None

    def discard(self) -> None:
        """Close, and delete the store if this object created it (a failed first write)."""
        created = self.created
        lock = self._lock_file
        with self._lock:
            self._db.close()
            if created:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{self.file}{suffix}").unlink(missing_ok=True)
            if lock is not None:
                lock.release(remove=created)
                self._lock_file = None


def _check_existing_file(given: Path, file: Path) -> None:
    """Refuse, before anything is created or locked, what can never be a store.

    A hard link is refused: SQLite keeps a database's ``-wal`` and journal per
    *name*, so two names of one database are a documented corruption risk
    (https://www.sqlite.org/howtocorrupt.html §2.5), and would meet two locks.
    Only ``stat``: opening and closing the file here would drop the POSIX locks
    an SQLite connection of this process holds on it (same page, §2.2).
    """
    try:
        info = file.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot open store {given}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(f"cannot open store {given}: it is a directory; name a file in it, "
                         f"e.g. {given / 'store.sqlite'}")
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"cannot open store {given}: not a regular file")
    if info.st_nlink > 1:
        raise StoreError(
            f"cannot open store {given}: the file has {info.st_nlink} hard links, and SQLite "
            "keeps a database's journal per name, so two names can corrupt it; keep one name "
            "(a symlink is fine)")


def _prepare_directory(given: Path, parent: Path, create_parent: bool) -> None:
    """Make sure *parent* exists; create it (and every missing folder above) 0700 if asked."""
    if parent.is_dir():
        return
    if parent.exists():
        raise StoreError(f"cannot open store {given}: {parent} is not a directory")
    if not create_parent:
        raise StoreError(f"cannot open store {given}: directory {parent} does not "
                         "exist (create it first; only the default store's directory is "
                         "created for you)")
    missing = [folder for folder in (parent, *parent.parents) if not folder.exists()]
    try:
        for folder in reversed(missing):
            os.mkdir(folder, 0o700)
            os.chmod(folder, 0o700)  # the umask may have taken bits away
    except OSError as exc:
        raise StoreError(f"cannot create the store directory {parent}: "
                         f"{exc.strerror or exc}") from exc


def _create_private_file(path: Path) -> bool:
    """Create *path* empty with mode 0600 whatever the umask (before SQLite creates it)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise StoreError(f"cannot create store {path}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return True


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning("store %s is open to other users (mode %04o) and holds card keys in clear; "
                    "chmod 600 %s", path, mode, path)


def describe_this_process() -> str:
    """``hcekit serve``-style name of this process for lock messages.

    Only the program and its leading sub-command words (letters and dashes):
    never option values or arguments, which may be keys, PINs or APDUs.
    """
    argv = sys.argv or ["python"]
    program = Path(argv[0])
    if program.name == "__main__.py":
        words = ["python", "-m", program.parent.name]
    else:
        words = [program.name if program.name not in ("", "-", "-c") else "python"]
    for word in argv[1:4]:
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        words.append(word)
    return " ".join(words)


class StoreLock:
    """The advisory lock that makes one process the owner of a store.

    A ``flock`` on the sidecar file ``STORE.lock`` next to the store's
    resolved file (not on the database, whose POSIX locks SQLite manages
    itself), so a symlink to a store meets the store's own lock. The owner
    writes its pid and command into the file, so a refused opener can name
    it. ``flock`` locks belong to the open file, so a second open in the same
    process is refused too, and the kernel drops the lock when the owner
    dies: a killed ``hcekit serve`` never leaves a store locked.
    """

    def __init__(self, path: Path, fd: int, *, created: bool = False) -> None:
        self.path = path
        self._fd: int | None = fd
        #: This object created the lock file (a store that never opened removes it).
        self.created = created

    @classmethod
    def acquire(cls, store_path: Path, owner: str | None = None, *,
                shown_as: Path | None = None) -> StoreLock:
        """Lock *store_path* (a resolved path); messages name it *shown_as*."""
        path = Path(f"{store_path}.lock")
        shown = shown_as or store_path
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
        except FileExistsError:
            created = False
            fd = -1
        except OSError as exc:
            raise cls._open_error(exc, shown, path) from exc
        if fd < 0:
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    # someone else's lock file: lock it read-only, and let the database say
                    # whether the store itself is writable
                    with contextlib.suppress(OSError):
                        fd = os.open(path, os.O_RDONLY)
                        return cls._lock(fd, shown, path, record=False, owner=owner)
                raise cls._open_error(exc, shown, path) from exc
        else:
            os.fchmod(fd, 0o600)  # whatever the umask
        lock = cls._lock(fd, shown, path, record=True, owner=owner)
        lock.created = created
        return lock

    @staticmethod
    def _open_error(exc: OSError, store_path: Path, path: Path) -> StoreError:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return StoreError(
                f"store {store_path} is read-only: cannot create its lock file {path} "
                f"({exc.strerror}); fix the directory's permissions, or use "
                "--store :memory: for a throwaway card")
        return StoreError(f"cannot lock store {store_path}: {exc.strerror or exc}")

    @classmethod
    def _lock(cls, fd: int, store_path: Path, path: Path, *, record: bool,
              owner: str | None) -> StoreLock:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(f"cannot lock store {store_path}: {exc.strerror}") from exc
            raise StoreLockedError(store_path, holder) from None
        if record:
            text = f"pid {os.getpid()}\ncommand {owner or describe_this_process()}\n"
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode(), 0)
        return cls(path, fd)

    def release(self, *, remove: bool = False) -> None:
        """Give up the lock; *remove* also deletes a lock file this object created."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            if remove and self.created:  # while still locked: nobody is waiting on it
                self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing drops the flock


def _read_holder(fd: int) -> StoreHolder | None:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return None
    fields = dict(line.partition(" ")[::2] for line in text.splitlines() if " " in line)
    pid = fields.get("pid", "")
    if not pid.isdigit():
        return None
    return StoreHolder(int(pid), fields.get("command", "?"))


@dataclass(frozen=True)
class StoreHolder:
    """The process that owns a store (as written in its lock file)."""

    pid: int
    command: str

    def __str__(self) -> str:
        me = " — this process" if self.pid == os.getpid() else ""
        return f"process {self.pid} ({self.command}{me})"


class StoreLockedError(StoreError):
    """Another process (or another card in this one) owns the store."""

    def __init__(self, path: Path, holder: StoreHolder | None) -> None:
        self.path = path
        self.holder = holder
        who = str(holder) if holder is not None else "another process"
        super().__init__(
            f"store {path} is in use by {who}: one card, one owner. Stop that process first, "
            "reach the card it serves through a reader (--reader), or use another --store")


def open_store(path: str | Path | None, *, read_only: bool = False,
               create_parent: bool = False) -> Store:
    """``None`` or ``":memory:"`` → :class:`MemoryStore`; a path → :class:`SqliteStore`."""
    if path is None or str(path) == MEMORY:
        return MemoryStore()
    return SqliteStore(path, read_only=read_only, create_parent=create_parent)


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
        import json  # on use: a card whose plugins store no JSON never imports it

        raw = self.get(key)
        return default if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any) -> None:
        import json

        self.set(key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())

