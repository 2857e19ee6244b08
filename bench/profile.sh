#!/usr/bin/env bash
# bench/profile.sh: where a token request's time goes outside the signature, in two views.
#
#   bench/profile.sh [OUT_DIR]     (bench/run.sh --profile calls it with its results folder)
#
# 1. Instructions (callgrind, repeatable on a busy machine): one I/O thread, N token requests
#    of each algorithm over 4 keep-alive connections (bench/mgmt.py load), then instructions per
#    request by ELF object and, outside libcrypto, by part (Beast parser, Beast writer, Asio,
#    malloc, memcpy & co., Tollgate's own code). Start-up is included but small against N.
# 2. CPU samples (perf, cpu-clock, the real binary at full speed with 2 threads under the peers'
#    wrk load): the server's samples by ELF object, kernel included (callgrind sees no kernel).
#
# Env: TOLLGATE_BIN (default build-bench/tollgate), ES_REQUESTS (3000), RS_REQUESTS (300),
# PERF_SECONDS (8; 0 skips the perf view). Loopback only; stops what it starts by PID.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/peers_dir.sh"
PY=/usr/bin/python3
BIN=${TOLLGATE_BIN:-$ROOT/build-bench/tollgate}
OUT=${1:-$(mktemp -d /tmp/tollgate-profile.XXXXXX)}
ES_REQUESTS=${ES_REQUESTS:-3000}; RS_REQUESTS=${RS_REQUESTS:-300}; PERF_SECONDS=${PERF_SECONDS:-8}
mkdir -p "$OUT"
for tool in valgrind perf; do
  command -v $tool >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind linux-perf >/dev/null || true; }
done
WORK=$(mktemp -d /tmp/tollgate-profile-work.XXXXXX)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
jget() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
store="sqlite:$WORK/p.db"
admin=$("$BIN" init --store "$store")
A=(--api "http://127.0.0.1:$port" --env "$(jget "$admin" environmentId)" --client-id="$(jget "$admin" clientId)" --client-secret="$(jget "$admin" clientSecret)")
s=$("$PY" "$HERE/mgmt.py" start --url "http://127.0.0.1:$port/readyz" --log "$WORK/setup.log" -- "$BIN" serve --store "$store" --listen "127.0.0.1:$port")
spid=$(jget "$s" pid); PIDS+=("$spid")
RS=$("$PY" "$HERE/mgmt.py" setup "${A[@]}" --name "Profile RS256")
ES=$("$PY" "$HERE/mgmt.py" setup "${A[@]}" --name "Profile ES256")
"$PY" "$HERE/mgmt.py" key "${A[@]}" --bench-env "$(jget "$ES" envId)" --algorithm EC >/dev/null
kill -TERM "$spid"; while kill -0 "$spid" 2>/dev/null; do sleep 0.1; done

# summarize FILE REQUESTS: instructions per request by object, and by part outside libcrypto
summarize() {
  callgrind_annotate --threshold=100 "$1" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' |
    awk -v n="$2" '{ v = $1; gsub(",", "", v); obj = $NF; line = $0
      part = "";
      if (obj ~ /libcrypto/) obj = "libcrypto (signature, SHA-256, OpenSSL allocations)";
      else if (obj ~ /\/tollgate\]?$|libc\.so|libstdc\+\+/) {
        if (line ~ /basic_parser|parse_|read_op|read_some/) part = "Beast: request parser and reads";
        else if (line ~ /basic_fields|field_range|buffers_cat|buffers_suffix|buffers_prefix|serializer|write_op|write_some|chunk_crlf/) part = "Beast/Asio: response write";
        else if (line ~ /asio/) part = "Asio: scheduler, reactor, coroutines";
        else if (line ~ /malloc|free|_int_|unlink_chunk|consolidate|operator new|operator delete/) part = "malloc/free";
        else if (line ~ /mem(cpy|move|set|cmp|chr)|str(len|cmp)/) part = "memcpy & co.";
        else if (line ~ /tollgate::/) part = "Tollgate (form, auth, scopes, claims, base64, ids)";
        else part = "other (fmt, libstdc++, ld.so, ...)";
        obj = "outside libcrypto" }
      else obj = "other objects (sqlite at start-up, ld.so, ...)";
      byobj[obj] += v; if (part != "") bypart[part] += v; total += v }
    END {
      for (k in byobj) printf "  %9.0f  %5.1f%%  %s\n", byobj[k] / n, 100 * byobj[k] / total, k
      for (k in bypart) printf "  %9.0f  %5.1f%%    - %s\n", bypart[k] / n, 100 * bypart[k] / total, k
      printf "  %9.0f  100.0%%  instructions per request (callgrind, start-up included)\n", total / n
    }' | sort -k1 -nr
}

