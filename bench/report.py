#!/usr/bin/python3
"""Turns bench/run.sh's raw measurements into figures, goals and the chart's data.

  report.py RAW CHART_DAT

RAW holds one measurement per line, `KEY ROUND VALUE` (ROUND is the alternation round, or `-`
for a one-off figure), plus `info NAME TEXT...` lines. Prints every figure as `NAME value`, then
a summary table and the goals of issue 5, each as a ratio measured in the same run. Medians are
over the rounds; a ratio between two targets is the median of the per-round ratios (the two runs
of a round ran back to back, so drift on this shared machine hits both).
"""
import statistics
import sys
from collections import defaultdict

raw_path, chart_path = sys.argv[1], sys.argv[2]
series = defaultdict(dict)  # key -> {round: value}
info = {}
for line in open(raw_path):
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "info":
        info[parts[1]] = " ".join(parts[2:])
        continue
    key, rnd, value = parts[0], parts[1], parts[2]
    try:
        series[key][rnd] = float(value)
    except ValueError:
        pass


def med(key):
    v = list(series.get(key, {}).values())
    return statistics.median(v) if v else None


def total(key):
    v = list(series.get(key, {}).values())
    return sum(v) if v else None


def ratio(a, b):
    """Median over rounds of a/b, from the rounds where both were measured."""
    sa, sb = series.get(a, {}), series.get(b, {})
    rs = [sa[r] / sb[r] for r in sa if r in sb and sb[r] > 0]
    return (statistics.median(rs), rs) if rs else (None, [])


figures = []  # (name, value, text)


def fig(name, value, digits=0):
    if value is None:
        figures.append((name, None, "n/a"))
        return None
    text = f"{value:.{digits}f}" if isinstance(value, float) or digits else str(value)
    figures.append((name, value, text))
    return value


for name in ("cores", "cpu_model", "openssl", "wrk", "gcc", "nginx", "node", "oidc_provider",
             "postgresql", "tollgate_commit", "load_avg_start", "load_avg_end", "mode", "rounds",
             "duration",
             "runs_per_round", "warmup"):
    if name in info:
        figures.append((name, info[name], info[name]))

# The RSA limit is read before and after each round's Tollgate RS256 run: Tollgate's ratio uses
# their mean (both sides of the run), node-oidc-provider's the reading just before it.
for r, v in series.get("limit.rsa2048", {}).items():
    if r in series.get("limit_after.rsa2048", {}):
        series["limit_around.rsa2048"][r] = (v + series["limit_after.rsa2048"][r]) / 2
    else:
        series["limit_around.rsa2048"][r] = v
readings = list(series.get("limit.rsa2048", {}).values()) + list(
    series.get("limit_after.rsa2048", {}).values())
if "limit_after.rsa2048" not in series:  # raw files of runs before the second reading
    series["limit_after.rsa2048"] = dict(series.get("limit.rsa2048", {}))
fig("openssl_rsa2048_sign_per_s", med("limit_around.rsa2048"), 0)
if readings:
    figures.append(("openssl_rsa2048_readings", None,
                    " ".join(f"{x:.0f}" for x in readings)))
fig("openssl_ecdsap256_sign_per_s", med("limit.ecdsap256"), 0)
fig("openssl_ed25519_sign_per_s", med("limit.ed25519"), 0)

TARGETS = [("tollgate_rs256", "tg_rs256"), ("tollgate_es256", "tg_es256"),
           ("tollgate_eddsa", "tg_eddsa"), ("oidc_provider", "oidc"), ("nginx", "nginx"),
           ("tollgate_rs256_tls", "tg_rs256_tls"), ("tollgate_es256_tls", "tg_es256_tls"),
           ("tollgate_tls_handshakes", "tls_handshakes"), ("tollgate_dpop_off", "dpop_off"),
           ("tollgate_dpop_on", "dpop_on")]
