"""Node's openid-client (discovery + client_credentials) and jose (JWKS verification, RFC 9068
`typ`) against the real server: an implementation of the protocol that shares no code with ours.
The npm packages are installed once into the build tree (conftest.py, npm registry only)."""

import json
import os
import subprocess

import pytest

from tollgate_server import TollgateServer


@pytest.fixture(scope="module")
def node_client(node_work):
    return os.path.join(node_work, "client_credentials.mjs")


@pytest.fixture(scope="module")
def server():
    s = TollgateServer(seed={
        "resources": [{"name": "orders", "audience": "https://orders.example.test",
                       "accessTokenValiditySeconds": 900, "scopes": ["orders:read", "orders:write"]}],
        "applications": [
            {"name": "poster", "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
             "grants": [{"resource": "orders", "scopes": ["orders:read", "orders:write"]}]},
        ]})
    s.start()
    yield s
    s.close()


def run(node_client, *args):
    out = subprocess.run(["node", node_client, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_openid_client_basic_admin_token_verified_by_jose(node_client, server):
    issuer = f"{server.base_url}/{server.env_id}/as"
    # serve runs on a free port without --api-url, so the api-url is its own base URL.
    result = run(node_client, issuer, server.admin["clientId"], server.admin["clientSecret"],
                 server.base_url, "client_secret_basic")
    assert result["issuer"] == issuer
    assert result["tokenType"].lower() == "bearer"
    # openid-client derives expires_in from the clock (expires_at - now), so a second boundary
    # between receiving and reading the token set gives one second less than the wire's 3600.
    assert result["expiresIn"] in (3599, 3600)
    assert result["header"]["typ"] == "at+jwt"
    assert result["header"]["alg"] == "RS256"
    assert result["claims"]["client_id"] == server.admin["clientId"]
    assert result["claims"]["aud"] == [server.base_url]
    assert "scope" not in result["claims"]


def test_openid_client_post_with_scope_verified_by_jose(node_client, server):
    app = server.app("poster")
    issuer = f"{server.base_url}/{server.env_id}/as"
    result = run(node_client, issuer, app["id"], app["secret"], "https://orders.example.test",
                 "client_secret_post", "orders:write")
    assert result["claims"]["scope"] == "orders:write"
    assert result["claims"]["sub"] == app["id"]
    assert result["expiresIn"] in (899, 900)  # from the clock, as above
    assert result["claims"]["exp"] - result["claims"]["iat"] == 900


def test_jose_refuses_the_wrong_audience(node_client, server):
    issuer = f"{server.base_url}/{server.env_id}/as"
    out = subprocess.run(["node", node_client, issuer, server.admin["clientId"],
                          server.admin["clientSecret"], "https://not-the-api.example",
                          "client_secret_basic"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "aud" in out.stderr
