#!/usr/bin/env bash
# bench/run.sh: Tollgate's token path against the machine's limits and its peers, in ONE run.
#
#   bench/run.sh            full run (~8 min on 2 cores): builds a Release binary in build-bench/,
#                           then measures and prints every figure of docs/performance.md
#   bench/run.sh --quick    a few seconds of load per target, small stores, no node peer: checks
#                           that the script runs and prints its figures (the test suite runs this)
#
# Options: --rounds N (alternation rounds, default 3; quick 1), --no-peers (skip nginx and
# node-oidc-provider), --no-oidc, --out DIR (raw results; default a new folder under /tmp),
# --chart FILE (the PNG; default OUT/tokens.png), --profile (also run bench/profile.sh: where a
# token request's time goes outside the signature, by callgrind and perf; slow), --no-pg (skip
# the PostgreSQL section).
# Environment: TOLLGATE_BIN, TOLLGATE_SEED_BIN, TOLLGATE_MICRO_BIN use those binaries instead of
# building (the smoke test passes its own build's); PEERS (default ../shared/peers beside the
# repository, else the copy in bench/peers/); PORT_A, PORT_B0, PORT_B1, PORT_C, PORT_D0, PORT_D1
# (Tollgate's servers), PORT_T (server A's HTTPS listener), PORT_P1, PORT_P2 (the PostgreSQL nodes), NGINX_PORT, OIDC_PORT (the peers): free
# loopback ports unless given.
#
# Method (same load as the peers' bench.sh, which this script calls by path): wrk -t1 -c32,
# keep-alive, HTTP Basic client auth, body grant_type=client_credentials&scope=read%20write.
# Each round runs, back to back: openssl speed -multi <cores> rsa2048 (the limit), Tollgate RS256,
# openssl speed again (the round's limit is the mean of both), node-oidc-provider, Tollgate ES256, Tollgate EdDSA, nginx with a fixed body; a ratio is the
# median over rounds of the ratio measured within a round, so drift on a shared machine hits both
# sides of it. After the rounds, on the same server: resource attributes (RS256 tokens of an
# environment whose resource has three custom claims vs the RS256 environment without, alternated
# off/on for the same number of rounds); DPoP (ES256 tokens of requests carrying a fresh proof each
# vs the same requests without, both through bench/dpop.lua, alternated). Then the flat-cost case (one application vs 10,000 applications and 1,000
# resources, alternated), the audit's cost (token activities on, the default, vs off, alternated),
# start-up with 100,000 applications, and the micro-benchmarks.
# PostgreSQL: two nodes on one throwaway cluster; per round, one node under the whole load, the
# same time with no load, then both nodes at once under half the connections each; the
# database's transactions (pg_stat_database) are counted over each window.
# Nothing here asserts a timing: bench/report.py prints the goals with their verdicts.
#
# Only loopback traffic. Everything this script starts is stopped by PID on exit, also on failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/peers_dir.sh"
PY=/usr/bin/python3  # Debian's, with python3-jwt

QUICK=0; ROUNDS=""; DO_PEERS=1; DO_OIDC=1; DO_PG=1; OUT=""; CHART=""; PROFILE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --no-peers) DO_PEERS=0 ;;
    --no-oidc) DO_OIDC=0 ;;
    --no-pg) DO_PG=0 ;;
    --out) OUT=$2; shift ;;
    --chart) CHART=$2; shift ;;
    --profile) PROFILE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

CORES=$(nproc)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)  # before this script's own build
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1}; DURATION=2s; WARMUP=0; SSL_SECONDS=1; DO_OIDC=0
  GROW_APPS=200; GROW_RESOURCES=20; BIG_APPS=2000; STARTS=1; MICRO_MIN_TIME=0.01
else
  ROUNDS=${ROUNDS:-3}; DURATION=10s; WARMUP=3s; SSL_SECONDS=3
  GROW_APPS=10000; GROW_RESOURCES=1000; BIG_APPS=100000; STARTS=3; MICRO_MIN_TIME=0.5
