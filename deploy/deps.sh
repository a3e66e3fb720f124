#!/bin/sh
# Installs the Debian packages xsell builds, runs and tests with, when missing.
# Uses sudo when not root. Quiet when everything is there.
set -eu
# XSELL_DEPS=none: the packages are there already (the container build installs them).
[ "${XSELL_DEPS:-}" = none ] && exit 0
# Extra package names on the command line are installed too (make fuzz: clang).
PKGS="gcc make pkg-config libmicrohttpd-dev libcjson-dev libpq-dev libopenblas-dev
liblapacke-dev postgresql libcmocka-dev libcurl4-openssl-dev libyaml-dev curl clang-format clang-tidy cppcheck haproxy $*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
