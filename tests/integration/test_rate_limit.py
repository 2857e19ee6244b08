"""SPEC 2.2 rule 8: repeated failed authentications of one client are slowed down with 429 +
Retry-After past a threshold (the SPEC leaves the threshold open; it must come within
MAX_FAILURES), other clients are unaffected, and a success resets the count. Its own server, so
the failures here never touch the other modules' clients."""

import base64
import hashlib
import hmac
import http.client
import json
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

from tollgate_server import (DENIED, FORM, TOLLGATE_BIN, TollgateServer, basic,
                             correlation_suffix, metric)

MAX_FAILURES = 100


@pytest.fixture(scope="module")
def server():
    apps = [{"name": n, "grants": [{"resource": "api", "scopes": ["read"]}]}
            for n in ("target", "bystander", "resetter", "flooded", "other")]
    apps.append({"name": "jwt-flooded", "tokenEndpointAuthMethod": "CLIENT_SECRET_JWT",
                 "grants": [{"resource": "api", "scopes": ["read"]}]})
    s = TollgateServer(seed={"resources": [{"name": "api", "audience": "https://api.example.test",
                                            "scopes": ["read"]}],
                             "applications": apps})
    s.start()
    yield s
    code = s.stop()
    s.tmp.cleanup()
    assert code == 0


def attempt(server, session, name, secret=None):
    app = server.app(name)
    return session.post(server.token_url(), data="grant_type=client_credentials",
                        headers={**FORM, "Authorization": basic(app["id"],
                                                                secret or app["secret"])},
                        timeout=10)


def failures_until_429(server, session, name):
    for i in range(1, MAX_FAILURES + 1):
        resp = attempt(server, session, name, "wrong-secret")
        if resp.status_code == 429:
            return i, resp
        assert resp.status_code == 401, resp.text
    return None, None


def test_repeated_failures_are_slowed_down_and_a_success_resets(server):
    session = requests.Session()
    throttled = metric(server, "tollgate_token_requests_throttled_total")
    threshold, limited = failures_until_429(server, session, "target")
    assert limited is not None, f"no 429 after {MAX_FAILURES} failed authentications"
    assert metric(server, "tollgate_token_requests_throttled_total") == throttled + 1
    retry_after = limited.headers.get("Retry-After")
    assert retry_after and retry_after.isdigit() and int(retry_after) > 0, limited.headers
    body = limited.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert body["error_description"].startswith(DENIED)
    assert body["error_description"].endswith(correlation_suffix(limited))
    assert limited.headers.get("Cache-Control") == "no-store"

    # Another client is not affected.
    assert attempt(server, session, "bystander").status_code == 200

    # The first 429 came after threshold-1 failures, so threshold-2 failures are still free.
    # A success resets the count: threshold-2 failures, a success, threshold-2 failures again,
    # and the client still gets in.
    for _ in range(threshold - 2):
        assert attempt(server, session, "resetter", "wrong").status_code == 401
    assert attempt(server, session, "resetter").status_code == 200
    for _ in range(threshold - 2):
        assert attempt(server, session, "resetter", "wrong").status_code == 401
    assert attempt(server, session, "resetter").status_code == 200


def post_from(server, source, body, headers):
    """One token request from loopback address `source` (any 127.x.y.z reaches the server)."""
    u = urllib.parse.urlsplit(server.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", urllib.parse.urlsplit(server.token_url()).path, body=body,
                     headers={**FORM, **headers})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def hs256(secret, claims):
    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    head = b64(b'{"alg":"HS256"}') + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())