for name, key in TARGETS:
    rps = med(f"{key}.rps")
    if rps is None:
        continue
    unit = {"nginx": "rps", "tls_handshakes": "per_s"}.get(key, "tokens_per_s")
    fig(f"{name}_{unit}", rps, 0)
    fig(f"{name}_p50_ms", med(f"{key}.p50_ms"), 2)
    fig(f"{name}_p99_ms", med(f"{key}.p99_ms"), 2)
    fig(f"{name}_non2xx", total(f"{key}.non2xx"), 0)
    fig(f"{name}_socket_errors", total(f"{key}.socket_errors"), 0)
    fig(f"{name}_rss_mb", med(f"{key}.rss_mb"), 1)
    fig(f"{name}_server_cpu_pct", med(f"{key}.srv_cpu_pct"), 0)
    fig(f"{name}_wrk_cpu_pct", med(f"{key}.wrk_cpu_pct"), 0)
    cpu = med(f"{key}.srv_cpu_pct")
    if cpu is not None and rps:
        fig(f"{name}_server_cpu_us_per_request", cpu / 100 * 1e6 / rps, 0)
    # CPU used by everything else on the machine during the load (other users' processes), in %
    # of one core: the whole machine's busy time minus the server's and wrk's.
    busy, wrk_cpu = med(f"{key}.machine_busy_pct"), med(f"{key}.wrk_cpu_pct")
    if busy is not None and cpu is not None and wrk_cpu is not None and "cores" in info:
        fig(f"{name}_other_processes_cpu_pct",
            max(0.0, busy * float(info["cores"]) - cpu - wrk_cpu), 0)

RATIOS = [("ratio_rs256_over_limit", "tg_rs256.rps", "limit_around.rsa2048"),
          ("ratio_rs256_over_oidc_provider", "tg_rs256.rps", "oidc.rps"),
          ("ratio_rs256_over_nginx", "tg_rs256.rps", "nginx.rps"),
          ("ratio_es256_over_nginx", "tg_es256.rps", "nginx.rps"),
          ("ratio_eddsa_over_nginx", "tg_eddsa.rps", "nginx.rps"),
          ("ratio_oidc_provider_over_limit", "oidc.rps", "limit_after.rsa2048"),
          ("ratio_activities_on_over_off", "audit_on.rps", "audit_off.rps"),
          ("ratio_attributes_on_over_off", "attr_on.rps", "attr_off.rps"),
          ("ratio_dpop_es256_over_es256", "dpop_on.rps", "dpop_off.rps"),
          ("ratio_rs256_tls_over_plain", "tg_rs256_tls.rps", "tg_rs256.rps"),
          ("ratio_es256_tls_over_plain", "tg_es256_tls.rps", "tg_es256.rps"),
          ("ratio_tls_handshakes_over_limit", "tls_handshakes.rps", "limit_hs.rsa2048")]
per_round = {}
for name, a, b in RATIOS:
    r, rs = ratio(a, b)
    if r is not None:
        fig(name, r, 3)
        per_round[name] = rs

# On one machine the load generator takes a share of the cores (a TLS client handshake costs
# OpenSSL 3.0 about as much CPU as the server's), so the server's own CPU time per handshake or
# token is also compared: handshakes per server-core-second against RSA-2048 signatures per
# core-second, and DPoP's server time per token against the same requests without proofs.
hs_rps, hs_cpu = med("tls_handshakes.rps"), med("tls_handshakes.srv_cpu_pct")
if hs_rps and hs_cpu and med("limit_hs.rsa2048") and "cores" in info:
    per_core = hs_rps / (hs_cpu / 100)
    fig("tollgate_tls_handshakes_per_server_core_s", per_core, 0)
    fig("ratio_tls_handshakes_per_core_over_limit_per_core",
        per_core / (med("limit_hs.rsa2048") / float(info["cores"])), 3)
off_cpu, on_cpu = med("dpop_off.srv_cpu_pct"), med("dpop_on.srv_cpu_pct")
if off_cpu and on_cpu and med("dpop_off.rps") and med("dpop_on.rps"):
    fig("ratio_dpop_server_cpu_per_token_off_over_on",
        (off_cpu / med("dpop_off.rps")) / (on_cpu / med("dpop_on.rps")), 3)

# The audit: every token of the "on" server became an activity, stored or counted as dropped.
for key, name in (("audit_off.rps", "audit_off_tokens_per_s"), ("audit_on.rps", "audit_on_tokens_per_s"),
                  ("audit_on.p99_ms", "audit_on_p99_ms")):
    fig(name, med(key), 2 if key.endswith("ms") else 0)
