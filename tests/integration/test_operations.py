"""SPEC 1 (operations surface) and SPEC 8 (`serve` stops on SIGTERM/SIGINT and exits 0)."""

import http.client
import json
import re
import signal
import socket
import time
import urllib.parse

import pytest
import requests

from tollgate_server import FORM, TollgateServer, basic

SEED = {
    "resources": [{"name": "api", "audience": "https://api.example.test", "scopes": ["read"]}],
    "applications": [{"name": "app", "grants": [{"resource": "api", "scopes": ["read"]}]}],
}


def test_healthz(main_server):
    resp = requests.get(main_server.url("/healthz"), timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("Correlation-Id")


def test_readyz(main_server):
    resp = requests.get(main_server.url("/readyz"), timeout=10)
    assert resp.status_code == 200, resp.text


def metric(text, name):
    m = re.search(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\d+(?:\.\d+)?)$", text, re.MULTILINE)
    assert m, f"{name} missing from:\n{text}"
    return float(m.group(1))


def test_metrics_counts_issued_tokens(main_server):
    before = requests.get(main_server.url("/metrics"), timeout=10)
    assert before.status_code == 200
    assert before.headers["Content-Type"].startswith("text/plain")
    assert "tollgate_tokens_issued_total" in before.text
    issued = metric(before.text, "tollgate_tokens_issued_total")
    admin = main_server.admin
    resp = requests.post(main_server.token_url(), data="grant_type=client_credentials",
                         headers={**FORM, "Authorization": basic(admin["clientId"],
                                                                 admin["clientSecret"])},
                         timeout=10)
    assert resp.status_code == 200, resp.text
    after = requests.get(main_server.url("/metrics"), timeout=10).text
    assert metric(after, "tollgate_tokens_issued_total") >= issued + 1


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_are_get_only(main_server, path):
    resp = requests.post(main_server.url(path), data="x", timeout=10)
    assert resp.status_code == 405, resp.text
    assert "GET" in resp.headers.get("Allow", "")


def wait_until_refused(u, deadline):
    """Polls (bounded) until the server stops accepting connections."""
    while time.monotonic() < deadline:
        try:
            socket.create_connection((u.hostname, u.port), timeout=1).close()
        except (ConnectionRefusedError, ConnectionResetError):
            # A reset: the listener closed while this connection waited in its backlog.
            return True
        time.sleep(0.05)
    return False


def test_sigterm_closes_idle_connections_and_finishes_in_flight_requests():
    server = TollgateServer(seed=SEED).start()
    try:
        u = urllib.parse.urlsplit(server.base_url)
        app = server.app("app")
        auth = basic(app["id"], app["secret"])

        # An idle keep-alive connection.
        idle = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
        idle.request("POST", f"/{server.env_id}/as/token",
                     body="grant_type=client_credentials", headers={**FORM, "Authorization": auth})
        resp = idle.getresponse()
        assert resp.status == 200
        resp.read()
        assert not resp.will_close

        # An in-flight request: headers read (the server said 100 Continue), body not sent yet.
        body = b"grant_type=client_credentials"
        busy = socket.create_connection((u.hostname, u.port), timeout=20)
        busy.sendall((f"POST /{server.env_id}/as/token HTTP/1.1\r\nHost: {u.netloc}\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Authorization: {auth}\r\nExpect: 100-continue\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode())
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = busy.recv(1024)
            assert chunk, "connection closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100"), interim

        start = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert wait_until_refused(u, start + 10), "still accepting after SIGTERM"

        # The idle connection is closed by the server.
        idle.sock.settimeout(10)
        try:
            assert idle.sock.recv(1) == b""
        except ConnectionResetError:
            pass
        idle.close()

        # The in-flight request still gets its answer.
        busy.sendall(body)
        resp = http.client.HTTPResponse(busy)
        resp.begin()
        assert resp.status == 200, resp.read()
        assert "access_token" in json.loads(resp.read())
        busy.close()

        code = server.stop(timeout=15)
        assert code == 0, server.logs()
        assert time.monotonic() - start < 15
    finally:
        server.close()


def test_sigint_exits_zero():
    server = TollgateServer(seed=SEED).start()
    try:
        code = server.stop(sig=signal.SIGINT)
        assert code == 0, server.logs()
    finally:
        server.close()
