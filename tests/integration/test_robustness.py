"""Robustness: a long run of assorted bad requests over keep-alive does not hurt the server, and
no response body or log line ever carries a client secret, an assertion or a token (SPEC 2.7)."""

import base64
import itertools
import json
import urllib.parse
import uuid

import pytest
import requests

from tollgate_server import FORM, TollgateServer, basic

ROUNDS = 2000
ASSERTION = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LWFzc2VydGlvbi1zaWduYXR1cmU"


@pytest.fixture(scope="module")
def server():
    s = TollgateServer(seed={
        "resources": [{"name": "api", "audience": "https://api.example.test",
                       "scopes": ["read", "write"]}],
        "applications": [
            {"name": "victim", "grants": [{"resource": "api", "scopes": ["read"]}]},
            {"name": "victim_post", "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
             "grants": [{"resource": "api", "scopes": ["read"]}]},
            {"name": "good", "grants": [{"resource": "api", "scopes": ["read", "write"]}]},
            {"name": "rotated", "previousSecret": "old-secret-that-must-not-leak-123",
             "previousExpiresIn": 3600, "grants": [{"resource": "api", "scopes": ["read"]}]},
        ]})
    s.start()
    yield s
    code = s.stop()
    s.tmp.cleanup()
    assert code == 0


def bad_requests(s):
    """(method, path, headers, body, acceptable statuses): each one an error."""
    env = s.env_id
    token = f"/{env}/as/token"
    victim, victim_post = s.app("victim"), s.app("victim_post")
    vb = basic(victim["id"], victim["secret"])
    auth_fail = {401, 429}  # SPEC 2.2 rule 8 may slow a client down
    cases = [
        ("POST", token, {**FORM}, "grant_type=client_credentials", auth_fail),
        ("POST", token, {**FORM, "Authorization": basic(victim["id"], "wrong")},
         "grant_type=client_credentials", auth_fail),
        # The right secret, by the wrong method: refused, and it must not leak.
        ("POST", token, {**FORM}, urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": victim["id"],
             "client_secret": victim["secret"]}), auth_fail),
        ("POST", token, {**FORM, "Authorization": basic(victim_post["id"], victim_post["secret"])},
         "grant_type=client_credentials", auth_fail),
        # Basic plus a body secret: 400 with both secrets on the wire.
        ("POST", token, {**FORM, "Authorization": vb},
         "grant_type=client_credentials&client_secret=" + victim_post["secret"], {400, 429}),
        ("POST", token, {**FORM}, urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_assertion": ASSERTION,
             "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}),
         {400, 401, 429}),
        ("POST", token, {**FORM, "Authorization": basic(str(uuid.uuid4()), "x")},
         "grant_type=client_credentials", auth_fail),
        ("POST", token, {**FORM, "Authorization": "Basic %%%"}, "grant_type=client_credentials",
         auth_fail),
        ("POST", token, {"Content-Type": "application/json", "Authorization": vb},
         '{"grant_type":"client_credentials"}', {400}),
        ("POST", token, {**FORM, "Authorization": vb}, "grant_type=client_credentials&scope=%zz",
         {400}),
        ("POST", token, {**FORM, "Authorization": vb}, "grant_type=client_credentials&scope=%00",
         {400}),
        ("POST", token, {**FORM, "Authorization": vb}, "grant_type=client_credentials&scope=%C3(",
         {400}),
        ("POST", token, {**FORM, "Authorization": vb},
         "grant_type=client_credentials&grant_type=client_credentials", {400}),
        ("POST", token, {**FORM, "Authorization": vb}, "grant_type=password", {400}),
        ("POST", token, {**FORM, "Authorization": vb}, "scope=read", {400}),
        ("POST", token, {**FORM, "Authorization": vb},
         "grant_type=client_credentials&scope=nothing", {400}),
        ("POST", token, {**FORM, "Authorization": vb},
         "grant_type=client_credentials&resource=https%3A%2F%2Fx", {400}),
        ("POST", token, {**FORM, "Authorization": vb},
         "grant_type=client_credentials&scope=" + "a" * 5000, {400}),
        ("GET", token, {}, None, {405}),
        ("DELETE", token, {}, None, {405}),
        ("POST", f"/{uuid.uuid4()}/as/token", {**FORM, "Authorization": vb},
         "grant_type=client_credentials", {404}),
        ("POST", "/not-a-uuid/as/token", {**FORM}, "grant_type=client_credentials", {404}),
        ("GET", f"/{env}/as/unknown", {}, None, {404}),
        ("GET", "/v1/environments/../../etc/passwd", {}, None, {400, 401, 404}),
        ("POST", token, {**FORM, "Authorization": vb}, "grant_type=client_credentials&pad="
         + "x" * 17000, {413}),
    ]
    return cases


