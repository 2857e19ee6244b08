"""Starts the real tollgate binary for tests: a fresh SQLite store in a temporary directory,
`tollgate init`, optional seeding through the storage API (tollgate_seed), then `tollgate serve`
on a free loopback port. Stopped with SIGTERM by the test; the exit code is checked.

Also holds the small helpers the integration and black-box suites share: JWT segment decoding
(without verification: verification is PyJWT's job in the black-box suite), RFC 6749 §2.3.1 Basic
credentials, and the assertion on the shape of an RFC 6749 §5.2 error response (SPEC 2.7)."""

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

TOLLGATE_BIN = os.environ.get("TOLLGATE_BIN", "build/tollgate")
SEED_BIN = os.environ.get("TOLLGATE_SEED_BIN", "build/tests/testutil/tollgate_seed")

# SPEC 2.7: the two description prefixes.
DENIED = "Request denied: "
VALIDATION = ("The request could not be completed. One or more validation errors were in the "
              "request.: ")

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class TollgateServer:
    """One Tollgate deployment: a temporary store plus, after start(), one serving process.

    seed: a tollgate_seed spec (see tests/testutil/seed_main.cc), applied after init.
    extra_args: more `serve` options. init_args: more `init` options. env: extra environment
    for every subprocess (init, seed and serve).
    store: a store URI (e.g. a PostgreSQL database; give the master key in env) instead of a
    fresh SQLite file. admin: the init output of a deployment already initialized on `store`:
    this server is then one more node of it, and init is not run. preexec_fn: run in the `serve`
    child before exec (e.g. to lower its resource limits)."""

    def __init__(self, seed=None, extra_args=(), env=None, init_args=(), store=None, admin=None,
                 preexec_fn=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="tollgate-test-")
        self.db_path = os.path.join(self.tmp.name, "tollgate.db")
        self.store = store or "sqlite:" + self.db_path
        self.env = dict(os.environ, **(env or {}))
        self.extra_args = list(extra_args)
        self.preexec_fn = preexec_fn
        if admin is not None:
            self.admin = admin
        else:
            out = subprocess.run([TOLLGATE_BIN, "init", "--store", self.store, *init_args],
                                 capture_output=True, text=True, env=self.env, timeout=60)
            if out.returncode != 0:
                self.tmp.cleanup()
                raise RuntimeError("tollgate init failed: " + out.stderr)
            self.admin = json.loads(out.stdout)
        self.seeded = None
        self.seeded_at = None  # (time before seeding, time after), wall clock
        if seed is not None:
            before = time.time()
            self.seeded = self.seed(seed)
            self.seeded_at = (before, time.time())
        self.proc = None
        self.log_lines = []
        self.base_url = None
        self.tls_url = None
        self._pumps = []
        self._signalled = False

    def seed(self, spec):
        out = subprocess.run([SEED_BIN, "--store", self.store], input=json.dumps(spec),
                             capture_output=True, text=True, env=self.env, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("tollgate_seed failed: " + out.stderr)
        return json.loads(out.stdout)

    def start(self, timeout=30):
        self.log_lines = []
        self.base_url = None
        self.tls_url = None
        self._signalled = False
        self.proc = subprocess.Popen(
            [TOLLGATE_BIN, "serve", "--store", self.store, "--listen", "127.0.0.1:0",
             *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", env=self.env, preexec_fn=self.preexec_fn)
        ready = threading.Event()

        def pump(stream, watch):
            for line in stream:
                self.log_lines.append(line)
                if not watch or ready.is_set():
                    continue
                m = re.search(r"listening on (http://[^ ]+)(?: and (https://[^ ]+))?", line)
                if m:
                    self.base_url = m.group(1)
                    self.tls_url = m.group(2)  # None without --tls-cert
                    ready.set()

        # Both streams are drained, so a chatty server never blocks on a full pipe.
        self._pumps = [threading.Thread(target=pump, args=(self.proc.stderr, True), daemon=True),
                       threading.Thread(target=pump, args=(self.proc.stdout, False), daemon=True)]
        for t in self._pumps:
            t.start()
        deadline = time.time() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("tollgate serve did not start: " + "".join(self.log_lines))
        return self

    @property
    def env_id(self):
        return self.admin["environmentId"]

    @property
    def issuer(self):
        return f"{self.base_url}/{self.env_id}/as"

    def url(self, path):
        return self.base_url + path

    def token_url(self, env_id=None):
        return f"{self.base_url}/{env_id or self.env_id}/as/token"

    def app(self, name):
        return self.seeded["applications"][name]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig=signal.SIGTERM):
        """Sends `sig`; after a stopping signal (not SIGHUP, which reloads the TLS files) a later
        stop() only waits for the exit."""
        self.proc.send_signal(sig)
        if sig != signal.SIGHUP:
            self._signalled = True

    def stop(self, timeout=15, sig=signal.SIGTERM):
        """Sends `sig` (SIGTERM) unless send_signal() already did, then waits up to `timeout` s;
        returns the exit code. Kills the process and re-raises subprocess.TimeoutExpired if it
        does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            if not self._signalled:
                self.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                raise
        code = self.proc.returncode
        for t in self._pumps:
            t.join(5)
        self.proc = None
        return code

    def logs(self):
        return "".join(self.log_lines)

    def close(self):
        try:
            self.stop()
        finally:
            self.tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def b64url_decode(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_parts(token):
    """(header, payload) of a JWS compact serialization, unverified."""
    parts = token.split(".")
    assert len(parts) == 3, f"not a JWS compact serialization: {token!r}"
    return json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))


def basic(client_id, secret):
    """RFC 6749 §2.3.1: base64(urlencode(client_id) ":" urlencode(secret))."""
    raw = urllib.parse.quote_plus(client_id) + ":" + urllib.parse.quote_plus(secret)
    return "Basic " + base64.b64encode(raw.encode()).decode()


def basic_raw(text):
    """A Basic header over exactly `text` (bytes or str), without any form encoding."""
    if isinstance(text, str):
        text = text.encode()
    return "Basic " + base64.b64encode(text).decode()


def correlation_suffix(resp):
    return f" (Correlation ID: {resp.headers['Correlation-Id']})"


def assert_oauth_error(resp, status, error, prefix, description=None):
    """Asserts an RFC 6749 §5.2 error as SPEC 2.7 shapes it and returns the parsed body.

    prefix: DENIED or VALIDATION. description: when given, the exact text between the prefix
    and the ` (Correlation ID: <id>)` suffix."""
    body_text = resp.text
    assert resp.status_code == status, (resp.status_code, body_text)
    assert resp.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"
    assert resp.headers.get("Cache-Control") == "no-store", resp.headers
    assert resp.headers.get("Pragma") == "no-cache", resp.headers
    body = json.loads(body_text)
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    desc = body["error_description"]
    cid = resp.headers.get("Correlation-Id")
    assert cid, resp.headers
    suffix = f" (Correlation ID: {cid})"
    assert desc.startswith(prefix), desc
    assert desc.endswith(suffix), (desc, cid)
    if description is not None:
        assert desc == prefix + description + suffix, desc
    return body


@contextlib.contextmanager
def serving(**kwargs):
    """A started TollgateServer(**kwargs) for the `with` block (a fixture's yield); then it is
    stopped, its files removed, and its exit code must be 0."""
    server = TollgateServer(**kwargs).start()
    try:
        yield server
    finally:
        code = server.stop()
        server.tmp.cleanup()
    assert code == 0, server.logs()


def metric(server, name):
    """The value of the unlabelled sample `name` in `server`'s /metrics."""
    with urllib.request.urlopen(server.url("/metrics"), timeout=30) as resp:
        text = resp.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name} in:\n{text}")