audit_tokens = total("audit_on.all_requests")
if audit_tokens and med("audit.stored") is not None:
    fig("audit_tokens_issued", audit_tokens, 0)
    fig("audit_activities_stored", med("audit.stored"), 0)
    fig("audit_activities_dropped", med("audit.dropped"), 0)
    fig("audit_store_kb", med("audit.store_kb"), 0)
    if med("audit.stored"):
        fig("audit_store_bytes_per_activity", med("audit.store_kb") * 1024 / med("audit.stored"), 0)

# Resource attributes: the RS256 load with three custom claims (on) vs the same environment setup
# without (off), alternated on one server.
for key, name in (("attr_off.rps", "attributes_off_tokens_per_s"),
                  ("attr_on.rps", "attributes_on_tokens_per_s"),
                  ("attr_off.p99_ms", "attributes_off_p99_ms"),
                  ("attr_on.p99_ms", "attributes_on_p99_ms")):
    fig(name, med(key), 2 if key.endswith("ms") else 0)
if med("attr_on.rps") is not None:
    fig("attributes_errors", sum(total(k) or 0 for k in (
        "attr_off.non2xx", "attr_on.non2xx", "attr_off.socket_errors", "attr_on.socket_errors")), 0)

# DPoP: ES256 tokens with a fresh proof per request (on) vs the same requests without (off),
# alternated on one server, both through bench/dpop.lua.
for key, name in (("dpop_off.rps", "dpop_off_tokens_per_s"), ("dpop_on.rps", "dpop_on_tokens_per_s"),
                  ("dpop_off.p99_ms", "dpop_off_p99_ms"), ("dpop_on.p99_ms", "dpop_on_p99_ms")):
    fig(name, med(key), 2 if key.endswith("ms") else 0)
if med("dpop_on.rps") is not None:
    fig("dpop_errors", sum(total(k) or 0 for k in (
        "dpop_off.non2xx", "dpop_on.non2xx", "dpop_off.socket_errors", "dpop_on.socket_errors")), 0)

# Configuration growth.
for key, name, d in (("grow.apps", "grow_apps", 0), ("grow.resources", "grow_resources", 0),
                     ("grow.load_s", "grow_load_seconds", 1),
                     ("grow.base_rps", "grow_base_tokens_per_s", 0),
                     ("grow.rps", "grow_tokens_per_s", 0),
                     ("grow.base_p99_ms", "grow_base_p99_ms", 2), ("grow.p99_ms", "grow_p99_ms", 2),
                     ("grow.non2xx", "grow_non2xx", 0),
                     ("grow.base_rss_idle_mb", "grow_base_rss_idle_mb", 1),
                     ("grow.rss_idle_mb", "grow_rss_idle_mb", 1),
                     ("grow.base_rss_mb", "grow_base_rss_after_load_mb", 1),
                     ("grow.rss_mb", "grow_rss_after_load_mb", 1),
                     ("grow.startup_base_ms", "startup_one_app_ms", 0),
                     ("grow.startup_ms", "startup_grown_ms", 0),
                     ("grow.v1_write_base_ms", "v1_write_one_app_env_ms", 0),
                     ("grow.v1_write_ms", "v1_write_grown_env_ms", 0),
                     ("big.apps", "startup_big_apps", 0), ("big.load_s", "startup_big_load_seconds", 1),
                     ("big.startup_ms", "startup_big_ms", 0),
                     ("big.rss_idle_mb", "startup_big_rss_idle_mb", 1)):
    v = med(key) if key.endswith(("rps", "p99_ms")) else (
        total(key) if key.endswith("non2xx") else med(key))
    if v is not None:
        fig(name, v, d)
if "grow.method" in info:
    figures.append(("grow_load_method", info["grow.method"], info["grow.method"]))
grow_ratio, grow_rounds = ratio("grow.rps", "grow.base_rps")
if grow_ratio is not None:
    fig("ratio_grown_over_one_app", grow_ratio, 3)
    per_round["ratio_grown_over_one_app"] = grow_rounds
apps = med("grow.apps")
rss_per_app = None
if apps and med("grow.rss_mb") is not None and med("grow.base_rss_mb") is not None:
    # After the same load on both servers, so the difference is the configuration.
    rss_per_app = fig("grow_rss_per_app_kib",
                      (series["grow.rss_mb"][max(series["grow.rss_mb"])] -
                       series["grow.base_rss_mb"][max(series["grow.base_rss_mb"])]) * 1024 / apps, 2)
