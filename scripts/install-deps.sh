#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever Tollgate needs and the machine lacks.
#   scripts/install-deps.sh build   what building the server needs
#   scripts/install-deps.sh test    that, plus the test suite's tools and real clients (and what
#                                   the smoke run of bench/run.sh --quick needs)
#   scripts/install-deps.sh bench   that, plus what bench/run.sh needs for a full run (node and npm
#                                   for the node-oidc-provider peer)
set -euo pipefail
what=${1:-build}
pkgs=(g++ cmake ninja-build ccache pkg-config
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libssl-dev libsqlite3-dev libpq-dev libfmt-dev
      libgtest-dev libgmock-dev libbenchmark-dev curl)
if [ "$what" = test ] || [ "$what" = bench ]; then
  pkgs+=(python3 python3-pytest python3-requests python3-jwt python3-authlib python3-cryptography
         sqlite3 clang-format clang-14 clang-tidy-14 libclang-rt-14-dev git golang-go ruby
         wrk gnuplot-nox nginx time procps prometheus python3-prometheus-client
         openjdk-17-jdk-headless libokhttp-java libokio-java chromium)
fi
# The PostgreSQL tests and bench/run.sh run a throwaway cluster of their own.
if [ "$what" = test ] || [ "$what" = bench ]; then
  pkgs+=(postgresql)
fi
missing=()
if [ "$what" != build ] && ! command -v node >/dev/null; then pkgs+=(nodejs npm); fi
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  # Packages with a service (postgresql, nginx, prometheus) must not start it: the tests run throwaway
  # servers of their own, and nothing may outlive a test run. policy-rc.d 101 forbids starting services
  # for the duration of the install (kept as it is when the machine already has one).
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$guard" >/dev/null
    $SUDO chmod 755 "$guard"
    trap '$SUDO rm -f "$guard"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
