"""SPEC 2.2 rule 5: during a rotation the previous secret is accepted until its expiresAt, and
refused from then on. Its own server: the seeded expiry runs on the wall clock."""

import time

import pytest
import requests

from tollgate_server import DENIED, FORM, TollgateServer, assert_oauth_error, basic

EXPIRES_IN = 3  # seconds after seeding
PREVIOUS = "previous-secret-short-lived"


@pytest.fixture(scope="module")
def rotating():
    server = TollgateServer(seed={
        "resources": [{"name": "api", "audience": "https://api.example.test", "scopes": ["read"]}],
        "applications": [{"name": "app", "previousSecret": PREVIOUS,
                          "previousExpiresIn": EXPIRES_IN,
                          "grants": [{"resource": "api", "scopes": ["read"]}]}]})
    server.start()
    yield server
    code = server.stop()
    server.tmp.cleanup()
    assert code == 0


def test_previous_secret_expires(rotating):
    app = rotating.app("app")
    seed_start, seed_end = rotating.seeded_at
    session = requests.Session()

    def attempt(secret):
        return session.post(rotating.token_url(), data="grant_type=client_credentials",
                            headers={**FORM, "Authorization": basic(app["id"], secret)},
                            timeout=10)

    # Well before expiry (1 s margin for clock granularity) it must work; the server usually
    # starts long before that.
    first_at = time.time()
    first = attempt(PREVIOUS)
    if first_at < seed_start + EXPIRES_IN - 1:
        assert first.status_code == 200, first.text

    # Poll (bounded) until it stops working.
    deadline = seed_end + EXPIRES_IN + 15
    refused = first if first.status_code != 200 else None
    refused_at = first_at if refused is not None else None
    while refused is None and time.time() < deadline:
        sent_at = time.time()
        resp = attempt(PREVIOUS)
        if resp.status_code != 200:
            refused, refused_at = resp, sent_at
            break
        time.sleep(0.1)
    assert refused is not None, "the previous secret was still accepted long after expiry"
    assert refused_at >= seed_start + EXPIRES_IN - 1, "the previous secret expired early"
    assert_oauth_error(refused, 401, "invalid_client", DENIED, "Invalid client credentials")
    assert refused.headers.get("WWW-Authenticate") == f'Basic realm="{rotating.issuer}"'

    # It stays refused, and the current secret still works.
    assert attempt(PREVIOUS).status_code == 401
    ok = attempt(app["secret"])
    assert ok.status_code == 200, ok.text