big_apps = med("big.apps")
if big_apps and med("big.rss_idle_mb") is not None and med("grow.base_rss_idle_mb") is not None:
    fig("startup_big_rss_per_app_kib",
        (med("big.rss_idle_mb") - med("grow.base_rss_idle_mb")) * 1024 / big_apps, 2)

# PostgreSQL: two nodes on one database. A round's pg_two.rps is the sum of both nodes' rates.
for r, v in series.get("pg_two_a.rps", {}).items():
    if r in series.get("pg_two_b.rps", {}):
        series["pg_two.rps"][r] = v + series["pg_two_b.rps"][r]
for r in series.get("pg_two_a.non2xx", {}):
    series["pg_two.non2xx"][r] = (series["pg_two_a.non2xx"][r] +
                                  series.get("pg_two_b.non2xx", {}).get(r, 0) +
                                  series["pg_two_a.socket_errors"].get(r, 0) +
                                  series.get("pg_two_b.socket_errors", {}).get(r, 0))
if med("pg_one.rps") is not None:
    fig("pg_one_node_tokens_per_s", med("pg_one.rps"), 0)
    fig("pg_one_node_p99_ms", med("pg_one.p99_ms"), 2)
    fig("pg_one_node_errors", total("pg_one.non2xx") + total("pg_one.socket_errors"), 0)
    fig("pg_two_nodes_tokens_per_s", med("pg_two.rps"), 0)
    fig("pg_two_nodes_p99_ms", max(med("pg_two_a.p99_ms") or 0, med("pg_two_b.p99_ms") or 0), 2)
    fig("pg_two_nodes_errors", total("pg_two.non2xx"), 0)
    r2, rs2 = ratio("pg_two.rps", "pg_one.rps")
    if r2 is not None:
        fig("ratio_pg_two_nodes_over_one", r2, 3)
        per_round["ratio_pg_two_nodes_over_one"] = rs2
    # Database transactions in the load windows, per token: every statement runs in a
    # transaction, so a token path that queried the database would add at least one per token.
    # The count includes the nodes' own background work (change-feed poll), so it is an upper
    # bound; the idle window of the same length shows that part on its own.
    fig("pg_one_node_db_xacts_in_load", total("pg_one.xacts"), 0)
    fig("pg_idle_db_xacts_same_time", total("pg_idle.xacts"), 0)
    fig("pg_two_nodes_db_xacts_in_load", total("pg_two.xacts"), 0)
    tokens = sum(total(k) or 0 for k in ("pg_one.all_requests", "pg_two_a.all_requests",
                                          "pg_two_b.all_requests"))
    fig("pg_tokens_in_load", tokens, 0)
    if tokens:
        xacts = (total("pg_one.xacts") or 0) + (total("pg_two.xacts") or 0)
        fig("pg_db_xacts_per_token_upper_bound", xacts / tokens, 5)
        # What the tokens themselves cost: the load windows minus two idle windows of the same
        # length (each load window holds the same background work as an idle one).
        excess = max(0.0, xacts - 2 * (total("pg_idle.xacts") or 0))
        fig("pg_db_xacts_per_token", excess / tokens, 5)

# Micro-benchmarks: already one figure each.
for key in sorted(k for k in series if k.startswith("micro.")):
    fig(key.replace("micro.", "micro_", 1) + "_ns", med(key), 0)

for name, value, text in figures:
    print(f"{name} {text}")
for name, rs in per_round.items():
    print(f"# {name} per round: " + " ".join(f"{x:.3f}" for x in rs))

# Summary table.
rows = [("openssl RSA-2048 sign/s, -multi (limit)", "limit_around.rsa2048", None),
        ("Tollgate RS256", "tg_rs256", "ratio_rs256_over_limit"),
        ("node-oidc-provider RS256", "oidc", "ratio_oidc_provider_over_limit"),
        ("Tollgate ES256", "tg_es256", "ratio_es256_over_nginx"),
        ("Tollgate EdDSA", "tg_eddsa", "ratio_eddsa_over_nginx"),
        ("Tollgate RS256 over TLS (keep-alive)", "tg_rs256_tls", "ratio_rs256_tls_over_plain"),
        ("Tollgate ES256 over TLS (keep-alive)", "tg_es256_tls", "ratio_es256_tls_over_plain"),
        ("TLS handshakes (RSA-2048 certificate)", "tls_handshakes",
         "ratio_tls_handshakes_over_limit"),
        ("nginx fixed 200 (HTTP ceiling)", "nginx", None)]
