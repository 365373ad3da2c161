"""``hcekit fuzz``: run the fuzz targets for a budget and report inputs run and crashes.

Each target runs in its own process under atheris (libFuzzer's coverage-
guided engine) when it is installed, else in-process under a seeded random
mutation engine (not coverage-guided, but with the same decoder and checks).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

from ..errors import HcekitError
from ..plugins import ENTRY_POINT_GROUP
from .atheris_main import (
    BOOTSTRAP,
    INSTRUMENT_ENV,
    PLUGIN_EXCEPTION_TAG,
    build_target,
    instrumented_modules,
)
from .target import FuzzCrash, seed_inputs

__all__ = ["FuzzResult", "run_target", "run_targets", "default_targets", "reproduce"]

DEFAULT_SECONDS = 10.0
#: Longest input: about 30 operations of a tap, enough to reach every command of a card
#: while keeping a million inputs to minutes.
DEFAULT_MAX_LEN = 256
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STATUS = re.compile(r"^#(\d+)\s", re.MULTILINE)
_INPUT = re.compile(r"\(input ([0-9a-f]*)\)$")


@dataclass
class FuzzResult:
    target: str
    engine: str
    inputs: int = 0
    seconds: float = 0.0
    crash: str | None = None
    crash_file: Path | None = None
    plugin_exceptions: list[str] = field(default_factory=list)
    #: The first input that reached each plugin exception site (same order), under --artifacts.
    plugin_exception_files: list[Path] = field(default_factory=list)

    def save_plugin_exception(self, artifacts: Path, site: str, data: bytes) -> None:
        """Record a new plugin exception *site* and write the *data* that reached it."""
        artifacts.mkdir(parents=True, exist_ok=True)
        path = artifacts / (f"{self.target.replace(':', '_')}-plugin-exception-"
                            f"{len(self.plugin_exceptions) + 1}")
        path.write_bytes(data)
        self.plugin_exceptions.append(site)
        self.plugin_exception_files.append(path)

    def line(self) -> str:
        state = "no crash" if self.crash is None else "CRASH"
        text = (f"{self.target}: {self.inputs} inputs in {self.seconds:.1f} s ({self.engine}), "
                f"{state}, {len(self.plugin_exceptions)} plugin exception site(s)")
        if self.crash is not None:
            text += f"\n  crash: {self.crash}"
            if self.crash_file is not None:
                text += f"\n  input: {self.crash_file}"
        for i, site in enumerate(self.plugin_exceptions):
            text += f"\n  plugin exception: {site}"
            if i < len(self.plugin_exception_files):
                text += f"\n  input: {self.plugin_exception_files[i]} (hcekit fuzz --reproduce)"
        return text


def default_targets() -> list[str]:
    """``core`` and every installed plugin: what ``hcekit fuzz`` runs without targets."""
    return ["core", *sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))]


def _atheris(name: str, seconds: float | None, runs: int | None, seed: int,
             artifacts: Path, max_len: int) -> FuzzResult:
    result = FuzzResult(name, "atheris")
    with tempfile.TemporaryDirectory(prefix=f"hcekit-fuzz-{name.replace(':', '_')}-") as corpus:
        target = build_target(name)
        for i, data in enumerate(seed_inputs(target)):
            Path(corpus, f"seed-{i:03d}").write_bytes(data)
        target.close()
        cmd = [sys.executable, "-c", BOOTSTRAP, name,
               f"-seed={seed + 1}", f"-max_len={max_len}", "-timeout=10", "-rss_limit_mb=4096",
               f"-artifact_prefix={artifacts}{os.sep}{name.replace(':', '_')}-",
               "-print_final_stats=1"]
        cmd.append(f"-runs={runs}" if runs is not None
                   else f"-max_total_time={max(1, round(seconds or DEFAULT_SECONDS))}")
        cmd.append(corpus)
        start = time.monotonic()
        env = {**os.environ, INSTRUMENT_ENV: ",".join(instrumented_modules(name))}
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        result.seconds = time.monotonic() - start
    output = proc.stderr + proc.stdout
    done = _DONE.search(output)
    if done:
        result.inputs = int(done.group(1))
    else:
        counts = [int(n) for n in _STATUS.findall(output)]
        result.inputs = max(counts, default=0)
    for line in output.splitlines():
        if PLUGIN_EXCEPTION_TAG not in line:
            continue
        report = line.split(PLUGIN_EXCEPTION_TAG, 1)[1].strip()
        found = _INPUT.search(report)
        if found:
            result.save_plugin_exception(artifacts, report[:found.start()].rstrip(),
                                         bytes.fromhex(found.group(1)))
        else:
            result.plugin_exceptions.append(report)
    if proc.returncode != 0:
        written = re.search(r"Test unit written to (\S+)", output)
        result.crash_file = Path(written.group(1)) if written else None
        reason = re.findall(r"(?:FuzzCrash|Error|Exception)[^\n]*", output)
        result.crash = (reason[-1] if reason else f"exit status {proc.returncode}") + \
            f"\n  (last output: {output.strip().splitlines()[-1] if output.strip() else ''})"
    return result


def _mutate(rng: random.Random, data: bytes, corpus: Sequence[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        choice = rng.randrange(5)
        if choice == 0 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif choice == 1:
            buf.insert(rng.randrange(len(buf) + 1), rng.randrange(256))
        elif choice == 2 and buf:
            del buf[rng.randrange(len(buf))]
        elif choice == 3:
            buf += rng.choice(corpus)
        else:
            buf += rng.randbytes(rng.randrange(1, 16))
    return bytes(buf)


def _random(name: str, seconds: float | None, runs: int | None, seed: int,
            artifacts: Path, max_len: int) -> FuzzResult:
    result = FuzzResult(name, "random")
    rng = random.Random(seed)
    target = build_target(name)
    corpus = seed_inputs(target) or [b""]
    deadline = time.monotonic() + (seconds if seconds is not None else DEFAULT_SECONDS)
    start = time.monotonic()
    try:
        while (result.inputs < runs) if runs is not None else (time.monotonic() < deadline):
            data = (_mutate(rng, rng.choice(corpus), corpus) if rng.random() < 0.8
                    else rng.randbytes(rng.randrange(64)))[:max_len]
            known = len(target.plugin_exceptions)
            try:
                target.one_input(data)
            except FuzzCrash as exc:
                result.crash = str(exc)
                artifacts.mkdir(parents=True, exist_ok=True)
                result.crash_file = artifacts / f"{name.replace(':', '_')}-crash-{result.inputs}"
                result.crash_file.write_bytes(data)
                break
            finally:
                for site in list(target.plugin_exceptions)[known:]:
                    result.save_plugin_exception(artifacts, site, data)
            result.inputs += 1
    finally:
        result.seconds = time.monotonic() - start
        target.close()
    return result


def run_target(name: str, *, seconds: float | None = None, runs: int | None = None,
               engine: str = "auto", seed: int = 0, artifacts: Path | None = None,
               max_len: int = DEFAULT_MAX_LEN) -> FuzzResult:
    """Fuzz one target (``core``, an installed plugin name or ``module:attr``)."""
    if engine == "auto":
        engine = "atheris" if find_spec("atheris") is not None else "random"
    where = artifacts or Path(tempfile.gettempdir()) / "hcekit-fuzz-artifacts"
    where.mkdir(parents=True, exist_ok=True)
    if engine == "atheris":
        return _atheris(name, seconds, runs, seed, where, max_len)
    return _random(name, seconds, runs, seed, where, max_len)


def run_targets(targets: Sequence[str] | None = None, *, seconds: float | None = None,
                runs: int | None = None, engine: str = "auto", seed: int = 0,
                artifacts: Path | None = None, allow_plugin_exceptions: bool = False,
                max_len: int = DEFAULT_MAX_LEN) -> int:
    """Fuzz each target in turn, print one line each and a total; exit status 1 on a crash."""
    names = list(targets) if targets else default_targets()
    total, failed = 0, 0
    for name in names:
        try:
            result = run_target(name, seconds=seconds, runs=runs, engine=engine, seed=seed,
                                artifacts=artifacts, max_len=max_len)
        except HcekitError as exc:  # a plugin that does not load is reported, the rest run
            result = FuzzResult(name, engine, crash=f"the target did not start: {exc}")
        print(result.line(), flush=True)
        total += result.inputs
        bad = result.crash is not None or (result.plugin_exceptions and not allow_plugin_exceptions)
        failed += bool(bad)
    print(f"fuzz: {total} inputs over {len(names)} target(s), "
          f"{failed} target(s) with crashes or plugin exceptions")
    return 1 if failed else 0


def reproduce(name: str, data: bytes) -> int:
    """Run one saved input against target *name* in-process; print what happened."""
    target = build_target(name)
    try:
        target.one_input(data)
    except FuzzCrash as exc:
        print(f"{name}: CRASH on {data.hex()}: {exc}")
        return 1
    finally:
        target.close()
    for site in target.plugin_exceptions:
        print(f"{name}: plugin exception: {site}")
    if target.plugin_exceptions:
        return 1
    print(f"{name}: no crash ({target.exchanges} exchange(s))")
    return 0
