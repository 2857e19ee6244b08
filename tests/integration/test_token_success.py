"""SPEC 2.5 (success response) and 2.6 (the access token) over HTTP."""

import json
import time

import pytest

from integration_support import ORDERS
from tollgate_server import UUID_RE, basic, jwt_parts

TOKEN_CLAIMS = {"iss", "sub", "aud", "client_id", "iat", "exp", "jti", "env", "org"}


def assert_success(resp, client_id, server, expect_scope):
    """The SPEC 2.5 response and the SPEC 2.6 token it carries; returns (header, claims)."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].split(";")[0].strip() == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Pragma"] == "no-cache"
    body = json.loads(resp.text)
    keys = {"access_token", "token_type", "expires_in"}
    if expect_scope is not None:
        keys.add("scope")
    assert set(body) == keys, body  # no refresh_token (RFC 6749 §4.4.3)
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    header, claims = jwt_parts(body["access_token"])

    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert isinstance(header.get("kid"), str) and header["kid"]
    assert set(header) == {"alg", "kid", "typ"}, header  # x5t only with includeX5t

    assert set(claims) == TOKEN_CLAIMS | ({"scope"} if expect_scope is not None else set()), claims
    assert claims["iss"] == server.issuer
    assert claims["sub"] == client_id
    assert claims["client_id"] == client_id
    assert isinstance(claims["aud"], list) and claims["aud"]
    assert claims["env"] == server.env_id
    assert claims["org"] == server.admin["organizationId"]
    assert UUID_RE.match(claims["jti"]), claims["jti"]
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert abs(claims["iat"] - time.time()) < 60
    assert body["expires_in"] == claims["exp"] - claims["iat"]
    if expect_scope is not None:
        assert body["scope"] == expect_scope
        assert claims["scope"] == expect_scope
    return header, claims


def test_custom_resource_token_shape(client, main_server):
    resp = client.token("one", "scope=orders:read")
    _, claims = assert_success(resp, client.app("one")["id"], main_server, "orders:read")
    assert claims["aud"] == [ORDERS]
    assert claims["exp"] - claims["iat"] == 900


def test_management_token_has_no_scope_member(client, main_server):
    resp = client.token("worker_roles")
    _, claims = assert_success(resp, client.app("worker_roles")["id"], main_server, None)
    assert "scope" not in json.loads(resp.text)
    assert claims["aud"] == [main_server.base_url]  # api-url defaults to auth-url (SPEC 1)
    assert claims["exp"] - claims["iat"] == 3600


def test_admin_from_init_gets_management_token(client, main_server):
    """The WORKER of `tollgate init` with Organization Admin: the reference page's request."""
    admin = main_server.admin
    resp = client.post("grant_type=client_credentials",
                       headers={"Authorization": basic(admin["clientId"], admin["clientSecret"])})
    _, claims = assert_success(resp, admin["clientId"], main_server, None)
    assert json.loads(resp.text)["expires_in"] == 3600
    assert claims["aud"] == [main_server.base_url]


def test_every_token_has_a_fresh_jti(client):
    jtis = set()
    for _ in range(5):
        resp = client.token("one")
        assert resp.status_code == 200, resp.text
        jtis.add(jwt_parts(resp.json()["access_token"])[1]["jti"])
    assert len(jtis) == 5


def test_kid_is_published_in_jwks(client, main_server):
    resp = client.token("one")
    header, _ = jwt_parts(resp.json()["access_token"])
    jwks = client.session.get(main_server.issuer + "/jwks", timeout=10).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}


def test_x5t_only_when_include_x5t(client, main_server):
    resp = client.token("x5t")
    assert resp.status_code == 200, resp.text
    header, _ = jwt_parts(resp.json()["access_token"])
    assert isinstance(header.get("x5t"), str) and header["x5t"], header
    jwks = client.session.get(main_server.issuer + "/jwks", timeout=10).json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    if "x5t" in key:
        assert key["x5t"] == header["x5t"]


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded; charset=UTF-8",
    "application/x-www-form-urlencoded;charset=utf-8",
    "Application/X-WWW-Form-Urlencoded",
])
def test_content_type_parameters_and_case_are_accepted(client, content_type):
    resp = client.token("one", headers={"Content-Type": content_type})
    assert resp.status_code == 200, resp.text


def test_unknown_parameters_are_ignored(client):
    resp = client.token("one", "foo=bar&state=xyz&redirect_uri=https%3A%2F%2Fx")
    assert resp.status_code == 200, resp.text


def test_plus_is_a_space_in_the_form(client):
    resp = client.token("one", "scope=orders:read+orders:write")
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "orders:read orders:write"
