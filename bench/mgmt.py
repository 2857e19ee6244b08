#!/usr/bin/python3
"""Management-API and token helper of bench/run.sh. Talks to loopback servers only.

Standard library only (http.client with keep-alive), except `verify`, which uses Debian's
python3-jwt (PyJWT with python3-cryptography) to check the signature. Every command prints one
JSON object on stdout; errors go to stderr with a non-zero exit.

  mgmt.py setup  ADMIN --name NAME
      A new environment with a CUSTOM resource (scopes read, write), a SERVICE application with
      CLIENT_CREDENTIALS, a grant of both scopes, and the application's secret (GET .../secret).
  mgmt.py key    ADMIN --bench-env ENV --algorithm RSA|EC|EdDSA
      A new signing key of ENV with "default": true (ENV's previous default retires).
  mgmt.py attributes ADMIN --bench-env ENV --resource RES
      Three resource attributes (custom claims) on RES: a static one, one expression reading
      the client ID, one conditional on the client's authentication method (ATTRIBUTES); prints
      the claims a CLIENT_SECRET_BASIC token of RES then carries, with CLIENT_ID for the ID.
  mgmt.py grow   ADMIN --bench-env ENV --apps N --resources M --threads T
      M resources (one scope each), then N SERVICE applications, each with a grant on one of
      those resources, through /v1 with T threads (one keep-alive connection each).
  mgmt.py verify --token-url URL --client-id ID --client-secret S --alg ALG [--body B]
                 [--claims JSON]
      One token request like the load's; checks HTTP 200, the JWT header's alg and typ, the
      claims, and the signature against the environment's JWKS. --claims: an object of claims
      the token must carry with exactly these values (CLIENT_ID in a value stands for the
      client ID), and no other claims beyond the standard ones.
  mgmt.py proofs --token-url URL --count N --out FILE
      N DPoP proofs (RFC 9449) for POST to URL, one per line, all signed ES256 by one P-256 key
      made here, each with its own jti and `iat` now (valid for 60 s); for bench/dpop.lua. Needs
      python3-cryptography.
  mgmt.py verify ... --dpop
      The same check with a DPoP proof: token_type DPoP and cnf.jkt the proof key's thumbprint.
  mgmt.py load   --token-url URL --client-id ID --client-secret S --count N --conns C
      N token requests over C keep-alive connections (for the profiler, where wrk is too fast);
      gives up after --max-seconds.
  mgmt.py seedspec --bench-env ENV --apps N --resources M
      A tests/testutil tollgate_seed spec (stdin of tollgate_seed) for ENV: M resources with one
      scope each and N SERVICE applications, each granted one of those resources. For stores too
      large to fill through /v1 in reasonable time (the 100,000-application start-up figure).
  mgmt.py wait   --url URL --since-ns T0 [--max-seconds S]
      Polls URL (a GET, every 2 ms) until it answers 200; prints the milliseconds from T0 (a
      CLOCK_REALTIME reading in ns, `date +%s%N`, taken before the server was started).
  mgmt.py start  --url URL --log FILE -- COMMAND [ARG...]
      Starts COMMAND (stdout and stderr appended to FILE), polls URL like `wait`, and prints
      {"pid", "ms"}: the milliseconds from just before the exec to the first 200, so the
      figure holds no interpreter start-up; fails when the listening socket of URL's port is
      not COMMAND's own (another program answered). COMMAND keeps running; stop it by its pid.

ADMIN is --api URL --env ADMIN_ENV --client-id ID --client-secret SECRET (the admin app that
`tollgate init` printed).
"""
import argparse
import base64
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

LOOPBACK = ("127.0.0.1", "localhost", "::1")
BODY = "grant_type=client_credentials&scope=read%20write"  # the peers' bench.lua body
# The attributes of the "attributes on" figure: (name, value, claim in a CLIENT_SECRET_BASIC
# token, CLIENT_ID standing for the client ID).
ATTRIBUTES = [
    ("bench_tier", "gold", "gold"),
    ("bench_client", "${#root.context.appConfig.clientId}", "CLIENT_ID"),
    ("bench_auth", "${#root.context.appConfig.tokenEndpointAuthMethod == 'CLIENT_SECRET_BASIC'"
                   " ? 'basic' : 'other'}", "basic"),
]
# The claims of every token here besides the custom ones.
STANDARD_CLAIMS = {"aud", "client_id", "cnf", "env", "exp", "iat", "iss", "jti", "org", "scope",
                   "sub"}


