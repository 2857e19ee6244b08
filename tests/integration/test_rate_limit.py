"""SPEC 2.2 rule 8: repeated failed authentications of one client are slowed down with 429 +
Retry-After past a threshold (the SPEC leaves the threshold open; it must come within
MAX_FAILURES), other clients are unaffected, and a success resets the count. Its own server, so
the failures here never touch the other modules' clients."""

import pytest
import requests

from tollgate_server import DENIED, FORM, TollgateServer, basic, correlation_suffix

MAX_FAILURES = 100


@pytest.fixture(scope="module")
def server():
    apps = [{"name": n, "grants": [{"resource": "api", "scopes": ["read"]}]}
            for n in ("target", "bystander", "resetter")]
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
    threshold, limited = failures_until_429(server, session, "target")
    assert limited is not None, f"no 429 after {MAX_FAILURES} failed authentications"
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
