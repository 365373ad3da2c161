"""Every path to one store meets one lock; files and folders are private whatever the umask.

Issue 31 items 1-3: a symlink or a hard link to a served store used to get a
lock of its own; a dangling symlink made SQLite create the target with the
umask's mode; folders above the store followed the umask; a failed open left
a ``.lock`` behind.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hcekit.errors import StoreError
from hcekit.store import SqliteStore, StoreLockedError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_a_symlink_meets_the_lock_of_its_target(tmp_path: Path) -> None:
    owner = SqliteStore(tmp_path / "s.sqlite")
    (tmp_path / "link.sqlite").symlink_to("s.sqlite")
    try:
        with pytest.raises(StoreLockedError):
            SqliteStore(tmp_path / "link.sqlite")
    finally:
        owner.close()
    assert not (tmp_path / "link.sqlite.lock").exists()


def test_a_symlinked_folder_meets_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    owner = SqliteStore(tmp_path / "real" / "s.sqlite")
    try:
        with pytest.raises(StoreLockedError):
            SqliteStore(tmp_path / "alias" / "s.sqlite")
    finally:
        owner.close()


def test_a_hard_link_is_refused_before_it_opens(tmp_path: Path) -> None:
    owner = SqliteStore(tmp_path / "s.sqlite")
    os.link(tmp_path / "s.sqlite", tmp_path / "hard.sqlite")
    try:
        with pytest.raises(StoreError, match="hard link"):
            SqliteStore(tmp_path / "hard.sqlite")
        owner.close()
        # also with nobody holding it: two names mean two -wal files (a corruption risk)
        with pytest.raises(StoreError, match="hard link"):
            SqliteStore(tmp_path / "s.sqlite")
    finally:
        owner.close()
    assert not (tmp_path / "hard.sqlite-wal").exists()
    assert not (tmp_path / "hard.sqlite.lock").exists()


def test_a_dangling_symlink_creates_a_private_target(tmp_path: Path, umask_000: None) -> None:
    (tmp_path / "link.sqlite").symlink_to("target.sqlite")
    store = SqliteStore(tmp_path / "link.sqlite")
    store.namespace("p").set("k", b"secret")
    store.close()
    assert _mode(tmp_path / "target.sqlite") == 0o600
    for sidecar in tmp_path.glob("target.sqlite*"):
        assert _mode(sidecar) & 0o077 == 0, sidecar


def test_created_folders_are_0700_whatever_the_umask(tmp_path: Path, umask_000: None) -> None:
    store = SqliteStore(tmp_path / "a" / "b" / "c" / "s.sqlite", create_parent=True)
    store.close()
    for folder in ("a", "a/b", "a/b/c"):
        assert _mode(tmp_path / folder) == 0o700, folder
    assert _mode(tmp_path / "a/b/c/s.sqlite") == 0o600
    assert _mode(tmp_path / "a/b/c/s.sqlite.lock") == 0o600


def test_files_are_0600_under_an_odd_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)  # would make a 0600 request 0400
    try:
        SqliteStore(tmp_path / "s.sqlite").close()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "s.sqlite") == 0o600
    assert _mode(tmp_path / "s.sqlite.lock") == 0o600


def test_a_folder_is_refused_as_a_folder_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(StoreError, match="is a directory"):
        SqliteStore(tmp_path / "adir")
    assert sorted(tmp_path.rglob("*")) == before


def test_an_empty_path_is_refused_and_leaves_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError):
        SqliteStore("")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_store_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database, just long enough to have a header\n")
    with pytest.raises(StoreError, match="not an hcekit store"):
        SqliteStore(tmp_path / "notes.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
