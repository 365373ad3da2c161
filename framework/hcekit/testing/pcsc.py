"""A private pcscd with vpcd readers, and pytest fixtures that serve cards through it.

Tests talk to the real PC/SC stack — pcscd, vsmartcard's vpcd driver, the
hcekit vpcd host, pyscard or any PC/SC tool — without touching a pcscd that
may already run on the machine:

* pcsc-lite 1.9's daemon always creates its socket at ``/run/pcscd/pcscd.comm``
  (only the *client* library honours ``PCSCLITE_CSOCK_NAME``). So pcscd runs
  in its own mount namespace (``unshare --mount``, plus ``--user`` when not
  root) where a private directory is bind-mounted over ``/run/pcscd``: the
  socket appears in that directory, clients reach it through
  ``PCSCLITE_CSOCK_NAME``, and stale files after a crash stay in a directory
  we own and clear.
* The USB driver directory is hidden inside the namespace (a real reader
  stays with the system pcscd) and the vpcd driver is loaded from a copy.
* vpcd listens on ports chosen free per process (per xdist worker), two slots
  per reader entry, so parallel sessions never clash.

Importable without pyscard; the fixtures import it when they need it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..card import Card, CardConfig
from ..errors import HcekitError
from ..hosts.vpcd import DEFAULT_DEADLINE, VpcdHost
from ..plugins import PluginSpec
from ..store import Store
from ..terminal import Terminal
from ..terminal.pcsc import PcscTransport, list_readers, wait_for_card
from .requirements import missing

__all__ = [
    "PcscCard",
    "PcscUnavailable",
    "PrivatePcscd",
    "find_vpcd_driver",
    "pcsc_card",
    "pcscd",
    "serve_card",
    "shared_pcscd",
    "CSOCK_ENV",
]

#: The variable pointing pcsc-lite clients at a pcscd's socket (the private one here).
CSOCK_ENV = "PCSCLITE_CSOCK_NAME"
#: Override where the vpcd driver (libifdvpcd.so) is found.
DRIVER_ENV = "HCEKIT_VPCD_DRIVER"
#: Set to 1 to run the private pcscd with ``--debug`` (log in its work dir).
DEBUG_ENV = "HCEKIT_PCSCD_DEBUG"
#: vpcd serves two slots per reader entry (VPCDSLOTS in Debian's build).
SLOTS_PER_ENTRY = 2
_DRIVER_CANDIDATES = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib/x86_64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
)
_PORT_RANGE = (20000, 32000)  # below Linux's ephemeral range


class PcscUnavailable(HcekitError, RuntimeError):
    """pcscd, the vpcd driver or namespaces are missing; the message says which and how to fix."""


def find_vpcd_driver() -> Path:
    """The vsmartcard vpcd reader driver (``$HCEKIT_VPCD_DRIVER`` first)."""
    env = os.environ.get(DRIVER_ENV)
    for candidate in ([env] if env else []) + list(_DRIVER_CANDIDATES):
        path = Path(candidate)
        if path.exists():
            return path.resolve()
    raise PcscUnavailable("vsmartcard's vpcd driver (libifdvpcd.so) not found: install "
                          "vsmartcard-vpcd (scripts/install-system-deps.sh) or set "
                          f"${DRIVER_ENV}")


def _pcscd_paths(pcscd: str) -> tuple[str, str]:
    """(ipcdir, usbdropdir) compiled into this pcscd, from ``pcscd --version``."""
    out = subprocess.run([pcscd, "--version"], capture_output=True, text=True, timeout=10)
    text = out.stdout + out.stderr
    ipc = re.search(r"ipcdir=(\S+)", text)
    usb = re.search(r"usbdropdir=(\S+)", text)
    return (ipc.group(1) if ipc else "/run/pcscd", usb.group(1) if usb else "/usr/lib/pcsc/drivers")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in worker if ch.isdigit())
    return int(digits) if digits else 0


def free_port_block(count: int) -> int:
    """The first of *count* consecutive free TCP ports, spread per xdist worker and process."""
    low, high = _PORT_RANGE
    span = high - low - count
    start = low + (_worker_index() * 997 + os.getpid() * 31) % span
    for attempt in range(200):
        base = low + (start - low + attempt * (count + 3)) % span
        if all(_port_free(base + i) for i in range(count)):
            return base
    raise PcscUnavailable(f"no block of {count} free TCP ports in {_PORT_RANGE}")


def _listening(ports: Sequence[int]) -> bool:
    wanted = {f"{port:04X}" for port in ports}
    seen: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines, None)
            for line in lines:
                parts = line.split()
                if len(parts) > 3 and parts[3] == "0A":
                    seen.add(parts[1].rsplit(":", 1)[1])
    return wanted <= seen


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask the kernel to SIGTERM pcscd when the test process dies (no orphans)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


_LAUNCH = r"""
set -e
ipc="$1"; run="$2"; usb="$3"; shift 3
if [ ! -d "$ipc" ]; then
  mkdir -p "$ipc" 2>/dev/null || { mount -t tmpfs hcekit-run "$(dirname "$ipc")"; mkdir -p "$ipc"; }
