#!/usr/bin/env bash
# Install the Debian packages hcekit's test suite talks to for real:
# pcscd + vsmartcard's vpcd driver (the PC/SC harness), the PC/SC headers and
# swig that pyscard compiles against, OpenSC / yubico-piv-tool / pcsc-tools
# (interop clients), a JDK (the Android shim is compiled and run on a desktop
# JVM), util-linux/iproute2 (private network namespaces for pcscd), tshark
# (the tests check exported pcapng traces with Wireshark's own dissectors),
# Android's resource compiler with the framework's resources (aapt,
# android-framework-res: the generated res/ must compile) and Maven (fetches
# Robolectric, the real Android framework for the desktop harness, once:
# scripts/fetch-robolectric.sh, called at the end).
#
# Idempotent: packages already present are skipped without touching apt, and a
# complete Robolectric cache is left alone.
set -euo pipefail

PACKAGES=(
  pcscd vsmartcard-vpcd libpcsclite-dev pcsc-tools opensc yubico-piv-tool
  swig openjdk-17-jdk-headless util-linux iproute2 procps tshark
  aapt android-framework-res maven unzip
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

fetch_robolectric() {
  bash "$(dirname "$0")/fetch-robolectric.sh"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: all ${#PACKAGES[@]} packages present"
  fetch_robolectric
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The distribution's pcscd service (if the package started one) is not used by
# hcekit: tests run a private pcscd in their own namespace. Leave it alone.
fetch_robolectric
echo "install-system-deps: done"
