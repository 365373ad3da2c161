"""Runs a Markdown page's blocks, in order, in a scratch copy of the repository.

Each page gets its own copy of the checkout (tracked files only), its own
``HOME`` (so the default store ``~/.local/share/hcekit`` is private), its own
overlay virtual environment (see :meth:`PageRun._overlay_venv`: what a block
``pip install``s stays on the page) and, when
a block asks for it, its own pcscd whose vpcd readers carry Debian's names
("Virtual PCD 00 00", "Virtual PCD 00 01"), so commands run exactly as a user
on Debian types them. Its ports are free ones rather than Debian's 35963/35964
(a system pcscd may hold those); ``$HCEKIT_VPCD_PORT`` makes them
``hcekit serve``'s default. Shell blocks run under ``bash -e``;
background jobs (``hcekit serve … &``) live until the page ends and are then
stopped with SIGINT, as Ctrl-C would. All shell blocks of a page run in one
bash session, as a user types them into one terminal (``cd``, ``. .venv/bin/activate``
and exports carry over); a block stops at its first failing command. Python
blocks run as scripts in that session.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hcekit.cli.pcsc_commands import PORT_ENV
from hcekit.testing.pcsc import PrivatePcscd

from .markdown_blocks import PYTHON, SHELL, Block

__all__ = ["PageRun", "BlockFailure", "normalise", "output_matches", "REPO"]

REPO = Path(__file__).resolve().parents[2]
_WAIT_FOR_CARD_SECONDS = 20.0


_BACKGROUND_JOB = re.compile(r"^.*&\s*(#.*)?$", re.M)
_WAIT_FOR_CARD = "__hcekit_docs_wait_card"
#: After a line that starts a job in the background (``hcekit serve … &``), the runner waits
#: here as a person would before typing the next command: until a reader shows a card.
_WAIT_FOR_CARD_FUNCTION = f"""{_WAIT_FOR_CARD}() {{
  for _ in $(seq {int(_WAIT_FOR_CARD_SECONDS * 5)}); do
    hcekit readers 2>/dev/null | grep -q '\\[card [0-9A-F]' && return 0
    sleep 0.2
  done
  echo "docs runner: no card {_WAIT_FOR_CARD_SECONDS:.0f} s after the background job started" >&2
  return 1
}}
"""


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-size:]


class BlockFailure(AssertionError):
    """A block that did not do what the page says."""


_NORMALISERS = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?"), "<TIME>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<UUID>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(µs|ms|s)\b"), "<DURATION>"),
]


def normalise(text: str, scratch: Path | None = None) -> list[str]:
    """Lines with times, UUIDs, durations and the scratch path made comparable."""
    if scratch is not None:
        text = text.replace(str(scratch) + "/", "").replace(str(scratch), ".")
    lines = []
    for line in text.splitlines():
        for pattern, replacement in _NORMALISERS:
            line = pattern.sub(replacement, line)
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in expected.split("…")]
    return re.compile(".*".join(parts))


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """*actual* matches *expected*, where a line ``...`` stands for any lines and ``…``
    inside a line for any text."""
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(expected):
            result = j == len(actual)
        elif expected[i].strip() == "...":
            result = match(i + 1, j) or (j < len(actual) and match(i, j + 1))
        else:
            result = (j < len(actual) and _line_pattern(expected[i]).fullmatch(actual[j]) is not None
                      and match(i + 1, j + 1))
        memo[(i, j)] = result
        return result

    return match(0, 0)


@dataclass
class PageRun:
    """The state of one page's run: scratch checkout, environment, background jobs, pcscd."""

    page: Path
    workdir: Path
    ran: list[Block] = field(default_factory=list)
    _pcscd: PrivatePcscd | None = None
    _python_so_far: list[str] = field(default_factory=list)
    _last_output: str = ""
    _count: int = 0
    _bash: subprocess.Popen[bytes] | None = None
    _log: Path = Path()

    def __post_init__(self) -> None:
        self.scratch = self.workdir / "checkout"
        self.home = self.workdir / "home"
        self.home.mkdir(parents=True)
        self.venv_bin = self._overlay_venv(self.workdir / "venv")
        tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                                 check=True).stdout.decode().split("\0")
        for name in filter(None, tracked):
            source = REPO / name
            if source.is_file():
                target = self.scratch / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)

    # -- environment ------------------------------------------------------------------

    @staticmethod
    def _overlay_venv(target: Path) -> Path:
        """A virtual environment that sees the suite's packages but installs into itself.

        Made without pip (fast): a ``.pth`` adds the suite's site-packages with
        ``site.addsitedir`` (so editable installs and entry points work), and the
        suite's console scripts (hcekit, pip, pytest, ruff, mypy …) are copied with
        this interpreter in their ``#!`` line. ``pip install -e x`` in a block thus
        lands here, and ``hcekit`` sees the plugin it installed.
        """
        import sysconfig
        import venv

        venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
        bin_dir = target / "bin"
        python = bin_dir / "python"
        purelib = Path(subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True).stdout.strip())
        suite_site = sysconfig.get_paths()["purelib"]
        # Not inside pip's isolated build environments (PEP 517 hooks run with one of these
        # variables set, by pip's version): a backend there must see the build requirements
        # pip installed, not ours.
        (purelib / "_hcekit_docs_overlay.pth").write_text(
            "import os, site; {'_PYPROJECT_HOOKS_BUILD_BACKEND', 'PEP517_BUILD_BACKEND'} "
            f"& set(os.environ) or site.addsitedir({suite_site!r})\n", encoding="utf-8")
        suite_bin = Path(sys.executable).parent
        for script in suite_bin.iterdir():
            if script.name.startswith(("python", "activate", "Activate")) or not script.is_file():
                continue
            head = script.read_bytes()[:200]
            if not head.startswith(b"#!") or str(suite_bin).encode() not in head.split(b"\n")[0]:
                continue
            body = script.read_text(encoding="utf-8").split("\n", 1)[1]
            copy = bin_dir / script.name
            copy.write_text(f"#!{python}\n{body}", encoding="utf-8")
            copy.chmod(0o755)
        return bin_dir

    def env(self) -> dict[str, str]:
        from hcekit_android.robolectric import cache_dir as robolectric_cache_dir

        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("HCEKIT_", "PYTEST", "COV_")) and k != "PYTHONPATH"}
        env = {**keep, "HOME": str(self.home), "VIRTUAL_ENV": str(self.venv_bin.parent),
               "PATH": f"{self.venv_bin}{os.pathsep}{keep.get('PATH', '')}",
               "PYTHONUNBUFFERED": "1", "COLUMNS": "100", "NO_COLOR": "1"}
        env.pop("XDG_DATA_HOME", None)
        # what the install script fetched once lives under the real HOME: a reader's machine
        # has it there too (scripts/fetch-robolectric.sh)
        env["HCEKIT_ROBOLECTRIC_DIR"] = str(robolectric_cache_dir())
        if self._pcscd is not None:
            env.update(self._pcscd.env)
        return env

    def _start_pcscd(self) -> None:
        if self._pcscd is not None:
            return
        # Debian's reader names; ports free on this machine (a system pcscd may hold 35963),
        # which `hcekit serve` takes as its default through $HCEKIT_VPCD_PORT.
        self._pcscd = PrivatePcscd(self.workdir / "pcscd", slots=2, friendly_name="Virtual PCD",
                                   port_in_name=False)
        self._pcscd.start()

    # -- the page's shell -------------------------------------------------------------

    def _shell(self) -> subprocess.Popen[bytes]:
        """The page's one bash session, as a user's terminal: cd, activate and jobs persist."""
        if self._bash is None:
            self._log = self.workdir / "session.log"
            with open(self._log, "wb") as log:
                self._bash = subprocess.Popen(
                    ["bash", "--norc", "--noprofile"], cwd=self.scratch, env=self.env(),
                    stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
            self._send("set -o pipefail\n")
        return self._bash

    def _send(self, text: str) -> None:
        bash = self._shell()
        assert bash.stdin is not None
        try:
            bash.stdin.write(text.encode())
            bash.stdin.flush()
        except BrokenPipeError:
            pass  # the shell is gone; _wait reports it

    def _execute(self, block: Block, script: str, expected_exit: int) -> str:
        """Run *script* in the page's shell; return what it printed. A block stops at its
        first failing command (as under ``set -e``) and must end with *expected_exit*."""
        self._count += 1
        mark = f"__hcekit_docs_{self._count}_status="
        start = self._log.stat().st_size if self._bash is not None else 0
        body = script if script.endswith("\n") else script + "\n"
        if self._pcscd is not None:  # a card served in the background: wait until pcscd has it
            body = _BACKGROUND_JOB.sub(lambda m: m.group(0) + f"\n{_WAIT_FOR_CARD}", body)
        # The block is a function run in this shell (cd/activate persist); an ERR trap makes
        # its first failing command end it with that status, as set -e would end a script.
        self._send(f"__hcekit_docs_block() {{\n"
                   f"trap '__s=$?; trap - ERR; return $__s' ERR\n{body}\n}}\n"
                   f"__hcekit_docs_block; __s=$?; trap - ERR\n"
                   f"printf '\\n{mark}%s\\n' \"$__s\"\n")
        self._send("")
        deadline = time.monotonic() + block.timeout
        status: int | None = None
        while time.monotonic() < deadline:
            text = self._log.read_bytes()[start:].decode(errors="replace")
            found = re.search(re.escape(mark) + r"(\d+)", text)
            if found:
                status = int(found.group(1))
                output = text[:found.start()].rstrip("\n")
                break
            if self._bash is not None and self._bash.poll() is not None:
                raise BlockFailure(f"{block.where}: the shell ended (exit {self._bash.returncode}) "
                                   f"running:\n$ {script.strip()}\n{text[-3000:]}")
            time.sleep(0.02)
        else:
            raise BlockFailure(f"{block.where}: still running after {block.timeout:.0f} s:\n"
                               f"$ {script.strip()}\n{_tail(self._log)}")
        if status != expected_exit:
            raise BlockFailure(f"{block.where}: exit status {status}, the page expects "
                               f"{expected_exit}:\n$ {script.strip()}\n{output[-3000:]}")
        return output

    # -- running ------------------------------------------------------------------------

    def run(self, block: Block) -> None:
        """Run *block* (or compare an ``output`` block); raise :class:`BlockFailure`."""
        if "output" in block.directives:
            self._compare(block.text, self._last_output, block)
            return
        if block.title is not None and block.not_run_reason is None:
            self._write_file(block)
            return
        if not block.runs:
            return
        if "pcscd" in block.directives and self._pcscd is None:
            self._start_pcscd()
            assert self._pcscd is not None
            names = {**self._pcscd.env, PORT_ENV: str(self._pcscd.port(0))}
            exports = "".join(f"export {k}={v}\n" for k, v in names.items())
            exports += _WAIT_FOR_CARD_FUNCTION
            self._shell()
            self._send(exports)
        if block.lang == "console":
            self._run_console(block)
        elif block.lang in SHELL:
            self._last_output = self._execute(block, block.text, block.expected_exit)
        elif block.lang in PYTHON:
            self._last_output = self._run_python(block)
        self.ran.append(block)

    def _write_file(self, block: Block) -> None:
        """A ``title="PATH"`` block: its text is the file PATH in the shell's directory."""
        here = Path(self._execute(block, "pwd", 0).strip().splitlines()[-1])
        target = here / str(block.title)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
        self.ran.append(block)

    def _run_console(self, block: Block) -> None:
        commands: list[tuple[str, list[str]]] = []
        for line in block.text.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
            elif line.strip():
                raise BlockFailure(f"{block.where}: a console block starts with '$ COMMAND'")
        for i, (command, expected) in enumerate(commands):
            last = i == len(commands) - 1
            out = self._execute(block, command, block.expected_exit if last else 0)
            if expected:
                self._compare("\n".join(expected), out, block, command)
            self._last_output = out

    def _run_python(self, block: Block) -> str:
        """A Python block runs as a script in the page's shell (its venv, its directory)."""
        source = block.text
        if "continues" in block.directives:
            source = "\n".join([*self._python_so_far, source])
        self._python_so_far.append(block.text)
        script = self.workdir / f"block_{block.path.stem}_{block.line}.py"
        script.write_text(source, encoding="utf-8")
        return self._execute(block, f"python {script}", block.expected_exit)

    def _compare(self, expected: str, actual: str, block: Block, command: str = "") -> None:
        want, got = normalise(expected, self.scratch), normalise(actual, self.scratch)
        if not output_matches(want, got):
            what = f" ({command})" if command else ""
            raise BlockFailure(
                f"{block.where}: the output shown{what} is not what the command prints.\n"
                "--- shown (normalised) ---\n" + "\n".join(want) +
                "\n--- printed (normalised) ---\n" + "\n".join(got))

    def close(self) -> None:
        """End the page's shell and its background jobs (SIGINT, as Ctrl-C; then SIGKILL),
        then its pcscd."""
        if self._bash is not None:
            if self._bash.stdin is not None:
                with contextlib.suppress(OSError):
                    self._bash.stdin.close()
            for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self._bash.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and _group_alive(self._bash.pid):
                    time.sleep(0.05)
                if not _group_alive(self._bash.pid):
                    break
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._bash.wait(5)
        if self._pcscd is not None:
            self._pcscd.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
