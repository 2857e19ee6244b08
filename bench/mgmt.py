#!/usr/bin/python3
"""Management-API helper of bench/run.sh: sets up what the benchmark needs through /v1.

Only the standard library (http.client with keep-alive), so it runs on Debian's python3 as is.
Every command prints one JSON object on stdout; errors go to stderr with a non-zero exit.

  mgmt.py setup --api URL --env ADMIN_ENV --client-id ID --client-secret SECRET
      A new environment "Bench" with a CUSTOM resource (scopes read, write), a SERVICE
      application with CLIENT_CREDENTIALS, a grant of both scopes, and the app's secret.
  mgmt.py key   --api URL ... --bench-env ENV --algorithm EC|EdDSA|RSA
      A new signing key of ENV with "default": true (the previous default retires).
  mgmt.py grow  --api URL ... --bench-env ENV --apps N --resources M --threads T
      M more resources (one scope each) and N more SERVICE applications, each with a grant on
      one of those resources, created with T threads, one keep-alive connection each.
"""
import argparse
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse


class Api:
    """One keep-alive connection to the server; re-opened once if the server closed it."""

    def __init__(self, base, token=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("mgmt.py: only loopback servers are allowed, got " + base)
        self.token = token
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method, path, body=None, headers=None, form=False):
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body)
                h["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body)
                h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        text = raw.decode("utf-8", "replace")
        if resp.status >= 300:
            raise SystemExit(f"mgmt.py: {method} {path} -> HTTP {resp.status}: {text[:500]}")
        return json.loads(text) if text else {}


def admin_token(args):
    api = Api(args.api)
    basic = base64.b64encode(f"{args.client_id}:{args.client_secret}".encode()).decode()
    tok = api.call("POST", f"/{args.env}/as/token", {"grant_type": "client_credentials"},
                   headers={"Authorization": "Basic " + basic}, form=True)
    return tok["access_token"]


def new_service_app(api, env, name):
    return api.call("POST", f"/v1/environments/{env}/applications", {
        "name": name, "enabled": True, "protocol": "OPENID_CONNECT", "type": "SERVICE",
        "grantTypes": ["CLIENT_CREDENTIALS"]})


def new_resource(api, env, name, audience, scopes):
    res = api.call("POST", f"/v1/environments/{env}/resources",
                   {"name": name, "audience": audience, "accessTokenValiditySeconds": 3600})
    ids = [api.call("POST", f"/v1/environments/{env}/resources/{res['id']}/scopes",
                    {"name": s})["id"] for s in scopes]
    return res["id"], ids


def grant(api, env, app_id, res_id, scope_ids):
    return api.call("POST", f"/v1/environments/{env}/applications/{app_id}/grants",
                    {"resource": {"id": res_id}, "scopes": [{"id": s} for s in scope_ids]})


def cmd_setup(args):
    api = Api(args.api, admin_token(args))
    env = api.call("POST", "/v1/environments",
                   {"name": "Bench " + time.strftime("%Y%m%dT%H%M%S"), "description": "tollgate bench/run.sh", "type": "SANDBOX"})["id"]
    res_id, scope_ids = new_resource(api, env, "Bench API", "https://api.bench.example",
                                     ["read", "write"])
    app = new_service_app(api, env, "bench-service")
    grant(api, env, app["id"], res_id, scope_ids)
    secret = api.call("GET", f"/v1/environments/{env}/applications/{app['id']}/secret")["secret"]
    return {"envId": env, "clientId": app["id"], "clientSecret": secret, "resourceId": res_id,
            "tokenUrl": f"{args.api}/{env}/as/token"}


def cmd_key(args):
    api = Api(args.api, admin_token(args))
    body = {"algorithm": args.algorithm, "default": True, "name": f"bench {args.algorithm}"}
    if args.algorithm == "EC":
        body["keyLength"] = 256
    key = api.call("POST", f"/v1/environments/{args.bench_env}/keys", body)
    return {"keyId": key["id"], "algorithm": key["algorithm"], "default": key["default"],
            "signatureAlgorithm": key.get("signatureAlgorithm")}


def run_parallel(total, threads, work, label):
    """Calls work(api, i) for i in range(total) from `threads` threads; returns seconds taken."""
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "error": None}
    t0 = time.monotonic()

    def worker(api):
        while True:
            with lock:
                if state["error"] or state["next"] >= total:
                    return
                i = state["next"]
                state["next"] += 1
            try:
                work(api, i)
            except BaseException as e:  # SystemExit from Api.call included
                with lock:
                    state["error"] = e
                return
            with lock:
                state["done"] += 1
                d = state["done"]
            if d % max(1, total // 10) == 0:
                print(f"  {label}: {d}/{total} in {time.monotonic() - t0:.1f}s",
                      file=sys.stderr, flush=True)

    apis = [Api(ARGS.api, ARGS.token) for _ in range(threads)]
    ts = [threading.Thread(target=worker, args=(a,)) for a in apis]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if state["error"]:
        raise SystemExit(f"mgmt.py: {label} failed after {state['done']}: {state['error']}")
    return time.monotonic() - t0


def cmd_grow(args):
    args.token = admin_token(args)
    env = args.bench_env
    resources = [None] * args.resources

    def make_resource(api, i):
        resources[i] = new_resource(api, env, f"grow-res-{i:05d}",
                                    f"https://grow-{i:05d}.bench.example", [f"s{i % 10}"])

    def make_app(api, i):
        app = new_service_app(api, env, f"grow-app-{i:06d}")
        if resources:
            res_id, scope_ids = resources[i % len(resources)]
            grant(api, env, app["id"], res_id, scope_ids)

    t_res = run_parallel(args.resources, args.threads, make_resource, "resources")
    t_app = run_parallel(args.apps, args.threads, make_app, "applications")
    calls = args.resources * 2 + args.apps * (2 if resources else 1)
    return {"resources": args.resources, "apps": args.apps, "resourceSeconds": round(t_res, 1),
            "appSeconds": round(t_app, 1), "calls": calls,
            "callsPerSecond": round(calls / max(t_res + t_app, 1e-9), 1)}


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("command", choices=["setup", "key", "grow"])
    p.add_argument("--api", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--env", required=True, help="the admin app's environment")
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--bench-env")
    p.add_argument("--algorithm", choices=["RSA", "EC", "EdDSA"])
    p.add_argument("--apps", type=int, default=10000)
    p.add_argument("--resources", type=int, default=1000)
    p.add_argument("--threads", type=int, default=4)
    ARGS = p.parse_args()
    if ARGS.command in ("key", "grow") and not ARGS.bench_env:
        p.error("--bench-env is required for " + ARGS.command)
    if ARGS.command == "key" and not ARGS.algorithm:
        p.error("--algorithm is required for key")
    out = {"setup": cmd_setup, "key": cmd_key, "grow": cmd_grow}[ARGS.command](ARGS)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
