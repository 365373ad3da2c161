"""Compiling the Java shim and starting a desktop JVM with the real Android framework.

On a phone the shim is compiled by the APK build; on a desktop, tests compile
it with ``javac`` against Robolectric's ``android-all`` jar (the real framework
API of one Android release), together with the desktop model of the phone
(``java/desktop``: the NFC service, the activity manager) and the harness
(``java/robolectric``), then run it inside Robolectric's sandbox through
pyjnius. pyjnius starts the JVM once per process, on the first
``import jnius``, with the classpath set at that moment: so
:func:`start_desktop_jvm` must run before anything imports ``jnius``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from hcekit.errors import HcekitError

from . import robolectric

__all__ = [
    "JAVA_ROOT",
    "SHIM_SOURCES",
    "DESKTOP_SOURCES",
    "JavaSetupError",
    "find_java_home",
    "compile_java",
    "start_desktop_jvm",
]

#: Shipped with the package (``shim`` goes into the APK; ``desktop`` and ``robolectric``
#: only into desktop tests).
JAVA_ROOT = Path(__file__).resolve().parent / "java"
SHIM_SOURCES = JAVA_ROOT / "shim"
DESKTOP_SOURCES = JAVA_ROOT / "desktop"
HARNESS_SOURCES = JAVA_ROOT / "robolectric"

#: android-all's class files are Java 17 (API 36's: 21): javac reads them at that level or above.
JAVA_RELEASE = "17"
#: The harness's system class loader (see java/robolectric/org/hcekit/robo/SandboxLoader.java).
SYSTEM_LOADER = "org.hcekit.robo.SandboxLoader"
#: Debian's android-framework-res: the framework's compiled resources, for aapt's -I.
FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")


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


def compile_java(out_dir: Path, *, desktop: bool = True, api: int | None = None) -> Path:
    """Compile the shim against the real framework of *api* (and the desktop harness); return *out_dir*.

    *api* defaults to ``$HCEKIT_ANDROID_API`` (34). Warnings are errors, so an
    API the shim misuses (a missing method, a wrong type) fails the build here.
    """
    chosen = robolectric.level(api) if api is not None else robolectric.requested_level()
    home = robolectric.java_for(chosen.api, find_java_home(), compiler=True)
    if home is None:
        raise JavaSetupError(f"no JDK {chosen.min_java}+ with javac found for API {chosen.api}: "
                             "install openjdk-17-jdk-headless (scripts/install-system-deps.sh), "
                             "or set JAVA_HOME")
    roots = [SHIM_SOURCES, DESKTOP_SOURCES, HARNESS_SOURCES] if desktop else [SHIM_SOURCES]
    sources = _java_files(*roots)
    try:
        classpath = [robolectric.android_all(chosen.api)]
        if desktop:
            classpath += robolectric.runtime_jars()
    except robolectric.RobolectricMissing as exc:
        raise JavaSetupError(str(exc)) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    release = str(max(int(JAVA_RELEASE), chosen.min_java))
    command = [str(home / "bin" / "javac"), "--release", release, "-Xlint:all",
               "-Xlint:-options", "-Xlint:-processing", "-Xlint:-classfile", "-Werror",
               "-implicit:none", "-encoding", "UTF-8", "-d", str(out_dir),
               "-cp", os.pathsep.join(map(str, classpath)), *map(str, sources)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise JavaSetupError(f"javac (against {chosen.android_all}) failed:\n"
                             f"{result.stdout}{result.stderr}")
    if desktop:
        _write_test_config(out_dir)
    return out_dir


#: The desktop app's manifest: its package (the services come from the model's registry).
DESKTOP_MANIFEST = """<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="org.hcekit.example">
    <uses-permission android:name="android.permission.NFC" />
    <application />
</manifest>
"""


def _write_test_config(out_dir: Path) -> None:
    """What Android's build writes for Robolectric: the manifest and its compiled resources.

    The resource APK is compiled by Android's own ``aapt`` against the
    framework's resources, as an app's build does; Robolectric's binary
    resource mode takes the app's package from it.
    """
    manifest = out_dir / "AndroidManifest.xml"
    manifest.write_text(DESKTOP_MANIFEST, encoding="utf-8")
    apk = out_dir / "resources.ap_"
    aapt = shutil.which("aapt")
    if aapt is None or not FRAMEWORK_RES.exists():
        raise JavaSetupError("aapt and android-framework-res are needed to build the desktop app's "
                             "resources (scripts/install-system-deps.sh installs them)")
    result = subprocess.run([aapt, "package", "-f", "-M", str(manifest), "-I", str(FRAMEWORK_RES),
                             "-F", str(apk)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise JavaSetupError(f"aapt failed on the desktop manifest:\n{result.stdout}{result.stderr}")
    config = out_dir / "com" / "android" / "tools" / "test_config.properties"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"android_merged_manifest={manifest}\nandroid_resource_apk={apk}\n",
                      encoding="utf-8")


def start_desktop_jvm(classes: Path, *, api: int | None = None, timeout_s: float = 180.0) -> int:
    """Start the JVM with *classes* and Robolectric's sandbox at *api*; return the API level.

    Once per process: a second call with the same classes is a no-op. The JDK
    must be new enough for the level (Robolectric needs Java 21 for API 36):
    ``$JAVA_HOME`` if it is, else a newer one found on the machine.
    """
    chosen = robolectric.level(api) if api is not None else robolectric.requested_level()
    if "jnius" in sys.modules:
        import jnius_config

        if str(classes) not in jnius_config.get_classpath():
            raise JavaSetupError(
                "jnius was imported before the hcekit classpath was set; the JVM's classpath "
                "is fixed at first import. Start the desktop JVM before importing jnius."
            )
        return _start_sandbox(chosen, timeout_s)
    home = robolectric.java_for(chosen.api, find_java_home())
    if home is None:
        raise JavaSetupError(f"API {chosen.api} needs Java {chosen.min_java}+ and none was found "
                             "(scripts/fetch-robolectric.sh fetches one into the cache)")
    os.environ["JAVA_HOME"] = str(home)
    try:
        import jnius_config
    except ImportError as exc:
        raise JavaSetupError("pyjnius is not installed: pip install 'hcekit[android]'") from exc
    try:
        jars = [robolectric.android_all(chosen.api), *robolectric.runtime_jars()]
        dependency_dir = robolectric.instrumented_dir(chosen.api)
    except robolectric.RobolectricMissing as exc:
        raise JavaSetupError(str(exc)) from exc
    jnius_config.add_options(
        f"-Djava.system.class.loader={SYSTEM_LOADER}",
        "-Xshare:off",  # a custom system loader disables CDS; say so once here, not on every start
        "-Drobolectric.offline=true",
        f"-Drobolectric.dependency.dir={dependency_dir}",
        # Robolectric reaches into JDK internals (FileDescriptor, for API 36's shared memory);
        # newer JDKs enforce strong encapsulation, so open what it needs, as its docs say.
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.access=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.access=ALL-UNNAMED",
    )
    jnius_config.add_classpath(str(classes), *map(str, jars))
    import jnius  # noqa: F401  (starts the JVM with the classpath above)

    return _start_sandbox(chosen, timeout_s)


def _start_sandbox(chosen: robolectric.AndroidLevel, timeout_s: float) -> int:
    from jnius import autoclass

    problem = autoclass("org.hcekit.robo.Harness").start(chosen.api, int(timeout_s * 1000))
    if problem is not None:
        raise JavaSetupError(f"Robolectric did not start API {chosen.api}:\n{problem}")
    return chosen.api
