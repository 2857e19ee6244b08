#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs every
# test (unit, storage contract, integration through the real binary, black-box with real
# third-party clients, a smoke run of bench/run.sh --quick with the micro-benchmarks built),
# then the same suite again under AddressSanitizer + UBSan, then the fuzz targets of tests/fuzz
# under libFuzzer (clang, with ASan + UBSan) for FUZZ_SECONDS each (default 30; 0 skips them).
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
fuzz_seconds=${FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
  echo "== libFuzzer (clang, ASan + UBSan), ${fuzz_seconds} s per target"
  CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOLLGATE_FUZZ=ON >/dev/null
  targets=(token_request jwk_set assertion management client_address)
  cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"
  found=$(mktemp -d /tmp/tollgate-fuzz.XXXXXX)
  for t in "${targets[@]}"; do
    # New inputs go to a scratch folder first in the list; the checked-in seeds are only read.
    mkdir -p "$found/$t"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$found/$t-" "$found/$t" "tests/fuzz/corpus/$t" \
      >"$found/$t.log" 2>&1 || {
        echo "fuzz_$t found a problem (input kept in $found):"; tail -40 "$found/$t.log"; exit 1; }
    echo "fuzz_$t: $(grep -m1 -E '^stat::number_of_executed_units' "$found/$t.log" | awk '{print $2}') inputs, no finding"
  done
  rm -rf "$found"
fi
