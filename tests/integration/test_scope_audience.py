"""SPEC 2.4, every row, end to end: the seeded resources and applications of conftest, a real
token request, and the `aud`, `scope` and lifetime of the signed token."""

import urllib.parse

import pytest

from integration_support import BILLING, INVENTORY, ORDERS, SHORT
from tollgate_server import VALIDATION, assert_oauth_error, basic, jwt_parts

API = object()  # stands for the server's api-url
MULTI = "May not request scopes for multiple resources"


def ok(aud, scope, lifetime):
    """aud: a list (exact order) or a set (any order). scope: an exact string, a frozenset of
    names in any order, or None for no scope claim."""
    return ("ok", aud, scope, lifetime)


def err(code, description=None, contains=()):
    return ("err", code, description, tuple(contains))


CASES = [
    # --- Without scope -----------------------------------------------------------------------
    # Exactly one custom resource: all its granted scopes, its audience and lifetime.
    ("one-resource", "one", [], ok([ORDERS], frozenset({"orders:read", "orders:write"}), 900)),
    ("one-resource-default-lifetime", "inventory", [], ok([INVENTORY], "inventory:read", 3600)),
    ("one-resource-min-lifetime", "short", [], ok([SHORT], "short:read", 300)),
    ("empty-scope-is-absent", "one", [("scope", "")],
     ok([ORDERS], frozenset({"orders:read", "orders:write"}), 900)),
    # Two custom resources.
    ("two-resources-not-enabled", "multi_off", [], err("invalid_scope", MULTI)),
    ("two-resources-not-enabled-empty-scope", "multi_off", [("scope", "")],
     err("invalid_scope", MULTI)),
    ("two-resources-enabled", "multi_on", [],
     ok({ORDERS, BILLING}, frozenset({"orders:read", "shared", "billing:read"}), 900)),
    # No custom resources.
    ("worker-with-roles", "worker_roles", [], ok([API], None, 3600)),
    ("worker-without-roles", "worker_noroles", [], err("unauthorized_client")),
    ("non-worker-without-grants", "bare", [],
     err("invalid_scope", "At least one scope must be granted")),
    ("worker-with-roles-and-a-resource", "worker_roles_res", [],
     ok([ORDERS], "orders:read", 900)),

    # --- With scope ----------------------------------------------------------------------------
    ("scope-granted", "one", [("scope", "orders:read")], ok([ORDERS], "orders:read", 900)),
    ("scope-ignores-unknown-openid-p1", "one",
     [("scope", "orders:read unknown openid p1:read:user profile")],
     ok([ORDERS], "orders:read", 900)),
    ("scope-order-and-duplicates", "one",
     [("scope", "orders:write orders:read orders:write orders:read")],
     ok([ORDERS], "orders:write orders:read", 900)),
    ("scope-several-spaces", "one", [("scope", "orders:write   orders:read")],
     ok([ORDERS], "orders:write orders:read", 900)),
    ("scope-exists-not-granted", "one", [("scope", "orders:admin")],
     err("invalid_scope", contains=["orders:admin"])),
    ("scope-of-another-resource", "one", [("scope", "billing:read")],
     err("invalid_scope", contains=["billing:read"])),
    ("scope-only-openid-and-p1-non-worker", "one", [("scope", "openid p1:read:user")],
     err("invalid_scope", contains=["openid", "p1:read:user"])),
    ("scope-only-unknown-bare", "bare", [("scope", "openid nothing")],
     err("invalid_scope", contains=["openid", "nothing"])),
    ("scope-bad-char-quote", "one", [("scope", 'orders:read bad"name')], err("invalid_scope")),
    ("scope-bad-char-backslash", "one", [("scope", "orders:read bad\\name")],
     err("invalid_scope")),
    ("scope-bad-char-non-ascii", "one", [("scope", "orders:read caf\u00e9")],
     err("invalid_scope")),
    ("scope-bad-char-tab", "one", [("scope", "orders:read\torders:write")],
     err("invalid_scope")),
    # Two resources, scope given.
    ("multi-off-one-resource-a", "multi_off", [("scope", "orders:read")],
     ok([ORDERS], "orders:read", 900)),
    ("multi-off-one-resource-b", "multi_off", [("scope", "billing:read unknown")],
     ok([BILLING], "billing:read", 1200)),
    ("multi-off-two-resources", "multi_off", [("scope", "orders:read billing:read")],
     err("invalid_scope", MULTI)),
    ("multi-off-name-in-both", "multi_off", [("scope", "shared")], err("invalid_scope", MULTI)),
    ("multi-on-two-resources-keeps-order", "multi_on", [("scope", "billing:read orders:read")],
     ok({ORDERS, BILLING}, "billing:read orders:read", 900)),
    ("multi-on-one-resource", "multi_on", [("scope", "billing:read")],
     ok([BILLING], "billing:read", 1200)),
    ("multi-on-name-in-both", "multi_on", [("scope", "shared")],
     ok({ORDERS, BILLING}, "shared", 900)),
    # Nothing granted: workers.
    ("worker-roles-oidc-names", "worker_roles",
     [("scope", "openid profile unknown p1:read:user email")],
     ok([API], "openid profile email", 3600)),
    ("worker-roles-oidc-order-dups", "worker_roles", [("scope", "phone address openid phone")],
     ok([API], "phone address openid", 3600)),
    ("worker-roles-no-oidc-names", "worker_roles", [("scope", "unknown p1:read:user")],
     ok([API], None, 3600)),
    ("worker-noroles-with-scope", "worker_noroles", [("scope", "openid")],
     err("unauthorized_client")),
    ("worker-roles-and-resource-openid", "worker_roles_res", [("scope", "openid")],
     err("invalid_scope", contains=["openid"])),
    ("worker-roles-and-resource-granted", "worker_roles_res", [("scope", "orders:read openid")],
     ok([ORDERS], "orders:read", 900)),

    # --- resource (RFC 8707) -------------------------------------------------------------------
    ("resource-own", "one", [("resource", ORDERS)],
     ok([ORDERS], frozenset({"orders:read", "orders:write"}), 900)),
    ("resource-own-twice", "one", [("resource", ORDERS), ("resource", ORDERS)],
     ok([ORDERS], frozenset({"orders:read", "orders:write"}), 900)),
    ("resource-empty-is-absent", "one", [("resource", "")],
     ok([ORDERS], frozenset({"orders:read", "orders:write"}), 900)),
    ("resource-not-granted", "one", [("resource", BILLING)], err("invalid_target")),
    ("resource-unknown", "one", [("resource", "https://nowhere.example.test")],
     err("invalid_target")),
    ("resource-one-good-one-bad", "one", [("resource", ORDERS), ("resource", BILLING)],
     err("invalid_target")),
    ("resource-worker-without-resources", "worker_roles", [("resource", ORDERS)],
     err("invalid_target")),
    ("resource-narrows-multi-off", "multi_off", [("resource", ORDERS)],
     ok([ORDERS], frozenset({"orders:read", "shared"}), 900)),
    ("resource-narrows-shared-name", "multi_off", [("resource", BILLING), ("scope", "shared")],
     ok([BILLING], "shared", 1200)),
    ("resource-excludes-other-scopes", "multi_off",
     [("resource", ORDERS), ("scope", "billing:read")],
     err("invalid_scope", contains=["billing:read"])),
    ("resource-both-multi-off", "multi_off", [("resource", ORDERS), ("resource", BILLING)],
     err("invalid_scope", MULTI)),
    ("resource-both-multi-on", "multi_on", [("resource", BILLING), ("resource", ORDERS)],
     ok({ORDERS, BILLING}, frozenset({"orders:read", "shared", "billing:read"}), 900)),
    ("resource-narrows-multi-on", "multi_on", [("resource", BILLING)],
     ok([BILLING], frozenset({"billing:read", "shared"}), 1200)),
]