fi
# Free loopback ports, unless given. They are chosen once and used for minutes (servers restart
# on them), so they come from below the kernel's ephemeral range: a port the kernel hands to
# another program's bind(0) or outgoing connection meanwhile (the test suite runs in parallel)
# can never be one of them.
free_ports() { # N -> N distinct free ports on one line (tests/testutil/pg_cluster.py's choice)
  PYTHONPATH="$ROOT/tests/testutil" "$PY" -c '
import sys
from pg_cluster import free_port
ports = []
for _ in range(int(sys.argv[1])):
    ports.append(free_port(ports))
print(*ports)' "$1"
}
read -r f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 < <(free_ports 11)
PORT_A=${PORT_A:-$f1}; PORT_B0=${PORT_B0:-$f2}; PORT_B1=${PORT_B1:-$f3}; PORT_C=${PORT_C:-$f4}
PORT_P1=${PORT_P1:-$f5}; PORT_P2=${PORT_P2:-$f6}; NGINX_PORT=${NGINX_PORT:-$f7}; OIDC_PORT=${OIDC_PORT:-$f8}
PORT_D0=${PORT_D0:-$f9}; PORT_D1=${PORT_D1:-$f10}; PORT_T=${PORT_T:-$f11}

WORK=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"
CHART=${CHART:-$OUT/tokens.png}
RAW=$OUT/raw.txt
: >"$RAW"