class Api:
    """One keep-alive connection; re-opened once if the server closed it."""

    def __init__(self, base, token=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        if self.host not in LOOPBACK:
            raise SystemExit("mgmt.py: only loopback servers are allowed, got " + base)
        self.token = token
        self.conn = None

    def raw(self, method, path, data=None, headers=None):
        h = dict(headers or {})
        if self.token and "Authorization" not in h:
            h["Authorization"] = "Bearer " + self.token
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                return resp.status, resp.getheaders(), resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def call(self, method, path, body=None, headers=None, form=False):
        h = dict(headers or {})
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body)
                h["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body)
                h["Content-Type"] = "application/json"
        status, _, raw = self.raw(method, path, data, h)
        text = raw.decode("utf-8", "replace")
        if status >= 300:
            raise SystemExit(f"mgmt.py: {method} {path} -> HTTP {status}: {text[:500]}")
        return json.loads(text) if text else {}


def basic(client_id, secret):
    # RFC 6749 §2.3.1: both halves form-encoded (the secrets' alphabet needs no escaping).
    pair = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return "Basic " + base64.b64encode(pair.encode()).decode()


def admin_token(args):
    api = Api(args.api)
    tok = api.call("POST", f"/{args.env}/as/token", {"grant_type": "client_credentials"},
                   headers={"Authorization": basic(args.client_id, args.client_secret)}, form=True)
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
                   {"name": args.name, "description": "tollgate bench/run.sh",
                    "type": "SANDBOX"})["id"]
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
    if not key.get("default"):
        raise SystemExit(f"mgmt.py: the new key is not the default: {key}")
    return {"keyId": key["id"], "algorithm": key["algorithm"],
            "signatureAlgorithm": key.get("signatureAlgorithm"), "default": key["default"]}


def cmd_attributes(args):
    api = Api(args.api, admin_token(args))
    path = f"/v1/environments/{args.bench_env}/resources/{args.resource}/attributes"
    made = [api.call("POST", path, {"name": name, "value": value})["id"]
            for name, value, _ in ATTRIBUTES]
    return {"attributeIds": made, "claims": {name: claim for name, _, claim in ATTRIBUTES}}