fv = {n: v for n, v, _ in figures}


def f(v, d=0):
    return "n/a" if v is None else f"{v:,.{d}f}"


print()
print("Summary (medians over rounds; ratios: median of per-round ratios)")
print(f"{'target':<40} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'non2xx':>7} {'RSS MB':>7} "
      f"{'srv CPU%':>8}  ratio")
for label, key, rname in rows:
    if key == "limit_around.rsa2048":
        v = med(key)
        if v is not None:
            print(f"{label:<40} {f(v):>9}")
        continue
    if med(f"{key}.rps") is None:
        continue
    rtext = ""
    if rname and fv.get(rname) is not None:
        rtext = f"{fv[rname]:.2f} " + ("of limit" if "limit" in rname else
                                       "of plain HTTP" if "plain" in rname else "of nginx")
    print(f"{label:<40} {f(med(key + '.rps')):>9} {f(med(key + '.p50_ms'), 2):>7} "
          f"{f(med(key + '.p99_ms'), 2):>7} {f(total(key + '.non2xx')):>7} "
          f"{f(med(key + '.rss_mb'), 1):>7} {f(med(key + '.srv_cpu_pct')):>8}  {rtext}")
if med("grow.rps") is not None:
    print(f"{'Tollgate, one app (grow baseline)':<40} {f(med('grow.base_rps')):>9} "
          f"{'':>7} {f(med('grow.base_p99_ms'), 2):>7}")
    print(f"{'Tollgate, +%d apps +%d resources' % (apps or 0, med('grow.resources') or 0):<40} "
          f"{f(med('grow.rps')):>9} {'':>7} {f(med('grow.p99_ms'), 2):>7} "
          f"{f(total('grow.non2xx')):>7}")

# A busy machine: say so next to the goals (the figures are then not the machine's limits, and a
# ratio against the limit is biased: under contention each target's share of the CPU depends on
# how many runnable threads it has).
busy_notes = []
try:
    cores = float(info.get("cores", "0"))
    # At start (taken before this script's build); at the end it holds the script's own load.
    if "load_avg_start" in info and cores and float(info["load_avg_start"].split()[0]) > 0.5 * cores:
        busy_notes.append(f"load average {info['load_avg_start'].split()[0]} at start")
except ValueError:
    pass
others = [v for n, v, _ in figures if n.endswith("_other_processes_cpu_pct") and v is not None]
if others and max(others) > 20:
    busy_notes.append(f"other processes used up to {max(others):.0f}% of a core during the loads")
if busy_notes:
    print()
    print(f"WARNING: the machine was busy ({'; '.join(busy_notes)}; {info.get('cores')} cores). "
          "The figures are not its limits; re-run on an idle machine.")

# The same openssl command at different moments: how much the machine's own speed moved (a
# shared virtual machine's host can change it between rounds).
if len(readings) > 1 and min(readings) > 0 and max(readings) / min(readings) > 1.1:
    print()
    print(f"NOTE: the machine's speed varied during the run: openssl speed -multi read "
          f"{min(readings):,.0f} to {max(readings):,.0f} RSA-2048 sign/s "
          f"({100 * (max(readings) / min(readings) - 1):.0f}% apart); single ratios carry that "
          "much noise, the medians less.")

# Goals of issue 5.
goals = []


def goal(name, value, op, target, unit=""):
    if value is None:
        goals.append((name, "n/a", f"{op} {target}{unit}", "NOT MEASURED"))
        return
    met = value >= target if op == ">=" else value <= target
    if met:
        verdict = "met"
    elif target == 0:  # a count that must be zero
        verdict = "MISSED"
    elif op == ">=":
        verdict = f"MISSED by {100 * (1 - value / target):.0f}% (x{target / value:.2f} needed)"
    else:
        verdict = f"MISSED by {100 * (value / target - 1):.0f}% (x{value / target:.2f} over)"
    goals.append((name, f"{value:,.3g}{unit}" if value < 100 else f"{value:,.0f}{unit}",
                  f"{op} {target}{unit}", verdict))