fi
mount --bind "$run" "$ipc"
if [ -d "$usb" ]; then mount -t tmpfs hcekit-nousb "$usb"; fi
exec "$@"
"""


@dataclass
class PrivatePcscd:
    """A pcscd of our own: its reader.conf, socket directory, vpcd ports and log.

    ``start()`` / ``stop()`` / ``restart()``; ``env`` is what a PC/SC client
    (pyscard in this process, opensc-tool in a subprocess) needs to reach it.
    """

    workdir: Path
    slots: int = 4
    friendly_name: str = "hcekit vpcd"
    base_port: int = 0
    #: Name readers "<friendly name> <port> 00 NN" (default) or, as Debian's own
    #: /etc/reader.conf.d/vpcd does, "<friendly name> 00 NN" (one entry only).
    port_in_name: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        if self.slots < 1 or self.slots > 8:
            raise ValueError("1 to 8 vpcd slots")
        if not self.port_in_name and self.slots > SLOTS_PER_ENTRY:
            raise ValueError(f"readers named without their port: at most {SLOTS_PER_ENTRY} slots "
                             f"(one reader.conf entry), as Debian's vpcd configuration has")
        if not self.base_port:
            self.base_port = free_port_block(self._entries * SLOTS_PER_ENTRY)
        self.run_dir = self.workdir / "run"
        self.conf_dir = self.workdir / "reader.conf.d"
        self.log_path = self.workdir / "pcscd.log"
        self._free = list(range(self.slots))
        self._slot_lock = threading.Lock()

    # -- layout -----------------------------------------------------------------------

    @property
    def _entries(self) -> int:
        return (self.slots + SLOTS_PER_ENTRY - 1) // SLOTS_PER_ENTRY

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "pcscd.comm"

    @property
    def env(self) -> dict[str, str]:
        """Environment a PC/SC client needs (merge into ``os.environ`` for subprocesses)."""
        return {CSOCK_ENV: str(self.socket_path)}

    def subprocess_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """``os.environ`` + :attr:`env` (+ *extra*): pass as ``env=`` to ``subprocess.run``."""
        return {**os.environ, **self.env, **(extra or {})}

    def port(self, slot: int) -> int:
        """The vpcd TCP port of *slot* (0-based)."""
        if not 0 <= slot < self.slots:
            raise IndexError(f"slot {slot}: this pcscd has {self.slots}")
        return self.base_port + slot

    @property
    def ports(self) -> list[int]:
        return [self.port(slot) for slot in range(self.slots)]

    def reader_name(self, slot: int) -> str:
        """pcscd's name for *slot*: ``"<friendly name> <port of entry> 00 <slot in entry>"``."""
        entry, sub = divmod(slot, SLOTS_PER_ENTRY)
        return f"{self._entry_name(entry)} 00 {sub:02d}"

    def _entry_name(self, entry: int) -> str:
        if not self.port_in_name:
            return self.friendly_name
        return f"{self.friendly_name} {self.base_port + entry * SLOTS_PER_ENTRY}"

    # -- lifecycle ----------------------------------------------------------------------

    def _write_config(self, driver: Path) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for old in self.conf_dir.iterdir():
            old.unlink()
        for entry in range(self._entries):
            port = self.base_port + entry * SLOTS_PER_ENTRY
            # vpcd keeps its slots in globals indexed by slot number only, so
            # two entries sharing one loaded driver would share state: each
            # entry gets its own copy of the library (pcscd dlopens it apart).
            local_driver = self.workdir / f"libifdvpcd-{entry}.so"
            if not local_driver.exists():
                shutil.copy2(driver, local_driver)
            (self.conf_dir / f"hcekit-vpcd-{entry}").write_text(
                f'FRIENDLYNAME "{self._entry_name(entry)}"\n'
                f"DEVICENAME   /dev/null:{port}\n"
                f"LIBPATH      {local_driver}\n"
                f"CHANNELID    {port}\n"
            )

    def _command(self) -> list[str]:
        pcscd = shutil.which("pcscd") or next(
            (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if Path(p).exists()), None)
        if pcscd is None:
            raise PcscUnavailable("pcscd not found: install pcscd "
                                  "(scripts/install-system-deps.sh)")
        unshare = shutil.which("unshare")
        if unshare is None:
            raise PcscUnavailable("unshare (util-linux) not found: needed to give the "
                                  "private pcscd its own /run/pcscd")
        ipc, usb = _pcscd_paths(pcscd)
        namespace = [unshare, "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            namespace[1:1] = ["--user", "--map-root-user"]
        daemon = [pcscd, "--foreground", "--config", str(self.conf_dir)]
        if os.environ.get(DEBUG_ENV) == "1":
            daemon.append("--debug")
        return [*namespace, "--", "/bin/sh", "-c", _LAUNCH, "hcekit-pcscd",
                ipc, str(self.run_dir), usb, *daemon]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        """Start pcscd and wait until its socket exists and vpcd listens on every port."""
        if self.running:
            return
        driver = find_vpcd_driver()
        taken = [port for port in self.ports if not _port_free(port)]
        if taken:  # another pcscd (the system's?) listens there: we would test against it
            raise PcscUnavailable(f"vpcd port(s) {', '.join(map(str, taken))} already in use "
                                  f"(another pcscd with vpcd?); choose another base_port")
        self.workdir.mkdir(parents=True, exist_ok=True)
        # a crashed pcscd leaves pcscd.comm / pcscd.pid behind: clear our own dir
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True)
        self._write_config(driver)
        command = self._command()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PcscUnavailable(
                    f"private pcscd exited with {self.process.returncode}; "
                    f"log {self.log_path}:\n{self.log_tail()}")
            if self.socket_path.exists() and _listening(self.ports):
                return
            time.sleep(0.02)
        self.stop()
        raise PcscUnavailable(f"private pcscd not ready after {timeout} s; log {self.log_path}:\n"
                              f"{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL) and clear its socket directory."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        for stale in ("pcscd.comm", "pcscd.pid"):
            with contextlib.suppress(OSError):
                (self.run_dir / stale).unlink()

    def kill(self) -> None:
        """SIGKILL pcscd, as a crash would (leaves stale files for ``start`` to clear)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self, timeout: float = 15.0) -> None:
        self.stop()
        self.start(timeout)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def apply_env(self) -> None:
        """Point this process's PC/SC client library at this pcscd.

        libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once, on first use, so call
        this before the process first talks PC/SC.
        """
        os.environ.update(self.env)

    def run(self, args: Sequence[str], *, timeout: float = 60.0,
            check: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a PC/SC tool (opensc-tool, pcsc_scan …) against this pcscd; text output."""
        return subprocess.run(list(args), env=self.subprocess_env(kwargs.pop("env", None)),
                              capture_output=True, text=True, timeout=timeout, check=check,
                              **kwargs)

    # -- slots ----------------------------------------------------------------------------

    def acquire_slot(self) -> int:
        """A slot no fixture card uses right now (least recently used first)."""
        with self._slot_lock:
            if not self._free:
                raise PcscUnavailable(f"all {self.slots} vpcd slots are in use")
            return self._free.pop(0)

    def release_slot(self, slot: int) -> None:
        with self._slot_lock:
            if slot not in self._free:
                self._free.append(slot)

    def __enter__(self) -> PrivatePcscd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class PcscCard:
    """A card served through the private pcscd: host, reader and a connected terminal."""

    card: Card
    host: VpcdHost
    pcscd: PrivatePcscd
    slot: int
    reader: str
    terminal: Terminal
    transport: PcscTransport

    @property
    def port(self) -> int:
        return self.host.port

    @property
    def atr(self) -> bytes:
        return self.host.atr

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` + ``PCSCLITE_CSOCK_NAME``: pass to subprocess tools."""
        return self.pcscd.subprocess_env()

    @property
    def reader_index(self) -> int:
        """Position of :attr:`reader` in pcscd's reader list (``opensc-tool -r N``)."""
        names = [info.name for info in list_readers()]
        return names.index(self.reader)

    def run(self, args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a PC/SC tool against the private pcscd (see :meth:`PrivatePcscd.run`)."""
        return self.pcscd.run(args, **kwargs)

    def wait_present(self, present: bool = True, timeout: float = 5.0) -> bool:
        return wait_for_card(self.reader, present, timeout)

    def wait_field(self, active: bool, timeout: float = 3.0) -> bool:
        """Wait until the card's field is on / off.

        ``SCardDisconnect`` returns before the host has handled vpcd's power-off
        message, so assert on field events after this, not straight after a tap.
        """
        deadline = time.monotonic() + timeout
        while self.card.field_active != active:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    def close(self) -> None:
        """End the tap, stop serving (the card's plugins shut down), free the slot."""
        try:
            with contextlib.suppress(Exception):
                self.terminal.disconnect()
            with contextlib.suppress(Exception):
                self.transport.close()
            self.host.stop()
            # let pcscd notice the card left before the slot is reused
            with contextlib.suppress(Exception):
                self.wait_present(False, timeout=3.0)
        finally:
            self.pcscd.release_slot(self.slot)


def serve_card(
    pcscd: PrivatePcscd,
    plugins: PluginSpec | Sequence[PluginSpec] = (),
    *,
    card: Card | None = None,
    atr: bytes | None = None,
    uid: bytes | None = None,
    deadline: float = DEFAULT_DEADLINE,
    store: Store | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    config: CardConfig | None = None,
    installed: bool = False,
    connect: bool = True,
    timeout: float = 10.0,
    **terminal_options: Any,
) -> PcscCard:
    """Serve a card on a free slot of *pcscd* and return it with a terminal over PC/SC."""
    if card is None:
        specs = _as_specs(plugins)
        if installed:
            card = Card.with_installed_plugins(specs, store=store, options=options,
                                               config=config)
        else:
            card = Card(specs, store=store, options=options, config=config)
    elif plugins:
        raise TypeError("give plugins or a card, not both")
    slot = pcscd.acquire_slot()
    reader = pcscd.reader_name(slot)
    host = VpcdHost(card, pcscd.port(slot), atr=atr, deadline=deadline, uid=uid)
    transport = PcscTransport(reader, wait=timeout)
    terminal = Terminal(transport, **terminal_options)
    served = PcscCard(card, host, pcscd, slot, reader, terminal, transport)
    try:
        host.start()
        if not host.wait_connected(timeout):
            raise PcscUnavailable(f"the vpcd host could not connect to port {host.port}; "
                                  f"pcscd log:\n{pcscd.log_tail()}")
        if not wait_for_card(reader, True, timeout):
            raise PcscUnavailable(f"pcscd did not see the card in {reader!r} within {timeout} s")
        if connect:
            terminal.connect()
    except BaseException:
        served.close()
        raise
    return served


def _as_specs(plugins: PluginSpec | Sequence[PluginSpec]) -> list[PluginSpec]:
    """A list (or a tuple that is not one ``("name", plugin)`` pair) is many plugins."""
    if isinstance(plugins, list):
        return list(plugins)
    if isinstance(plugins, tuple) and not (len(plugins) == 2 and isinstance(plugins[0], str)):
        return list(plugins)
    return [plugins]


# -- pytest fixtures -----------------------------------------------------------------------------

PcscCardFactory = Callable[..., PcscCard]


def _skip_or_fail(reason: str) -> None:
    """In CI (``CI`` set) a missing PC/SC stack is an error; elsewhere a visible skip."""
    missing(f"PC/SC stack unavailable: {reason}")


_shared_lock = threading.Lock()
_shared: PrivatePcscd | None = None
_shared_users = 0


@contextlib.contextmanager
def shared_pcscd() -> Iterator[PrivatePcscd]:
    """The process's private pcscd, started on first use, stopped when the last user leaves.

    libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process, so a process
    can only ever talk to one pcscd: every fixture (whichever conftest
    defines it) and every helper shares this one.
    """
    global _shared, _shared_users
    with _shared_lock:
        if _shared is None:
            workdir = Path(tempfile.mkdtemp(prefix="hcekit-pcscd-"))
            daemon = PrivatePcscd(workdir)
            try:
                daemon.start()
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            daemon.apply_env()
            if os.environ.get(DEBUG_ENV) != "1":
                atexit.register(shutil.rmtree, workdir, True)
            _shared = daemon
        elif not _shared.running:
            _shared.start()
        _shared_users += 1
        daemon = _shared
    try:
        yield daemon
    finally:
        with _shared_lock:
            _shared_users -= 1
            if _shared_users == 0 and _shared is not None:
                # CSOCK_ENV stays: libpcsclite has cached it anyway, and a later
                # shared_pcscd() restarts the same daemon on the same socket path
                _shared.stop()


@pytest.fixture(scope="session")
def pcscd() -> Iterator[PrivatePcscd]:
    """The private pcscd (4 vpcd slots) of this test process (one per xdist worker).

    ``PCSCLITE_CSOCK_NAME`` is set in this process so pyscard reaches it; use
    ``pcscd.env`` / ``pcscd.subprocess_env()`` / ``pcscd.run([...])`` for tools.
    """
    try:
        import smartcard.scard  # noqa: F401
    except ImportError:
        _skip_or_fail("pyscard is not installed (pip install 'hcekit[pcsc]')")
    try:
        with shared_pcscd() as daemon:
            yield daemon
    except PcscUnavailable as exc:
        _skip_or_fail(str(exc))


@pytest.fixture
def pcsc_card(pcscd: PrivatePcscd) -> Iterator[PcscCardFactory]:
    """Factory: ``pcsc_card(plugins, card=, atr=, uid=, deadline=, store=, options=, installed=,
    connect=True, **terminal_options) -> PcscCard``. Everything is closed after the test."""
    served: list[PcscCard] = []

    def make(plugins: PluginSpec | Sequence[PluginSpec] = (), **kwargs: Any) -> PcscCard:
        item = serve_card(pcscd, plugins, **kwargs)
        served.append(item)
        return item

    yield make
    for item in reversed(served):
        item.close()
