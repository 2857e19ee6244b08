#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs every
# test (unit, storage contract, integration through the real binary, black-box with real
# third-party clients, a smoke run of bench/run.sh --quick with the micro-benchmarks built),
# then the same suite again under AddressSanitizer + UBSan.
# A throwaway PostgreSQL cluster (initdb in a temporary directory, a free loopback port, run as
# a non-root user) serves the PostgreSQL tests and is stopped and removed at the end, also on
# failure or interruption.
#   SKIP_SANITIZERS=1 scripts/test.sh   skips the sanitizer pass (local iteration only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
jobs=$(nproc)

echo "== PostgreSQL test cluster"
pgdir=$(mktemp -d /tmp/tollgate-pg-XXXXXX)
stop_cluster() {
  python3 tests/testutil/pg_cluster.py stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM
eval "$(python3 tests/testutil/pg_cluster.py start "$pgdir")"
# The PostgreSQL tests fail (instead of skipping) when the cluster is missing.
export TOLLGATE_TEST_PG TOLLGATE_TEST_PG_DIR TOLLGATE_REQUIRE_PG=1

run_suite() { # build-dir extra-cmake-args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DTOLLGATE_WERROR=ON -DTOLLGATE_BENCH=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== clang-format"
mapfile -t sources < <(git ls-files 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'apps/*.cc' 'bench/*.h' 'bench/*.cc')
clang-format --dry-run --Werror "${sources[@]}"

echo "== Release build, warnings as errors"
run_suite build-test -DCMAKE_BUILD_TYPE=Release
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan + UBSan build"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOLLGATE_SANITIZE=ON
fi
