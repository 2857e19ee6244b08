#!/usr/bin/env bash
# Smoke test of the benchmark script: bench/run.sh --quick against this build's binaries must exit
# 0, print every figure name and the goals table, and draw the chart. No timing is asserted
# anywhere: timing goals live in the benchmark's own output (docs/performance.md).
#   check.sh REPO_ROOT   (env: TOLLGATE_BIN, TOLLGATE_SEED_BIN, optional TOLLGATE_MICRO_BIN)
set -euo pipefail
root=${1:?repository root}
out=$(mktemp -d /tmp/tollgate-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$root/bench/run.sh" --quick --out "$out/results" >"$out/stdout.txt" 2>"$out/stderr.txt" || {
  echo "bench/run.sh --quick failed:"; tail -40 "$out/stderr.txt"; tail -20 "$out/stdout.txt"; exit 1; }
missing=0
figures=(openssl_rsa2048_sign_per_s tollgate_rs256_tokens_per_s tollgate_rs256_p50_ms
         tollgate_rs256_p99_ms tollgate_rs256_non2xx tollgate_rs256_rss_mb ratio_rs256_over_limit
         tollgate_es256_tokens_per_s tollgate_eddsa_tokens_per_s nginx_rps ratio_es256_over_nginx
         ratio_eddsa_over_nginx grow_tokens_per_s ratio_grown_over_one_app grow_rss_per_app_kib
         startup_big_ms pg_one_node_tokens_per_s pg_two_nodes_tokens_per_s
         ratio_pg_two_nodes_over_one pg_db_xacts_per_token "Goals of issue 5")
[ -n "${TOLLGATE_MICRO_BIN:-}" ] && figures+=(micro_BM_Sign_0_RS256_ns micro_BM_ParseForm_ns)
for f in "${figures[@]}"; do
  # A figure line is "name value"; "n/a" would mean it was not measured.
  if ! grep -Eq "^$f( [0-9.]+)?( |$)" "$out/stdout.txt" || grep -Eq "^$f n/a" "$out/stdout.txt"; then
    echo "missing figure: $f"; missing=1
  fi
done
[ -s "$out/results/tokens.png" ] || { echo "no chart drawn"; missing=1; }
if [ $missing != 0 ]; then cat "$out/stdout.txt"; exit 1; fi
grep -A24 '^Goals of issue 5' "$out/stdout.txt"
echo "bench/run.sh --quick printed every figure"