for pair in "ES256:$ES:$ES_REQUESTS" "RS256:$RS:$RS_REQUESTS"; do
  alg=${pair%%:*}; rest=${pair#*:}; j=${rest%:*}; n=${rest##*:}
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$alg.out" \
    "$BIN" serve --store "$store" --listen "127.0.0.1:$port" --threads 1 >"$WORK/cg.$alg.log" 2>&1 &
  vpid=$!; PIDS+=("$vpid")
  "$PY" "$HERE/mgmt.py" wait --url "http://127.0.0.1:$port/readyz" --since-ns "$(date +%s%N)" >/dev/null
  "$PY" "$HERE/mgmt.py" load --token-url "$(jget "$j" tokenUrl)" --client-id="$(jget "$j" clientId)" \
    --client-secret="$(jget "$j" clientSecret)" --count "$n" --conns 4 >/dev/null 2>&1
  kill -TERM "$vpid"; wait "$vpid" 2>/dev/null || true
  echo "$alg, $n requests, one I/O thread under callgrind:"
  summarize "$OUT/callgrind.$alg.out" "$n"
done | tee "$OUT/profile.txt"

if [ "$PERF_SECONDS" != 0 ] && perf record -e cpu-clock -o "$WORK/probe.data" true >/dev/null 2>&1; then
  for pair in "ES256:$ES" "RS256:$RS"; do
    alg=${pair%%:*}; j=${pair#*:}
    s=$("$PY" "$HERE/mgmt.py" start --url "http://127.0.0.1:$port/readyz" --log "$WORK/perf.log" -- "$BIN" serve --store "$store" --listen "127.0.0.1:$port")
    spid=$(jget "$s" pid); PIDS+=("$spid")
    export CLIENT_ID; CLIENT_ID=$(jget "$j" clientId)
    export CLIENT_SECRET; CLIENT_SECRET=$(jget "$j" clientSecret)
    wrk -t1 -c32 -d2s -s "$PEERS/bench.lua" "$(jget "$j" tokenUrl)" >/dev/null
    perf record -e cpu-clock -F 2000 -p "$spid" -o "$OUT/perf.$alg.data" -- \
      wrk -t1 -c32 -d"${PERF_SECONDS}s" -s "$PEERS/bench.lua" "$(jget "$j" tokenUrl)" 2>/dev/null |
      grep '^RESULT' | cut -d' ' -f1-5 >"$WORK/perf.$alg.rps"
    kill -TERM "$spid"; while kill -0 "$spid" 2>/dev/null; do sleep 0.1; done
    echo "$alg, the server's CPU samples by object under wrk -t1 -c32 ($(cat "$WORK/perf.$alg.rps")):"
    perf report -i "$OUT/perf.$alg.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
      grep -E '^ +[0-9.]+%' | awk '{ gsub("%", "", $1); s[$2] += $1; t += $1 }
        END { for (k in s) printf "  %5.1f%%  %s\n", 100 * s[k] / t, k }' | sort -k1 -nr | head -6
  done | tee -a "$OUT/profile.txt"
fi
echo "profile: $OUT/profile.txt (callgrind files beside it)"