def run_parallel(make_api, total, threads, work, label):
    """Calls work(api, i) for i in range(total) from `threads` threads; returns seconds."""
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
            except BaseException as e:  # SystemExit from Api.call too
                with lock:
                    state["error"] = e
                return
            with lock:
                state["done"] += 1
                d = state["done"]
            if d % max(1, total // 10) == 0:
                print(f"  {label}: {d}/{total} in {time.monotonic() - t0:.1f}s",
                      file=sys.stderr, flush=True)

    ts = [threading.Thread(target=worker, args=(make_api(),)) for _ in range(max(1, threads))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if state["error"]:
        raise SystemExit(f"mgmt.py: {label} failed after {state['done']}: {state['error']}")
    return time.monotonic() - t0


def cmd_grow(args):
    token = admin_token(args)
    env = args.bench_env
    resources = [None] * args.resources

    def make_resource(api, i):
        resources[i] = new_resource(api, env, f"grow-res-{i:06d}",
                                    f"https://grow-{i:06d}.bench.example", [f"s{i % 10}"])

    def make_app(api, i):
        app = new_service_app(api, env, f"grow-app-{i:06d}-{args.tag}")
        if resources:
            res_id, scope_ids = resources[i % len(resources)]
            grant(api, env, app["id"], res_id, scope_ids)

    def make_api():
        return Api(args.api, token)

    t_res = run_parallel(make_api, args.resources, args.threads, make_resource, "resources")
    t_app = run_parallel(make_api, args.apps, args.threads, make_app, "applications")
    calls = args.resources * 2 + args.apps * (2 if resources else 1)
    return {"resources": args.resources, "apps": args.apps, "resourceSeconds": round(t_res, 2),
            "appSeconds": round(t_app, 2), "calls": calls,
            "secondsPerApp": round(t_app / max(args.apps, 1), 4)}


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def cmd_verify(args):
    import jwt  # Debian's python3-jwt; imported here so the other commands need nothing

    u = urllib.parse.urlsplit(args.token_url)
    api = Api(f"{u.scheme}://{u.netloc}")
    request_headers = {"Authorization": basic(args.client_id, args.client_secret),
                       "Content-Type": "application/x-www-form-urlencoded",
                       "Accept": "application/json"}
    jkt = None
    if args.dpop:
        proof, jkt = dpop_signer(args.token_url)
        request_headers["DPoP"] = proof()
    status, headers, raw = api.raw("POST", u.path, args.body, request_headers)
    if status != 200:
        raise SystemExit(f"mgmt.py: token request -> HTTP {status}: {raw[:300]!r}")
    body = json.loads(raw)
    token = body["access_token"]
    header = b64url_json(token.split(".")[0])
    claims = b64url_json(token.split(".")[1])
    problems = []
    if header.get("alg") != args.alg:
        problems.append(f"alg is {header.get('alg')}, expected {args.alg}")
    if header.get("typ") != "at+jwt":
        problems.append(f"typ is {header.get('typ')}")
    if jkt is not None and claims.get("cnf") != {"jkt": jkt}:
        problems.append(f"cnf is {claims.get('cnf')}, expected jkt {jkt}")
    if body.get("token_type") != ("DPoP" if jkt else "Bearer") or body.get("expires_in") != 3600:
        problems.append(f"token_type/expires_in: {body.get('token_type')}/{body.get('expires_in')}")
    if body.get("scope") != "read write":
        problems.append(f"scope is {body.get('scope')!r}")
    issuer = u.path.rsplit("/token", 1)[0]
    _, _, jwks_raw = api.raw("GET", issuer + "/jwks")
    jwks = json.loads(jwks_raw)
    jwk = next((k for k in jwks["keys"] if k.get("kid") == header.get("kid")), None)
    if jwk is None:
        problems.append("kid not in the JWKS")
    else:
        key = jwt.PyJWK(jwk).key
        try:
            jwt.decode(token, key, algorithms=[args.alg], audience="https://api.bench.example",
                       options={"require": ["exp", "iat", "iss", "aud"]})
        except Exception as e:  # noqa: BLE001 - any verification failure is reported
            problems.append(f"signature/claims: {e}")
    if args.claims is not None:
        wanted = {k: args.client_id if v == "CLIENT_ID" else v
                  for k, v in json.loads(args.claims).items()}
        got = {k: v for k, v in claims.items() if k not in STANDARD_CLAIMS}
        if got != wanted:
            problems.append(f"custom claims are {got}, expected {wanted}")
    if problems:
        raise SystemExit("mgmt.py: token check failed: " + "; ".join(problems))
    return {"status": status, "alg": header["alg"], "kid": header["kid"], "bytes": len(raw),
            "tokenBytes": len(token), "claims": sorted(claims), "signature": "VALID"}


def dpop_signer(token_url):
    """(proof(), jkt): a function returning a fresh ES256 DPoP proof for POST to `token_url`, and
    the RFC 7638 thumbprint of its key."""
    import hashlib
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    key = ec.generate_private_key(ec.SECP256R1())
    n = key.public_key().public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": b64(n.x.to_bytes(32, "big")),
           "y": b64(n.y.to_bytes(32, "big"))}
    jkt = b64(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode())
              .digest())
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk},
                            separators=(",", ":")).encode())
    prefix = '{"htm":"POST","htu":' + json.dumps(token_url) + ',"iat":'
    counter = [0]

    def proof():
        counter[0] += 1
        payload = prefix + f'{int(time.time())},"jti":"{os.getpid()}-{counter[0]}"}}'
        data = (header + "." + b64(payload.encode())).encode()
        r, s_ = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return data.decode() + "." + b64(r.to_bytes(32, "big") + s_.to_bytes(32, "big"))

    return proof, jkt


def cmd_proofs(args):
    proof, jkt = dpop_signer(args.token_url)
    t0 = time.monotonic()
    with open(args.out, "w") as f:
        for _ in range(args.count):
            f.write(proof() + "\n")
    return {"count": args.count, "jkt": jkt, "seconds": round(time.monotonic() - t0, 2)}


def cmd_load(args):
    u = urllib.parse.urlsplit(args.token_url)
    hdrs = {"Authorization": basic(args.client_id, args.client_secret),
            "Content-Type": "application/x-www-form-urlencoded"}
    deadline = time.monotonic() + args.max_seconds
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()

    def work(api, _):
        if time.monotonic() > deadline:
            raise SystemExit("mgmt.py: load exceeded --max-seconds")
        status, _, _ = api.raw("POST", u.path, args.body, hdrs)
        with lock:
            counts["ok" if status == 200 else "other"] += 1

    secs = run_parallel(lambda: Api(f"{u.scheme}://{u.netloc}"), args.count, args.conns, work,
                        "requests")
    return {"requests": args.count, "ok": counts["ok"], "non200": counts["other"],
            "seconds": round(secs, 2)}