def test_a_flood_against_one_client_slows_only_the_attacker(server):
    """Issue 4's done-when: a brute-force run against one client (wrong Basic secrets and forged
    assertions from 127.0.0.1) is throttled, while other clients, and the attacked clients
    themselves calling from another address (127.0.0.2), keep getting every token."""
    flooded, jwt_app = server.app("flooded"), server.app("jwt-flooded")
    stop = threading.Event()
    attacker = {"401": 0, "429": 0, "other": 0}

    def attack(kind):
        while not stop.is_set():
            if kind == "basic":
                status, _ = post_from(server, "127.0.0.1", "grant_type=client_credentials",
                                      {"Authorization": basic(flooded["id"], "guess")})
            else:
                claims = {"iss": jwt_app["id"], "sub": jwt_app["id"], "aud": server.token_url(),
                          "jti": str(uuid.uuid4()), "exp": int(time.time()) + 60}
                body = urllib.parse.urlencode({
                    "grant_type": "client_credentials",
                    "client_assertion_type":
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": hs256("guess", claims)})
                status, _ = post_from(server, "127.0.0.1", body, {})
            attacker[str(status) if status in (401, 429) else "other"] += 1

    threads = [threading.Thread(target=attack, args=(k,)) for k in ("basic", "jwt", "basic")]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while attacker["429"] < 20:  # the attack is being throttled
            assert all(t.is_alive() for t in threads)
            assert time.monotonic() < deadline, f"the attack was not throttled: {attacker}"
            time.sleep(0.01)
        served = []
        for _ in range(50):
            served.append(post_from(server, "127.0.0.1", "grant_type=client_credentials",
                                    {"Authorization": basic(server.app("other")["id"],
                                                            server.app("other")["secret"])})[0])
            served.append(post_from(server, "127.0.0.2", "grant_type=client_credentials",
                                    {"Authorization": basic(flooded["id"], flooded["secret"])})[0])
            claims = {"iss": jwt_app["id"], "sub": jwt_app["id"], "aud": server.token_url(),
                      "jti": str(uuid.uuid4()), "exp": int(time.time()) + 60}
            body = urllib.parse.urlencode({
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": hs256(jwt_app["secret"], claims)})
            served.append(post_from(server, "127.0.0.2", body, {})[0])
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert served == [200] * len(served), served
    assert attacker["other"] == 0, attacker
    # Throttled answers outnumber the wrong-credential answers the attacker could still get.
    assert attacker["429"] > attacker["401"], attacker


# -- behind a reverse proxy (docs/deploy.md, --trusted-proxies) ---------------------------------

@pytest.fixture(scope="module")
def proxied():
    """A server that trusts 127.0.0.1 as its reverse proxy (and nobody else)."""
    s = TollgateServer(seed={"resources": [{"name": "api", "audience": "https://api.example.test",
                                            "scopes": ["read"]}],
                             "applications": [{"name": n, "grants": [{"resource": "api",
                                                                      "scopes": ["read"]}]}
                                              for n in ("victim", "spoofed")]},
                       extra_args=["--trusted-proxies", "127.0.0.1/32"])
    s.start()
    yield s
    code = s.stop()
    s.tmp.cleanup()
    assert code == 0


def from_client(server, name, client_ip, secret=None, source="127.0.0.1", header="xff"):
    app = server.app(name)
    headers = {**FORM, "Authorization": basic(app["id"], secret or app["secret"])}
    if header == "xff":
        headers["X-Forwarded-For"] = f"203.0.113.250, {client_ip}"  # the left hop is the client's
    else:
        host = f"[{client_ip}]" if ":" in client_ip else client_ip  # RFC 7239 §6
        headers["Forwarded"] = f'for=203.0.113.250, for="{host}"'
    return post_from(server, source, "grant_type=client_credentials", headers)[0]


@pytest.mark.parametrize("header", ["xff", "forwarded"])
def test_behind_a_trusted_proxy_the_attacker_is_throttled_not_the_proxy(proxied, header):
    """Through one load balancer (127.0.0.1), an attacker flooding a client with wrong secrets
    is slowed down by its own address; the client itself, behind the same balancer, still gets
    every token. Before --trusted-proxies, the balancer's address was the key: one attacker
    locked the client out for everyone."""
    attacker, client = ("198.51.100.66", "198.51.100.7") if header == "xff" else (
        "2001:db8::66", "2001:db8::7")
    for i in range(MAX_FAILURES):
        status = from_client(proxied, "victim", attacker, "wrong", header=header)
        if status == 429:
            break
        assert status == 401
    assert status == 429, "the attacker is throttled"
    for _ in range(3):
        assert from_client(proxied, "victim", client, header=header) == 200
    assert from_client(proxied, "victim", attacker, header=header) == 429, (
        "the attacker's own address stays throttled, even with the right secret")


def test_an_untrusted_peer_cannot_name_another_address(proxied):
    """127.0.0.2 is not a trusted proxy: its X-Forwarded-For is ignored, so rotating it does not
    escape the throttle, and it cannot spend another address's failures."""
    for i in range(MAX_FAILURES):
        status = from_client(proxied, "spoofed", f"198.51.100.{i % 200}", "wrong",
                             source="127.0.0.2")
        if status == 429:
            break
        assert status == 401
    assert status == 429, "throttled by its TCP address whatever the header says"
    # The address it pretended to be is untouched: a client there (through the proxy) gets in.
    assert from_client(proxied, "spoofed", "198.51.100.1") == 200


@pytest.mark.parametrize("value", ["10.1.2.3/8", "example.com", "10.0.0.0/33"])
def test_trusted_proxies_option_is_checked(value):
    out = subprocess.run([TOLLGATE_BIN, "serve", "--listen", "127.0.0.1:0", "--trusted-proxies",
                          value], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "--trusted-proxies" in out.stderr and value in out.stderr, out.stderr
