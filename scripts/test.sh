#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs every
# test (unit, storage contract, integration through the real binary, black-box with real
# third-party clients, a smoke run of bench/run.sh --quick with the micro-benchmarks built),
# then clang-tidy-14 with the repository's .clang-tidy over every translation unit of src/ and
# apps/ (tests excluded; any finding fails), then the same suite again under AddressSanitizer +
# UBSan, then a clang build of everything with its locking annotations checked
# (-Wthread-safety, common/thread_annotations.h) and ThreadSanitizer, running the tests whose
# threads share state (snapshot swap, jti cache, change feed, remote jwks, brute force, log
# limiter, signing, store writers, token metrics) and the integration tests that drive the
# server's threads hardest, then the fuzz targets of tests/fuzz under libFuzzer (clang, with ASan + UBSan) for
# FUZZ_SECONDS each (default 30; 0 skips them).
# A throwaway PostgreSQL cluster (initdb in a temporary directory, a free loopback port, run as
# a non-root user) serves the PostgreSQL tests and is stopped and removed at the end, also on
# failure or interruption.
#   SKIP_SANITIZERS=1 scripts/test.sh   skips the sanitizer passes, ASan and TSan (local
#                                       iteration only)
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

echo "== clang-tidy"
# build-test's compile_commands.json (CMAKE_EXPORT_COMPILE_COMMANDS) is GCC's; clang does not know
# every GCC warning flag in it. .clang-tidy sets the checks and WarningsAsErrors, so a finding
# fails the stage. *_test.cc files are not checked (see docs/decisions/0007-names.md).
run-clang-tidy-14 -p build-test -quiet -j "$jobs" -extra-arg=-Wno-unknown-warning-option \
  "^$PWD/(src|apps)/(?!.*_test\.cc\$).*\.cc\$" >build-test/clang-tidy.log 2>&1 || {
    sed 's/\x1b\[[0-9;]*m//g' build-test/clang-tidy.log | grep -E '(warning|error):' | sort -u
    echo "clang-tidy found the above (full log: build-test/clang-tidy.log)"; exit 1; }
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan + UBSan build"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOLLGATE_SANITIZE=ON
  echo "== clang -Wthread-safety + ThreadSanitizer"
  # Building the server binary compiles every library of src/ with clang, whose -Wthread-safety
  # (an error) checks the GUARDED_BY/REQUIRES annotations; then TSan runs the concurrent tests.
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOLLGATE_TSAN=ON -DTOLLGATE_WERROR=ON >/dev/null
  cmake --build build-tsan -j "$jobs" --target tollgate tollgate_seed common_test crypto_test \
    oauth_test config_store_test storage_contract_test audit_test
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
  b=build-tsan
  $b/src/common/common_test --gtest_brief=1 --gtest_filter='RepeatLimiter*:LogFacade*'
  $b/src/crypto/crypto_test --gtest_brief=1 --gtest_filter='PrivateKeyTest.*Thread*:*Concurrent*'
  $b/src/oauth/oauth_test --gtest_brief=1 --gtest_filter='Throttle*:RemoteJwks*:TokenMetrics*'
  $b/src/config/store/config_store_test --gtest_brief=1
  $b/src/audit/audit_test --gtest_brief=1
  $b/tests/storage_contract/storage_contract_test --gtest_brief=1 --gtest_filter='*Concurrent*'
  # The server's threads (acceptor, I/O threads, blocking and fetch pools, jti maintenance, change
  # feed) under real clients. Reports go to files, as pytest keeps the server's stderr.
  tsan_logs=$(mktemp -d /tmp/tollgate-tsan.XXXXXX)
  TSAN_OPTIONS="$TSAN_OPTIONS log_path=$tsan_logs/tsan" TOLLGATE_BIN=$b/tollgate \
    TOLLGATE_SEED_BIN=$b/tests/testutil/tollgate_seed PYTHONPATH=tests/testutil \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_robustness.py \
    tests/integration/test_client_assertions.py tests/integration/test_fd_limits.py \
    tests/integration/test_introspection_revocation.py tests/integration/test_postgres_nodes.py \
    tests/integration/test_postgres_key_rotation.py tests/integration/test_token_activities.py \
    || { cat "$tsan_logs"/tsan.* 2>/dev/null; exit 1; }
  # The files also get TSan's notes (e.g. on symbolization); a report names ThreadSanitizer.
  if grep -l ThreadSanitizer "$tsan_logs"/tsan.* 2>/dev/null; then cat "$tsan_logs"/tsan.*; exit 1; fi
  rm -rf "$tsan_logs"
  unset TSAN_OPTIONS
fi
fuzz_seconds=${FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
  echo "== libFuzzer (clang, ASan + UBSan), ${fuzz_seconds} s per target"
  CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOLLGATE_FUZZ=ON >/dev/null
  targets=(token_request jwk_set assertion management client_address expression dpop
    client_certificate)
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
