"""Independent OAuth clients against the real server: authlib's OAuth2Session with
client_secret_basic and client_secret_post, with and without a scope, and curl; every token is
verified by PyJWT against the published JWKS (SPEC 2.2, 2.4, 2.5, 2.6, 3)."""

import json
import os
import subprocess

import jwt
import pytest
from authlib.integrations.requests_client import OAuth2Session

ORDERS = "https://orders.blackbox.example.test"


def verify(server, token, audience):
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    client = jwt.PyJWKClient(f"{server.issuer}/jwks")
    assert header["kid"] in {k.key_id for k in client.get_jwk_set().keys}
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience,
                      issuer=f"{server.base_url}/{server.env_id}/as",
                      options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})


def test_authlib_client_secret_basic_admin(bb_server):
    admin = bb_server.admin
    with OAuth2Session(admin["clientId"], admin["clientSecret"],
                       token_endpoint_auth_method="client_secret_basic") as session:
        token = session.fetch_token(bb_server.token_url(), grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert "refresh_token" not in token
    claims = verify(bb_server, token["access_token"], admin["apiUrl"])
    assert claims["client_id"] == admin["clientId"]


def test_authlib_client_secret_basic_custom_resource(bb_server):
    app = bb_server.app("basic")
    with OAuth2Session(app["id"], app["secret"],
                       token_endpoint_auth_method="client_secret_basic") as session:
        token = session.fetch_token(bb_server.token_url(), grant_type="client_credentials")
    assert token["expires_in"] == 1800
    assert sorted(token["scope"].split()) == ["orders:read", "orders:write"]
    claims = verify(bb_server, token["access_token"], ORDERS)
    assert claims["aud"] == [ORDERS]


def test_authlib_client_secret_post(bb_server):
    app = bb_server.app("post")
    with OAuth2Session(app["id"], app["secret"],
                       token_endpoint_auth_method="client_secret_post") as session:
        token = session.fetch_token(bb_server.token_url(), grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    claims = verify(bb_server, token["access_token"], ORDERS)
    assert claims["client_id"] == app["id"]


@pytest.mark.parametrize("method,name", [("client_secret_post", "post"),
                                         ("client_secret_basic", "basic")])
def test_authlib_with_a_scope(bb_server, method, name):
    app = bb_server.app(name)
    with OAuth2Session(app["id"], app["secret"], scope="orders:write unknown openid",
                       token_endpoint_auth_method=method) as session:
        token = session.fetch_token(bb_server.token_url(), grant_type="client_credentials")
    assert token["scope"] == "orders:write"
    assert verify(bb_server, token["access_token"], ORDERS)["scope"] == "orders:write"


def test_authlib_sees_the_oauth_error(bb_server):
    app = bb_server.app("post")
    with OAuth2Session(app["id"], "not-the-secret",
                       token_endpoint_auth_method="client_secret_post") as session:
        with pytest.raises(Exception) as info:
            session.fetch_token(bb_server.token_url(), grant_type="client_credentials")
    assert getattr(info.value, "error", None) == "invalid_client", repr(info.value)


def test_authlib_wrong_method_is_refused(bb_server):
    app = bb_server.app("post")
    with OAuth2Session(app["id"], app["secret"],
                       token_endpoint_auth_method="client_secret_basic") as session:
        with pytest.raises(Exception) as info:
            session.fetch_token(bb_server.token_url(), grant_type="client_credentials")
    assert getattr(info.value, "error", None) == "invalid_client", repr(info.value)
    assert "Unsupported authentication method" in getattr(info.value, "description", "")


def test_curl_with_user_option(bb_server):
    """curl's own Basic encoding (-u) and form encoding (--data-urlencode)."""
    app = bb_server.app("basic")
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    out = subprocess.run(["curl", "-sS", "--fail-with-body", "-u", f"{app['id']}:{app['secret']}",
                          "--data-urlencode", "grant_type=client_credentials",
                          "--data-urlencode", "scope=orders:read",
                          bb_server.token_url()],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, (out.stdout, out.stderr)
    body = json.loads(out.stdout)
    assert body["scope"] == "orders:read"
    verify(bb_server, body["access_token"], ORDERS)
