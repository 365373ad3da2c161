"""One owner per store, keys at rest, and store paths that are never created by surprise."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hcekit.errors import StoreError
from hcekit.store import SqliteStore, StoreLockedError, open_store
from hcekit.testing.requirements import missing

HOLDER = textwrap.dedent("""
    import sys
    from hcekit.store import SqliteStore
    store = SqliteStore(sys.argv[1], owner="hcekit serve")
    store.namespace("p").set("k", b"v")
    print("holding", flush=True)
    sys.stdin.readline()
""")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "s.sqlite")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_process_is_refused_with_the_holder_named(
        tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(StoreLockedError) as info:
        SqliteStore(tmp_path / "s.sqlite")
    assert info.value.holder is not None
    assert info.value.holder.pid == holder.pid
    assert f"in use by process {holder.pid} (hcekit serve)" in str(info.value)


def test_readers_need_no_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    reader = SqliteStore(tmp_path / "s.sqlite", read_only=True)
    assert reader.namespace("p").get("k") == b"v"
    with pytest.raises(StoreError, match="readonly"):
        reader.namespace("p").set("k", b"overwritten")
    reader.close()


def test_a_killed_owner_leaves_the_store_free(tmp_path: Path,
                                              holder: subprocess.Popen[str]) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    store = SqliteStore(tmp_path / "s.sqlite")
    assert store.namespace("p").get("k") == b"v"
    store.close()


def test_one_owner_inside_one_process_too(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "s.sqlite")
    with pytest.raises(StoreLockedError, match=f"process {os.getpid()} .*this process"):
        SqliteStore(tmp_path / "s.sqlite")
    first.close()
    second = SqliteStore(tmp_path / "s.sqlite")  # closing gives the store up
    second.close()
    second.close()  # idempotent


def test_lock_names_no_option_values(tmp_path: Path) -> None:
    """The holder's command line may carry keys or PINs: only its sub-command words are kept."""
    script = textwrap.dedent("""
        import sys
        from hcekit.store import describe_this_process
        sys.argv = ["/usr/bin/hcekit", "payment", "personalize", "--imk", "00112233", "x"]
        print(describe_this_process())
        sys.argv = ["/usr/bin/hcekit", "send", "0020000008123456"]
        print(describe_this_process())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["hcekit payment personalize", "hcekit send"]


def test_new_store_and_directory_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = SqliteStore(tmp_path / "home" / "hcekit" / "s.sqlite", create_parent=True)
        store.namespace("p").set("key", b"secret")
        with store.transaction():
            store.namespace("p").set("key2", b"secret")
        files = sorted((tmp_path / "home" / "hcekit").iterdir())
        assert {f.name for f in files} >= {"s.sqlite", "s.sqlite.lock", "s.sqlite-wal"}
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(tmp_path / "home" / "hcekit") == 0o700
        store.close()
    finally:
        os.umask(old)


def test_an_existing_store_open_to_others_is_reported(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path).close()
    path.chmod(0o644)
    SqliteStore(path).close()
    assert f"store {path} is open to other users (mode 0644)" in caplog.text
    assert f"chmod 600 {path}" in caplog.text


def test_a_missing_directory_is_an_error_unless_asked(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"directory .*nowhere does not exist"):
        open_store(tmp_path / "nowhere" / "s.sqlite")
    assert not (tmp_path / "nowhere").exists()


def test_reading_never_creates_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "s.sqlite", read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_discard_removes_a_store_this_object_created(tmp_path: Path) -> None:
    fresh = SqliteStore(tmp_path / "new.sqlite")
    fresh.namespace("p").set("k", b"v")
    fresh.discard()
    assert list(tmp_path.iterdir()) == []
    kept = SqliteStore(tmp_path / "old.sqlite")
    kept.namespace("p").set("k", b"v")
    kept.close()
    again = SqliteStore(tmp_path / "old.sqlite")
    again.discard()  # not created by this object: closed, not deleted
    assert SqliteStore(tmp_path / "old.sqlite", read_only=True).namespace("p").get("k") == b"v"


def unprivileged(command: list[str]) -> list[str]:
    """*command* run as a user who cannot write root's files (root ignores file modes)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        missing("setpriv (util-linux) to test a read-only store as root")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]


@pytest.fixture
def readonly_store() -> Iterator[Path]:
    """A store that holds a card but that the test's (unprivileged) process cannot write."""
    top = Path(tempfile.mkdtemp(prefix="hcekit-ro-"))
    try:
        top.chmod(0o755)
        path = top / "s.sqlite"
        store = SqliteStore(path)
        store.namespace("p").set("k", b"v")
        store.close()
        for name in ("s.sqlite", "s.sqlite.lock"):
            (top / name).chmod(0o444)
        top.chmod(0o555)
        yield path
    finally:
        top.chmod(0o755)
        shutil.rmtree(top)


OPEN_FOR_WRITING = textwrap.dedent("""
    import sys
    from hcekit.errors import StoreError
    from hcekit.store import SqliteStore
    print(SqliteStore(sys.argv[1], read_only=True).namespace("p").get("k"))
    try:
        SqliteStore(sys.argv[1])
    except StoreError as exc:
        print(exc)
""")


def test_a_read_only_store_is_reported_when_opened(readonly_store: Path) -> None:
    out = subprocess.run(unprivileged([sys.executable, "-c", OPEN_FOR_WRITING,
                                       str(readonly_store)]),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "b'v'"  # reading works
    assert f"store {readonly_store} is read-only" in lines[1]
    assert "could not commit" in lines[1]


def test_serve_reports_a_read_only_store_at_start(readonly_store: Path) -> None:
    exe = Path(sys.executable).parent / "hcekit"
    assert exe.exists(), "the hcekit console script is not installed in this environment"
    result = subprocess.run(unprivileged([str(exe), "serve", "--store", str(readonly_store)]),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"store {readonly_store} is read-only" in result.stderr
    assert "hcekit: serving" not in result.stdout