# --- processes we start, stopped by PID on every exit --------------------------------------------
PIDS=()
stop_pid() { # stop one server we started: TERM, then KILL after 15 s
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  [ -z "${PGDIR:-}" ] || "$PY" "$HERE/pg.py" stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK/stores"
  if [ $rc = 0 ]; then
    case "$OUT" in "$WORK"/*) ;; *) rm -rf "$WORK" ;; esac  # the results live elsewhere
  else
    echo "bench/run.sh: failed (exit $rc); logs in $WORK" >&2
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "== $*" >&2; }
raw() { echo "$*" >>"$RAW"; }
info() { local k=$1; shift; raw "info $k $*"; }

# --- dependencies and binaries --------------------------------------------------------------------
"$ROOT/scripts/install-deps.sh" bench
if [ -n "${TOLLGATE_BIN:-}" ] && [ -n "${TOLLGATE_SEED_BIN:-}" ]; then
  log "using the given binaries: $TOLLGATE_BIN"
else
  log "Release build in build-bench/"
  cmake -S "$ROOT" -B "$ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DTOLLGATE_BENCH=ON -DTOLLGATE_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j "$CORES" --target tollgate tollgate_seed tollgate_micro
  TOLLGATE_BIN=$ROOT/build-bench/tollgate
  TOLLGATE_SEED_BIN=$ROOT/build-bench/bench/testutil/tollgate_seed
  TOLLGATE_MICRO_BIN=$ROOT/build-bench/bench/tollgate_micro
fi
MICRO=${TOLLGATE_MICRO_BIN:-}

# --- the machine ----------------------------------------------------------------------------------
info cores "$CORES"
info cpu_model "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
info openssl "$(openssl version)"
info wrk "$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
info gcc "$(gcc -dumpfullversion 2>/dev/null || echo '?')"
info tollgate_commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+changes')"
info load_avg_start "$LOAD_AT_START"
info mode "$([ "$QUICK" = 1 ] && echo quick || echo full)"
info rounds "$ROUNDS"
info duration "$DURATION"
info warmup "$WARMUP"
info runs_per_round 1

# --- helpers --------------------------------------------------------------------------------------
ssl_speed() { # ALG... -> "alg sign/s" lines, with -multi CORES
  openssl speed -seconds "$SSL_SECONDS" -multi "$CORES" "$@" 2>/dev/null |
    awk '/^rsa 2048 bits/ {print "rsa2048", $(NF-1)}
         /ecdsa \(nistp256\)/ {print "ecdsap256", $(NF-1)}
         /EdDSA \(Ed25519\)/ {print "ed25519", $(NF-1)}'
}

rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # PID -> utime+stime

# start_server NAME STORE PORT: starts `tollgate serve` (with the options in SERVE_ARGS), waits
# until /readyz answers; sets SPID and STARTUP_MS (from exec to the first 200).
SERVE_ARGS=()
start_server() {
  local name=$1 store=$2 port=$3 started
  started=$("$PY" "$HERE/mgmt.py" start --url "http://127.0.0.1:$port/readyz" --max-seconds 120 \
    --log "$WORK/$name.log" -- "$TOLLGATE_BIN" serve --store "$store" --listen "127.0.0.1:$port" \
    "${SERVE_ARGS[@]}") || {
    echo "tollgate ($name) did not start; its log:" >&2; tail -20 "$WORK/$name.log" >&2; exit 1; }
  SPID=$(jget "$started" pid)
  STARTUP_MS=$(jget "$started" ms)
  PIDS+=("$SPID")
}
stop_server() { # SPID
  local p=$1 keep=() q
  stop_pid "$p"
  for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  PIDS=("${keep[@]}")
}

# init_store NAME PORT [STORE]: `tollgate init` of a fresh store (a new SQLite file unless STORE
# is given); sets STORE and ADMIN_JSON (what init printed).
init_store() {
  local name=$1 admin
  mkdir -p "$WORK/stores"
  STORE=${3:-"sqlite:$WORK/stores/$name.db"}
  admin=$("$TOLLGATE_BIN" init --store "$STORE" --auth-url "http://127.0.0.1:$2" 2>>"$WORK/$name.log")
  ADMIN_JSON=$admin
}
# bench_store NAME PORT TITLE: a fresh store with the realistic setup (mgmt.py setup) made through
# /v1 by a server that is stopped again; sets STORE, SETUP (setup's JSON) and ADMIN_ARGS.
bench_store() {
  init_store "$1" "$2"
  start_server "$1" "$STORE" "$2"
  read -r -a ADMIN_ARGS <<<"$(admin_args "$2")"
  SETUP=$("$PY" "$HERE/mgmt.py" setup "${ADMIN_ARGS[@]}" --name "$3")
  stop_server "$SPID"
}
# seed_store STORE SETUP APPS KEY: APPS more SERVICE applications and GROW_RESOURCES resources in
# SETUP's environment, through the storage API (tollgate_seed); records KEY.load_s and KEY.apps.
seed_store() {
  local t0
  t0=$(date +%s%N)
  "$PY" "$HERE/mgmt.py" seedspec --bench-env "$(jget "$2" envId)" --apps "$3" \
    --resources "$GROW_RESOURCES" --tag "$4" >"$WORK/$4-spec.json"
  "$TOLLGATE_SEED_BIN" --store "$1" <"$WORK/$4-spec.json" >/dev/null
  raw "$4.load_s - $(( ($(date +%s%N) - t0) / 1000000 ))e-3"
  raw "$4.apps - $3"
}
admin_args() { # PORT -> mgmt.py admin arguments from ADMIN_JSON
  "$PY" -c 'import json,sys; a=json.loads(sys.argv[1]); print("--api", "http://127.0.0.1:"+sys.argv[2], "--env", a["environmentId"], "--client-id="+a["clientId"], "--client-secret="+a["clientSecret"])' "$ADMIN_JSON" "$1"
}
jget() { # JSON KEY -> the member KEY (a string as it is, anything else as JSON)
  "$PY" -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"; }

# load KEY LABEL URL PID CLIENT_ID SECRET: one bench.sh call (warm-up + 1 run); records the run's
# figures under KEY for round R.
load() {
  local key=$1 label=$2 url=$3 pid=$4 id=$5 secret=$6
  CLIENT_ID=$id CLIENT_SECRET=$secret OUT="$OUT/wrk" DURATION=$DURATION WARMUP=$WARMUP RUNS=1 \
    "$PEERS/bench.sh" "$label" "$url" "$pid" >"$WORK/$label.bench.txt" 2>&1 || {
    echo "bench.sh $label failed:" >&2; cat "$WORK/$label.bench.txt" >&2; exit 1; }
  record "$key" "$R" "$OUT/wrk/$label.txt"
}
# record KEY ROUND FILE: a bench.sh result file (its run1 line and RSS line) into RAW, and the
# requests of the warm-up plus the run as KEY.all_requests.
record() {
  local key=$1 round=$2 file=$3
  awk -v k="$key" -v r="$round" '
    /^run1:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    /^server_rss_kb=/ { split($1, a, "="); rss = a[2] }
    /^(warmup|run1):/ { for (i = 2; i <= NF; i++) if ($i ~ /^requests=/) { split($i, kv, "="); all += kv[2] } }
    END {
      print k ".all_requests", r, all + 0
      split("rps p50_ms p99_ms non2xx wrk_cpu_pct srv_cpu_pct machine_busy_pct softirq_pct", names, " ")
      for (i in names) if (names[i] in v) print k "." names[i], r, v[names[i]]
      print k ".socket_errors", r, v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"]
      if (rss > 0) print k ".rss_mb", r, rss / 1024
    }' "$file" >>"$RAW"
  awk -v l="$key" '/^run1:/ { printf "   %-10s %s\n", l, $0 }' "$file" | cut -c1-160 >&2
}

# load_script KEY LABEL URL PID SCRIPT PROOFS_PER_S: wrk -t1 -c32 with a bench/ script that loads
# the peers' bench.lua (dpop.lua, handshake.lua), warm-up + 1 run, recorded like load with the
# CPU time of the server PID and of wrk over the run (srv_cpu_pct, wrk_cpu_pct); CLIENT_ID
# and CLIENT_SECRET (bench.lua's) from the caller's environment. With PROOFS_PER_S > 0, each wrk
# run gets its own file of that many fresh DPoP proofs per second of its duration for URL, made
# just before it (a proof is accepted once, within 60 s of its iat).
load_script() {
  local key=$1 label=$2 url=$3 pid=$4 script=$5 per_s=$6 file phase d proofs line t0 t1 w0 w1
  file="$OUT/wrk/$label.txt"
  mkdir -p "$OUT/wrk"
  : >"$file"
  for phase in warmup run1; do
    d=$DURATION; [ "$phase" = warmup ] && d=$WARMUP
    [ "$d" = 0 ] && continue
    proofs=""
    if [ "$per_s" -gt 0 ]; then
      proofs="$WORK/$label.$phase.proofs"
      "$PY" "$HERE/mgmt.py" proofs --token-url "$url" --count $(( per_s * ${d%s} )) --out "$proofs" >/dev/null
    fi
    t0=$(cpu_ticks "$pid")
    line=$(PROOFS=$proofs BENCH_LUA="$PEERS/bench.lua" /usr/bin/time -f 'WRKTIME %U %S' \
      -o "$WORK/$label.time" wrk -t1 -c32 -d"$d" --timeout 5s -s "$HERE/$script" "$url" |
      grep '^RESULT') || { echo "wrk with bench/$script failed ($label)" >&2; exit 1; }
    t1=$(cpu_ticks "$pid")
    read -r w0 w1 < <(awk '/^WRKTIME/ {print $2, $3}' "$WORK/$label.time")
    # CPU in % of one core over the run's duration, as bench.sh reports it.
    line+=$(awk -v s=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v d="${d%s}" -v wu="$w0" -v ws="$w1" \
      'BEGIN { printf " srv_cpu_pct=%.0f wrk_cpu_pct=%.0f", 100 * s / hz / d, 100 * (wu + ws) / d }')
    echo "$phase: $line" >>"$file"
    [ -z "$proofs" ] || rm -f "$proofs"
  done
  record "$key" "$R" "$file"
}

# peer SCRIPT KEY LABEL ARGS...: one round of a peer's own script (it starts its server, verifies
# a token, calls bench.sh, stops its server); its bench.sh result is recorded under KEY.
peer() {
  local script=$1 key=$2 label=$3; shift 3
  local out="$OUT/peers/r$R"
  mkdir -p "$out"
  OUT="$out" DURATION=$DURATION WARMUP=$WARMUP RUNS=1 "$PEERS/$script" "$@" \
    >"$WORK/$key.r$R.log" 2>&1 || {
    echo "$script failed:" >&2; tail -30 "$WORK/$key.r$R.log" >&2; exit 1; }
  record "$key" "$R" "$out/$label.txt"
}

# --- A: the realistic setup -----------------------------------------------------------------------
PA=$PORT_A
init_store a "$PA"
# Server A also serves HTTPS on PORT_T with an RSA-2048 certificate: its handshakes sign with the
# key whose speed `openssl speed rsa2048` measures. The public base stays the plain URL.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.pem" -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
SERVE_ARGS=(--auth-url "http://127.0.0.1:$PA" --tls-listen "127.0.0.1:$PORT_T"
            --tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key")
start_server a "$STORE" "$PA"; A_PID=$SPID
SERVE_ARGS=()
tls_url() { echo "${1/http:\/\/127.0.0.1:$PA\//https://127.0.0.1:$PORT_T/}"; }  # URL -> same on HTTPS
read -r -a AA <<<"$(admin_args "$PA")"
log "setup: a SERVICE application with a custom resource grant, in three environments"
RS=$("$PY" "$HERE/mgmt.py" setup "${AA[@]}" --name "Bench RS256")
ES=$("$PY" "$HERE/mgmt.py" setup "${AA[@]}" --name "Bench ES256")
ED=$("$PY" "$HERE/mgmt.py" setup "${AA[@]}" --name "Bench EdDSA")
# Like Bench RS256 (its own first key, RSA-2048), plus three attributes on its resource.
AT=$("$PY" "$HERE/mgmt.py" setup "${AA[@]}" --name "Bench RS256 attributes")
AT_SET=$("$PY" "$HERE/mgmt.py" attributes "${AA[@]}" --bench-env "$(jget "$AT" envId)" \
  --resource "$(jget "$AT" resourceId)")
"$PY" "$HERE/mgmt.py" key "${AA[@]}" --bench-env "$(jget "$ES" envId)" --algorithm EC >/dev/null
"$PY" "$HERE/mgmt.py" key "${AA[@]}" --bench-env "$(jget "$ED" envId)" --algorithm EdDSA >/dev/null
for pair in "RS256:$RS" "ES256:$ES" "EdDSA:$ED"; do
  alg=${pair%%:*}; j=${pair#*:}
  v=$("$PY" "$HERE/mgmt.py" verify --token-url "$(jget "$j" tokenUrl)" \
    --client-id="$(jget "$j" clientId)" --client-secret="$(jget "$j" clientSecret)" --alg "$alg")
  echo "   $alg token: $v" >&2
done
info tollgate_rs256_token "$v"
v=$("$PY" "$HERE/mgmt.py" verify --token-url "$(jget "$AT" tokenUrl)" \
  --client-id="$(jget "$AT" clientId)" --client-secret="$(jget "$AT" clientSecret)" --alg RS256 \
  --claims "$(jget "$AT_SET" claims)")
echo "   RS256 with attributes token: $v" >&2
info tollgate_attributes_token "$v"
info tollgate_idle_rss_kb "$(rss_kb "$A_PID")"

if [ "$DO_PEERS" = 1 ] && [ "$DO_OIDC" = 1 ]; then
  info node "$(node --version)"
fi
if [ "$DO_PEERS" = 1 ]; then
  info nginx "$(nginx -v 2>&1 | cut -d/ -f2)"
fi

# The limits that are not alternated (ES256 and EdDSA are compared with nginx, not with these).
while read -r alg v; do raw "limit.$alg - $v"; done < <(ssl_speed ecdsap256 ed25519)

# --- rounds: limit, Tollgate and the peers back to back -------------------------------------------
for R in $(seq 1 "$ROUNDS"); do
  log "round $R/$ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))"
  while read -r alg v; do raw "limit.$alg $R $v"; echo "   openssl speed -multi $CORES $alg: $v sign/s" >&2; done < <(ssl_speed rsa2048)
  load tg_rs256 "tollgate-rs256-r$R" "$(jget "$RS" tokenUrl)" "$A_PID" "$(jget "$RS" clientId)" "$(jget "$RS" clientSecret)"
  # The limit again right after: the round's limit is the mean of the readings either side of
  # the Tollgate run, so a change of the machine's speed within a round (a shared host) shows
  # on both sides of the ratio.
  while read -r alg v; do raw "limit_after.$alg $R $v"; echo "   openssl speed -multi $CORES $alg: $v sign/s" >&2; done < <(ssl_speed rsa2048)
  if [ "$DO_PEERS" = 1 ] && [ "$DO_OIDC" = 1 ]; then
    PORT=$OIDC_PORT peer run-oidc-provider.sh oidc oidc-provider-1proc single
  fi
  load tg_es256 "tollgate-es256-r$R" "$(jget "$ES" tokenUrl)" "$A_PID" "$(jget "$ES" clientId)" "$(jget "$ES" clientSecret)"
  load tg_eddsa "tollgate-eddsa-r$R" "$(jget "$ED" tokenUrl)" "$A_PID" "$(jget "$ED" clientId)" "$(jget "$ED" clientSecret)"
  if [ "$DO_PEERS" = 1 ]; then
    PORT=$NGINX_PORT peer run-nginx.sh nginx nginx-return200
  fi
  # HTTPS: the same loads over TLS (keep-alive: one handshake per connection), then new
  # connections only (a full handshake per request).
  load tg_rs256_tls "tollgate-rs256-tls-r$R" "$(tls_url "$(jget "$RS" tokenUrl)")" "$A_PID" "$(jget "$RS" clientId)" "$(jget "$RS" clientSecret)"
  load tg_es256_tls "tollgate-es256-tls-r$R" "$(tls_url "$(jget "$ES" tokenUrl)")" "$A_PID" "$(jget "$ES" clientId)" "$(jget "$ES" clientSecret)"
  while read -r alg v; do raw "limit_hs.$alg $R $v"; echo "   openssl speed -multi $CORES $alg: $v sign/s" >&2; done < <(ssl_speed rsa2048)
  load_script tls_handshakes "tollgate-tls-handshakes-r$R" "https://127.0.0.1:$PORT_T/healthz" "$A_PID" handshake.lua 0
done
# --- resource attributes: the RS256 load with three custom claims vs without, same server --------
log "resource attributes: Bench RS256 (off) and Bench RS256 attributes (on), alternated"
for R in $(seq 1 "$ROUNDS"); do
  load attr_off "tollgate-attr-off-r$R" "$(jget "$RS" tokenUrl)" "$A_PID" "$(jget "$RS" clientId)" "$(jget "$RS" clientSecret)"
  load attr_on "tollgate-attr-on-r$R" "$(jget "$AT" tokenUrl)" "$A_PID" "$(jget "$AT" clientId)" "$(jget "$AT" clientSecret)"
done
# --- DPoP: ES256 tokens bound to a proof key vs plain ES256 tokens, same server -------------------
log "DPoP: Bench ES256 with a fresh proof per request (on) and without (off), alternated"
v=$("$PY" "$HERE/mgmt.py" verify --token-url "$(jget "$ES" tokenUrl)" --client-id="$(jget "$ES" clientId)" \
  --client-secret="$(jget "$ES" clientSecret)" --alg ES256 --dpop)
echo "   ES256 DPoP-bound token: $v" >&2
info tollgate_dpop_token "$v"
export CLIENT_ID CLIENT_SECRET
CLIENT_ID=$(jget "$ES" clientId); CLIENT_SECRET=$(jget "$ES" clientSecret)
for R in $(seq 1 "$ROUNDS"); do
  load_script dpop_off "tollgate-dpop-off-r$R" "$(jget "$ES" tokenUrl)" "$A_PID" dpop.lua 0
  # Proofs for 1.5 times the rate just measured without them: more than the server can use, as
  # a proof costs it a verification on top.
  per_s=$(awk '/^run1:/ { for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) { split($i, kv, "="); printf "%d", kv[2] * 1.5 + 100 } }' \
    "$OUT/wrk/tollgate-dpop-off-r$R.txt")
  load_script dpop_on "tollgate-dpop-on-r$R" "$(jget "$ES" tokenUrl)" "$A_PID" dpop.lua "$per_s"
done
unset CLIENT_ID CLIENT_SECRET
if [ "$DO_PEERS" = 1 ] && [ "$DO_OIDC" = 1 ]; then
  info oidc_provider "$(node -p "require('/tmp/peers/oidc/node_modules/oidc-provider/package.json').version" 2>/dev/null || echo '?')"
fi
stop_server "$A_PID"

# --- PostgreSQL: the database's work per token, and two nodes on one database vs one -------------
if [ "$DO_PG" = 1 ]; then
  log "PostgreSQL: two nodes on one throwaway database"
  PGDIR=$(mktemp -d /tmp/tollgate-bench-pg.XXXXXX)  # not under WORK: the cluster's user enters it
  pg=$("$PY" "$HERE/pg.py" start "$PGDIR")
  info postgresql "$(jget "$pg" version)"
  # Both nodes share the master key (init writes the file, serve reads it).
  export TOLLGATE_MASTER_KEY_FILE=$WORK/pg-master.key
  init_store p1 "$PORT_P1" "$(jget "$pg" store)"; PG_STORE=$STORE
  # Without token activities: the figure is the token path's own use of the database (the
  # audit's batched writes are measured on their own below).
  SERVE_ARGS=(--token-activities none)
  start_server p1 "$PG_STORE" "$PORT_P1"; P1_PID=$SPID
  start_server p2 "$PG_STORE" "$PORT_P2"; P2_PID=$SPID
  SERVE_ARGS=()
  read -r -a PA <<<"$(admin_args "$PORT_P1")"
  # Configured through node 1 only: node 2 serves it once the change feed has told it.
  PGJ=$("$PY" "$HERE/mgmt.py" setup "${PA[@]}" --name "Bench PostgreSQL")
  PG_URL1=$(jget "$PGJ" tokenUrl); PG_URL2=${PG_URL1/:$PORT_P1\//:$PORT_P2/}
  PG_ID=$(jget "$PGJ" clientId); PG_SECRET=$(jget "$PGJ" clientSecret)
  for i in $(seq 50); do
    "$PY" "$HERE/mgmt.py" verify --token-url "$PG_URL2" --client-id="$PG_ID" \
      --client-secret="$PG_SECRET" --alg RS256 >/dev/null 2>&1 && break
    [ "$i" = 50 ] && { echo "node 2 never served node 1's configuration" >&2; exit 1; }
    sleep 0.1
  done
  # A backend reports its statistics at most once a second: let the setup's writes land in
  # pg_stat_database before the first window opens.
  sleep 2
  xacts() { "$PY" "$HERE/pg.py" xacts "$PGDIR"; }
  idle_seconds=$(( ${DURATION%s} + ${WARMUP%s} ))
  for R in $(seq 1 "$ROUNDS"); do
    x0=$(xacts)
    load pg_one "tollgate-pg-one-r$R" "$PG_URL1" "$P1_PID" "$PG_ID" "$PG_SECRET"
    x1=$(xacts); raw "pg_one.xacts $R $((x1 - x0))"
    sleep "$idle_seconds"  # the same time without load: the nodes' own background queries
    x2=$(xacts); raw "pg_idle.xacts $R $((x2 - x1))"
    # Both nodes at once, 16 connections each (the same 32 in all).
    CONNS=16 load pg_two_a "tollgate-pg-two-a-r$R" "$PG_URL1" "$P1_PID" "$PG_ID" "$PG_SECRET" &
    two_a=$!
    CONNS=16 load pg_two_b "tollgate-pg-two-b-r$R" "$PG_URL2" "$P2_PID" "$PG_ID" "$PG_SECRET"
    wait "$two_a"
    x3=$(xacts); raw "pg_two.xacts $R $((x3 - x2))"
  done
  raw "pg.idle_seconds - $idle_seconds"
  stop_server "$P1_PID"; stop_server "$P2_PID"
  "$PY" "$HERE/pg.py" stop "$PGDIR" >/dev/null; PGDIR=""
  unset TOLLGATE_MASTER_KEY_FILE
fi

# --- flat cost: one application vs GROW_APPS applications and GROW_RESOURCES resources -----------
log "flat cost: one application vs $GROW_APPS applications and $GROW_RESOURCES resources"
PB0=$PORT_B0; PB1=$PORT_B1
bench_store b0 "$PB0" "Bench flat"; B0_STORE=$STORE; B0=$SETUP; BA=("${ADMIN_ARGS[@]}")
bench_store b1 "$PB1" "Bench flat"; B1_STORE=$STORE; B1=$SETUP; BB=("${ADMIN_ARGS[@]}")
seed_store "$B1_STORE" "$B1" "$GROW_APPS" grow
raw "grow.resources - $GROW_RESOURCES"
info grow.method "tollgate_seed (storage API) into the environment made through /v1"
start_server b0 "$B0_STORE" "$PB0"; B0_PID=$SPID; raw "grow.startup_base_ms - $STARTUP_MS"
start_server b1 "$B1_STORE" "$PB1"; B1_PID=$SPID; raw "grow.startup_ms - $STARTUP_MS"
raw "grow.base_rss_idle_mb - $(awk -v k="$(rss_kb "$B0_PID")" 'BEGIN{print k/1024}')"
raw "grow.rss_idle_mb - $(awk -v k="$(rss_kb "$B1_PID")" 'BEGIN{print k/1024}')"
for R in $(seq 1 "$ROUNDS"); do
  load grow_base "tollgate-flat-one-r$R" "$(jget "$B0" tokenUrl)" "$B0_PID" "$(jget "$B0" clientId)" "$(jget "$B0" clientSecret)"
  load grow_big "tollgate-flat-grown-r$R" "$(jget "$B1" tokenUrl)" "$B1_PID" "$(jget "$B1" clientId)" "$(jget "$B1" clientSecret)"
done
# report.py's names for the flat-cost figures.
awk '$1 ~ /^grow_base\./ { sub(/^grow_base\./, "", $1); print "grow.base_" $1, $2, $3 }
     $1 ~ /^grow_big\./  { sub(/^grow_big\./, "", $1);  print "grow." $1, $2, $3 }' "$RAW" >"$RAW.grow"
cat "$RAW.grow" >>"$RAW"; rm -f "$RAW.grow"
# One management write in each (the snapshot refresh is per environment, so it grows with it).
for which in base big; do
  if [ $which = base ]; then port=$PB0; args=("${BA[@]}"); j=$B0; else port=$PB1; args=("${BB[@]}"); j=$B1; fi
  t0=$(date +%s%N)
  "$PY" "$HERE/mgmt.py" grow "${args[@]}" --bench-env "$(jget "$j" envId)" --apps 5 --resources 0 \
    --threads 1 --tag "w$which" >/dev/null 2>&1
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $which = base ] && raw "grow.v1_write_base_ms - $((ms / 5))" || raw "grow.v1_write_ms - $((ms / 5))"
done
stop_server "$B0_PID"; stop_server "$B1_PID"

# --- the audit: token activities on (every answer, the default) vs off ---------------------------
log "audit: --token-activities all (the default) vs none"
bench_store d0 "$PORT_D0" "Bench audit"; D0_STORE=$STORE; D0=$SETUP
bench_store d1 "$PORT_D1" "Bench audit"; D1_STORE=$STORE; D1=$SETUP
SERVE_ARGS=(--token-activities none)
start_server d0 "$D0_STORE" "$PORT_D0"; D0_PID=$SPID
SERVE_ARGS=()
start_server d1 "$D1_STORE" "$PORT_D1"; D1_PID=$SPID
metric() { # PORT NAME -> the unlabelled sample NAME of that server's /metrics
  curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
drained() { # the "on" server's queue is empty: its writer no longer competes with the next run
  local i
  for i in $(seq 300); do
    [ "$(metric "$PORT_D1" tollgate_activities_queued)" = 0 ] && return 0
    sleep 0.1
  done
  echo "the audit queue of the \"on\" server did not drain in 30 s" >&2; exit 1
}
stored0=$(metric "$PORT_D1" tollgate_activities_stored_total)
for R in $(seq 1 "$ROUNDS"); do
  # Alternating which goes first, each after the other's activities are stored.
  audit_off() { load audit_off "tollgate-audit-off-r$R" "$(jget "$D0" tokenUrl)" "$D0_PID" "$(jget "$D0" clientId)" "$(jget "$D0" clientSecret)"; }
  audit_on() { load audit_on "tollgate-audit-on-r$R" "$(jget "$D1" tokenUrl)" "$D1_PID" "$(jget "$D1" clientId)" "$(jget "$D1" clientSecret)"; drained; }
  if [ $((R % 2)) = 1 ]; then audit_off; audit_on; else audit_on; audit_off; fi
done
# Every token of the "on" server is an activity: stored, or dropped (counted).
raw "audit.stored - $(( $(metric "$PORT_D1" tollgate_activities_stored_total) - stored0 ))"
raw "audit.dropped - $(metric "$PORT_D1" tollgate_activities_dropped_total)"
raw "audit.store_kb - $(du -ck "${D1_STORE#sqlite:}"* | tail -1 | cut -f1)"  # with its WAL
stop_server "$D0_PID"; stop_server "$D1_PID"

# --- start-up with BIG_APPS applications -----------------------------------------------------------
log "start-up with $BIG_APPS applications"
PC=$PORT_C
bench_store c "$PC" "Bench big"; C_STORE=$STORE; C=$SETUP
seed_store "$C_STORE" "$C" "$BIG_APPS" big
for s in $(seq 1 "$STARTS"); do
  start_server c "$C_STORE" "$PC"
  raw "big.startup_ms $s $STARTUP_MS"
  echo "   start-up $s: $STARTUP_MS ms" >&2
  if [ "$s" = "$STARTS" ]; then
    "$PY" "$HERE/mgmt.py" verify --token-url "$(jget "$C" tokenUrl)" --client-id="$(jget "$C" clientId)" \
      --client-secret="$(jget "$C" clientSecret)" --alg RS256 >/dev/null
    raw "big.rss_idle_mb - $(awk -v k="$(rss_kb "$SPID")" 'BEGIN{print k/1024}')"
  fi
  stop_server "$SPID"
done

# --- micro-benchmarks -----------------------------------------------------------------------------
if [ -n "$MICRO" ]; then
  log "micro-benchmarks (Google Benchmark)"
  "$MICRO" --benchmark_min_time="$MICRO_MIN_TIME" --benchmark_format=json \
    --benchmark_out="$OUT/micro.json" --benchmark_out_format=json >/dev/null 2>"$WORK/micro.log"
  "$PY" - "$OUT/micro.json" >>"$RAW" <<'PYEOF'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    name = b["name"].replace("/", "_") + ("_" + b["label"] if b.get("label") else "")
    print(f"micro.{name} - {b['cpu_time'] * scale:.0f}")
PYEOF
fi

# --- optional profile of the token path -----------------------------------------------------------
if [ "$PROFILE" = 1 ]; then
  log "profile of the token path (bench/profile.sh: callgrind, then perf under wrk)"
  TOLLGATE_BIN=$TOLLGATE_BIN PEERS=$PEERS "$HERE/profile.sh" "$OUT/profile" >&2
fi

# --- figures, goals, chart ------------------------------------------------------------------------
info load_avg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" "$HERE/report.py" "$RAW" "$OUT/chart.dat" | tee "$OUT/report.txt"
subtitle="$(grep -m1 '^info cpu_model' "$RAW" | cut -d' ' -f3-), $CORES cores; $(date -u +%F); load average $(grep '^info load_avg_start' "$RAW" | cut -d' ' -f3) at start, $(grep '^info load_avg_end' "$RAW" | cut -d' ' -f3) at end"
[ "$QUICK" = 1 ] && subtitle="QUICK smoke run, not a measurement; $subtitle"
gnuplot -e "datafile='$OUT/chart.dat'; outfile='$CHART'; subtitle='$subtitle'" "$HERE/chart.gp"
echo "chart: $CHART"
echo "raw measurements: $RAW"