@pytest.mark.parametrize("app,params,expect", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_scope_and_audience(client, main_server, app, params, expect):
    body = urllib.parse.urlencode([("grant_type", "client_credentials"), *params])
    cid, secret = client.creds(app)
    resp = client.post(body, headers={"Authorization": basic(cid, secret)})
    if expect[0] == "err":
        _, code, description, contains = expect
        body = assert_oauth_error(resp, 400, code, VALIDATION, description)
        for name in contains:
            assert name in body["error_description"], body
        return

    _, aud, scope, lifetime = expect
    assert resp.status_code == 200, resp.text
    data = resp.json()
    _, claims = jwt_parts(data["access_token"])
    api = main_server.base_url
    if isinstance(aud, set):
        assert isinstance(claims["aud"], list)
        assert len(claims["aud"]) == len(aud) and set(claims["aud"]) == aud, claims["aud"]
    else:
        assert claims["aud"] == [api if a is API else a for a in aud]
    if scope is None:
        assert "scope" not in claims, claims
        assert "scope" not in data, data
    elif isinstance(scope, frozenset):
        names = claims["scope"].split(" ")
        assert len(names) == len(scope) and set(names) == scope, claims["scope"]
        assert data["scope"] == claims["scope"]
    else:
        assert claims["scope"] == scope
        assert data["scope"] == scope
    assert claims["exp"] - claims["iat"] == lifetime
    assert data["expires_in"] == lifetime
    assert claims["client_id"] == cid