def cmd_seedspec(args):
    resources = [{"name": f"seed-res-{i:06d}", "audience": f"https://seed-{i:06d}.bench.example",
                  "scopes": [f"s{i % 10}"]} for i in range(args.resources)]
    apps = []
    for i in range(args.apps):
        app = {"name": f"seed-app-{i:06d}-{args.tag}", "type": "SERVICE"}
        if resources:
            r = resources[i % len(resources)]
            app["grants"] = [{"resource": r["name"], "scopes": r["scopes"]}]
        apps.append(app)
    return {"environmentId": args.bench_env, "resources": resources, "applications": apps}


def cmd_wait(args):
    u = urllib.parse.urlsplit(args.url)
    if u.hostname not in LOOPBACK:
        raise SystemExit("mgmt.py: only loopback servers are allowed, got " + args.url)
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=5)
            conn.request("GET", u.path or "/")
            if conn.getresponse().status == 200:
                done = time.time_ns()
                conn.close()
                return {"ms": round((done - args.since_ns) / 1e6, 1)}
            conn.close()
        except OSError:
            pass
        time.sleep(0.002)
    raise SystemExit(f"mgmt.py: {args.url} did not answer 200 within {args.max_seconds}s")


def cmd_start(args):
    import subprocess
    if not args.command_args:
        raise SystemExit("mgmt.py: start needs -- COMMAND")
    log = open(args.log, "ab")
    t0 = time.time_ns()
    proc = subprocess.Popen(args.command_args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    args.since_ns = t0
    try:
        out = cmd_wait(args)
    except SystemExit:
        proc.terminate()  # a server still loading may act on SIGTERM only once it serves
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    if proc.poll() is not None:
        raise SystemExit(f"mgmt.py: {args.command_args[0]} exited with {proc.returncode}")
    port = urllib.parse.urlsplit(args.url).port or 80
    if not owns_listener(proc.pid, port):
        # Another program answered on that port: this one could not bind it.
        proc.terminate()
        raise SystemExit(f"mgmt.py: port {port} is served by another process")
    return {"pid": proc.pid, "ms": out["ms"]}


def owns_listener(pid, port):
    """True when process `pid` holds the listening TCP socket of 127.0.0.1:`port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f[9])
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("command",
                   choices=["setup", "key", "attributes", "grow", "verify", "load", "seedspec",
                            "wait", "start", "proofs"])
    p.add_argument("--api", help="http://127.0.0.1:PORT")
    p.add_argument("--env", help="the admin app's environment")
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--name", default="Bench")
    p.add_argument("--bench-env")
    p.add_argument("--resource")
    p.add_argument("--claims")
    p.add_argument("--algorithm", choices=["RSA", "EC", "EdDSA"])
    p.add_argument("--apps", type=int, default=10000)
    p.add_argument("--resources", type=int, default=1000)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--tag", default="v1")
    p.add_argument("--token-url")
    p.add_argument("--alg")
    p.add_argument("--body", default=BODY)
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--conns", type=int, default=8)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("--url")
    p.add_argument("--since-ns", type=int)
    p.add_argument("--log")
    p.add_argument("--out")
    p.add_argument("--dpop", action="store_true")
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:  # start: the command to run follows "--"
        rest = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = p.parse_args(argv)
    args.command_args = rest
    need = {"setup": ["api", "env", "client_id", "client_secret"],
            "key": ["api", "env", "client_id", "client_secret", "bench_env", "algorithm"],
            "attributes": ["api", "env", "client_id", "client_secret", "bench_env", "resource"],
            "grow": ["api", "env", "client_id", "client_secret", "bench_env"],
            "verify": ["token_url", "client_id", "client_secret", "alg"],
            "load": ["token_url", "client_id", "client_secret"],
            "seedspec": ["bench_env"], "wait": ["url", "since_ns"],
            "start": ["url", "log"], "proofs": ["token_url", "out"]}[args.command]
    missing = [n for n in need if getattr(args, n) in (None, "")]
    if missing:
        p.error(f"{args.command} needs " + ", ".join("--" + m.replace("_", "-") for m in missing))
    out = {"setup": cmd_setup, "key": cmd_key, "attributes": cmd_attributes, "grow": cmd_grow,
           "verify": cmd_verify,
           "load": cmd_load, "seedspec": cmd_seedspec, "wait": cmd_wait,
           "start": cmd_start, "proofs": cmd_proofs}[args.command](args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
