"""Compiling the Java shim and starting a desktop JVM for it (tests, benchmarks).

On a phone the shim is compiled by the APK build; on a desktop, tests compile
it with ``javac`` together with the stand-ins in ``hcekit_android/java/desktop``
and load it through pyjnius. pyjnius starts the JVM once per process, on the
first ``import jnius``, with the classpath set at that moment: so
:func:`start_desktop_jvm` must run before anything imports ``jnius``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from hcekit.errors import HcekitError

__all__ = [
    "JAVA_ROOT",
    "SHIM_SOURCES",
    "DESKTOP_SOURCES",
    "JavaSetupError",
    "find_java_home",
    "compile_java",
    "start_desktop_jvm",
]

#: Shipped with the package (``shim`` goes into the APK, ``desktop`` only into desktop tests).
JAVA_ROOT = Path(__file__).resolve().parent / "java"
SHIM_SOURCES = JAVA_ROOT / "shim"
DESKTOP_SOURCES = JAVA_ROOT / "desktop"

#: The language level p4a's Gradle project compiles the shim at.
JAVA_RELEASE = "8"


class JavaSetupError(HcekitError):
    """No JDK, a compile error, or pyjnius started before the classpath was set."""


def find_java_home() -> Path | None:
    """``$JAVA_HOME`` if it has ``javac``, else the JDK of ``javac`` on ``PATH``, else a JDK 17."""
    env = os.environ.get("JAVA_HOME")
    if env and (Path(env) / "bin" / "javac").exists():
        return Path(env)
    javac = shutil.which("javac")
    if javac:
        return Path(javac).resolve().parent.parent
    for candidate in sorted(Path("/usr/lib/jvm").glob("java-17-openjdk*")):
        if (candidate / "bin" / "javac").exists():
            return candidate
    return None


def _java_files(*roots: Path) -> list[Path]:
    files = sorted(p for root in roots for p in root.rglob("*.java"))
    if not files:
        raise JavaSetupError(f"no Java sources under {', '.join(map(str, roots))} "
                             "(hcekit_android/java is missing from this installation)")
    return files


def compile_java(out_dir: Path, *, desktop: bool = True) -> Path:
    """Compile the shim (and the desktop stand-ins) into *out_dir*; return it.

    Warnings are errors, so the shim stays clean at Java 8 as p4a builds it.
    """
    home = find_java_home()
    if home is None:
        raise JavaSetupError("no JDK found: install openjdk-17-jdk-headless "
                             "(scripts/install-system-deps.sh) or set JAVA_HOME")
    roots = [SHIM_SOURCES, DESKTOP_SOURCES] if desktop else [SHIM_SOURCES]
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [str(home / "bin" / "javac"), "--release", JAVA_RELEASE, "-Xlint:all",
               "-Xlint:-options", "-Werror", "-encoding", "UTF-8", "-d", str(out_dir),
               *map(str, _java_files(*roots))]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise JavaSetupError(f"javac failed:\n{result.stdout}{result.stderr}")
    return out_dir


def start_desktop_jvm(classes: Path) -> None:
    """Put *classes* on the classpath and start the JVM (``import jnius``). Once per process."""
    if "jnius" in sys.modules:
        import jnius_config

        if str(classes) not in jnius_config.get_classpath():
            raise JavaSetupError(
                "jnius was imported before the hcekit classpath was set; the JVM's classpath "
                "is fixed at first import. Start the desktop JVM before importing jnius."
            )
        return
    home = find_java_home()
    if home is not None:
        os.environ.setdefault("JAVA_HOME", str(home))
    try:
        import jnius_config
    except ImportError as exc:
        raise JavaSetupError("pyjnius is not installed: pip install 'hcekit[android]'") from exc
    jnius_config.add_classpath(str(classes))
    import jnius  # noqa: F401  (starts the JVM with the classpath above)