def test_bad_requests_then_a_good_one(server):
    cases = bad_requests(server)
    session = requests.Session()
    bodies = []
    statuses = {}
    for i, (method, path, headers, body, ok) in zip(range(ROUNDS), itertools.cycle(cases)):
        resp = session.request(method, server.url(path), headers=headers, data=body, timeout=10)
        assert resp.status_code in ok, (i, method, path, body and body[:80], resp.status_code,
                                        resp.text)
        assert resp.headers.get("Correlation-Id")
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        bodies.append(resp.text)
    assert server.alive(), server.logs()

    good = server.app("good")
    tokens = []
    for _ in range(3):
        resp = session.post(server.token_url(), data="grant_type=client_credentials",
                            headers={**FORM, "Authorization": basic(good["id"], good["secret"])},
                            timeout=10)
        assert resp.status_code == 200, resp.text
        tokens.append(resp.json()["access_token"])
        bodies.append(resp.text)
    rotated = server.app("rotated")
    resp = session.post(server.token_url(), data="grant_type=client_credentials",
                        headers={**FORM, "Authorization": basic(
                            rotated["id"], "old-secret-that-must-not-leak-123")}, timeout=10)
    assert resp.status_code == 200, resp.text
    tokens.append(resp.json()["access_token"])
    bodies.append(resp.text)
    assert server.alive()

    secrets = [server.admin["clientSecret"], "old-secret-that-must-not-leak-123", ASSERTION,
               *(a["secret"] for a in server.seeded["applications"].values())]
    # Issued tokens may appear in the success bodies only; nowhere else, never in the log.
    logs = server.logs()
    for secret in secrets:
        assert secret not in logs
        for text in bodies:
            assert secret not in text
    for tok in tokens:
        signature = tok.rsplit(".", 1)[1]
        assert tok not in logs and signature not in logs
        assert sum(tok in text for text in bodies) == 1
    # No Authorization header value is logged either.
    for _, _, headers, _, _ in cases:
        credentials = headers.get("Authorization", "").partition(" ")[2]
        if len(credentials) > 8:
            assert credentials not in logs
    for secret in secrets:
        assert base64.b64encode(secret.encode()).decode()[:16] not in logs


def test_log_lines_never_carry_the_admin_secret_or_a_token(server):
    """The same for a plain success, and for the server's lines written on shutdown."""
    admin = server.admin
    resp = requests.post(server.token_url(), data="grant_type=client_credentials",
                         headers={**FORM, "Authorization": basic(admin["clientId"],
                                                                 admin["clientSecret"])},
                         timeout=10)
    assert resp.status_code == 200, resp.text
    tok = resp.json()["access_token"]
    assert admin["clientSecret"] not in server.logs()
    assert tok not in server.logs()
    assert json.dumps(resp.json()).count(admin["clientSecret"]) == 0


RAW_GARBAGE = [
    b"GARBAGE\r\n\r\n",
    b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: a\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
    b"POST /{env}/as/token HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial",
    b"POST /{env}/as/token HTTP/1.1\r\nHost: a\r\nContent-Le",
]


def test_malformed_http_then_a_good_request(server):
    """Broken framing is answered with a 4xx (or a closed connection) and harms nothing."""
    import socket
    import urllib.parse as up
    u = up.urlsplit(server.base_url)
    for raw in RAW_GARBAGE:
        raw = raw.replace(b"{env}", server.env_id.encode())
        with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
            try:
                sock.sendall(raw)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may answer and close before it has read everything
            data = b""
            try:
                while chunk := sock.recv(65536):
                    data += chunk
            except ConnectionResetError:
                pass
        if data:
            status = int(data.split(b" ", 2)[1])
            assert 400 <= status < 500, (raw[:60], data[:200])
            assert b"\r\ncorrelation-id: " in data.lower(), data[:300]
        assert server.alive(), server.logs()
    good = server.app("good")
    resp = requests.post(server.token_url(), data="grant_type=client_credentials",
                         headers={**FORM, "Authorization": basic(good["id"], good["secret"])},
                         timeout=10)
    assert resp.status_code == 200, resp.text


def test_concurrent_clients(server):
    """Several keep-alive clients at once: every answer right, every jti distinct."""
    import concurrent.futures
    from tollgate_server import jwt_parts
    good = server.app("good")
    victim = server.app("victim")

    def worker(n):
        session = requests.Session()
        jtis = []
        for i in range(40):
            if (n + i) % 4 == 0:
                resp = session.post(server.token_url(), data="grant_type=client_credentials&"
                                    "scope=nothing", headers={**FORM, "Authorization": basic(
                                        victim["id"], victim["secret"])}, timeout=10)
                assert resp.status_code == 400, resp.text
                assert resp.json()["error"] == "invalid_scope"
                continue
            resp = session.post(server.token_url(), data="grant_type=client_credentials&"
                                "scope=write+read", headers={**FORM, "Authorization": basic(
                                    good["id"], good["secret"])}, timeout=10)
            assert resp.status_code == 200, resp.text
            assert resp.json()["scope"] == "write read"
            claims = jwt_parts(resp.json()["access_token"])[1]
            assert claims["client_id"] == good["id"]
            jtis.append(claims["jti"])
        return jtis

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    jtis = [j for r in results for j in r]
    assert len(jtis) == 8 * 30
    assert len(set(jtis)) == len(jtis)
    assert server.alive()