goal("RS256 tokens/s / openssl RSA-2048 limit", fv.get("ratio_rs256_over_limit"), ">=", 0.85)
nonzero = [fv.get(n) for n in ("tollgate_rs256_non2xx", "tollgate_rs256_socket_errors")]
goal("RS256 non-2xx + socket errors",
     None if None in nonzero else sum(nonzero), "<=", 0)
goal("RS256 p99 at 32 connections", fv.get("tollgate_rs256_p99_ms"), "<=", 8, " ms")
goal("RS256 resident memory after the load", fv.get("tollgate_rs256_rss_mb"), "<=", 32, " MB")
goal("ES256 tokens/s / nginx", fv.get("ratio_es256_over_nginx"), ">=", 0.5)
goal("ES256 p99", fv.get("tollgate_es256_p99_ms"), "<=", 3, " ms")
goal("EdDSA tokens/s / nginx", fv.get("ratio_eddsa_over_nginx"), ">=", 0.5)
goal("EdDSA p99", fv.get("tollgate_eddsa_p99_ms"), "<=", 3, " ms")
goal("grown config tokens/s / one-app", fv.get("ratio_grown_over_one_app"), ">=", 0.95)
goal("token activities on / off, tokens/s", fv.get("ratio_activities_on_over_off"), ">=", 0.95)
goal("token activities dropped", fv.get("audit_activities_dropped"), "<=", 0)
goal("ratio attributes on/off, RS256 tokens/s", fv.get("ratio_attributes_on_over_off"), ">=", 0.95)
goal("attributes non-2xx + socket errors", fv.get("attributes_errors"), "<=", 0)
goal("RS256 tokens/s over TLS / plain HTTP", fv.get("ratio_rs256_tls_over_plain"), ">=", 0.9)
goal("TLS handshakes/s / openssl RSA-2048 sign/s", fv.get("ratio_tls_handshakes_over_limit"),
     ">=", 0.8)
goal("TLS handshakes per server core / signs per core",
     fv.get("ratio_tls_handshakes_per_core_over_limit_per_core"), ">=", 0.8)
goal("DPoP-bound ES256 tokens/s / plain ES256", fv.get("ratio_dpop_es256_over_es256"), ">=", 0.6)
goal("DPoP non-2xx + socket errors", fv.get("dpop_errors"), "<=", 0)
goal("resident memory per application", fv.get("grow_rss_per_app_kib"), "<=", 4, " KiB")
big_ms = fv.get("startup_big_ms")
goal(f"start-up with {int(big_apps or 0):,} applications",
     None if big_ms is None else big_ms / 1000, "<=", 3, " s")
pg_errors = [fv.get(n) for n in ("pg_one_node_errors", "pg_two_nodes_errors")]
goals.append(None)  # the PostgreSQL goals (issue 6) follow
goal("PostgreSQL: database transactions per token", fv.get("pg_db_xacts_per_token"), "<=", 0.001)
goal("PostgreSQL: two nodes / one node, tokens/s", fv.get("ratio_pg_two_nodes_over_one"), ">=",
     0.95)
goal("PostgreSQL: non-2xx + socket errors", None if None in pg_errors else sum(pg_errors), "<=", 0)
print()
print("Goals of issue 5 (measured in this run)")
print(f"{'goal':<42} {'measured':>12} {'target':>10}  verdict")
for row in goals:
    if row is None:
        print("Goals of issue 6 (PostgreSQL, measured in this run)")
        continue
    name, value, target, verdict = row
    print(f"{name:<42} {value:>12} {target:>10}  {verdict}")

# Chart data: label, value, colour.
chart = [("openssl RSA-2048\\nsign limit", "limit_around.rsa2048", "#888888"),
         ("Tollgate\\nRS256", "tg_rs256.rps", "#1f77b4"),
         ("node-oidc-provider\\nRS256", "oidc.rps", "#ff7f0e"),
         ("Tollgate\\nES256", "tg_es256.rps", "#2ca02c"),
         ("Tollgate\\nEdDSA", "tg_eddsa.rps", "#17becf"),
         ("nginx fixed body\\n(HTTP ceiling)", "nginx.rps", "#7f7f7f")]
with open(chart_path, "w") as out:
    for label, key, colour in chart:
        v = med(key)
        if v is not None:
            out.write(f'"{label}" {v:.0f} 0x{colour[1:]}\n')
