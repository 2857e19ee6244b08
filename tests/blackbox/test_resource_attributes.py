"""Resource attributes (PingOne's custom claims, docs/token-customization.md) through the real
binary, configured with Python requests through /v1 from the init credentials alone, and checked
by clients that share no code with the server: PyJWT against the environment's JWKS, node's jose
(the same token) and openid-client (its own token), authlib's PrivateKeyJWT building the client
assertion whose claims and header an attribute reads. Also: the write-time refusals, a failing
expression left out and counted on /metrics, a token with 16 KB of custom claims through PyJWT
and introspection, and PUT / DELETE reaching the next token.

Every test makes its own environment on the module's server, so the claim names of one test
never meet another's (a name has one value across an environment's resources)."""

import json
import os
import subprocess
import uuid

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from admin_api import AdminApi
from tollgate_server import serving

API_URL = "https://api.attributes.example.test"
ORDERS = "https://orders.attributes.example.test"
INVENTORY = "https://inventory.attributes.example.test"
LEFT_OUT = "tollgate_token_claims_left_out_total"
# What every client_credentials token carries besides the custom claims (SPEC 2.6).
STANDARD = {"aud", "client_id", "env", "exp", "iat", "iss", "jti", "org", "scope", "sub"}

AUTH_KIND = ("${#root.context.appConfig.tokenEndpointAuthMethod == 'CLIENT_SECRET_BASIC'"
             " ? 'basic' : 'other'}")


@pytest.fixture(scope="module")
def server():
    with serving(init_args=["--api-url", API_URL], extra_args=["--api-url", API_URL]) as s:
        yield s


@pytest.fixture(scope="module")
def admin(server):
    return AdminApi(server)


def environment(admin, audiences=(ORDERS,)):
    """A new environment with one CUSTOM resource per audience, each with the scope `read`.
    Returns (env ID, {audience: (resource ID, scope ID)})."""
    env = admin.create("/environments", {"name": f"attributes {uuid.uuid4().hex[:8]}",
                                         "type": "SANDBOX"})["id"]
    resources = {}
    for audience in audiences:
        res = admin.create(f"/environments/{env}/resources",
                           {"name": audience.split("//")[1].split(".")[0], "audience": audience})
        scope = admin.create(f"/environments/{env}/resources/{res['id']}/scopes",
                             {"name": "read"})
        resources[audience] = (res["id"], scope["id"])
    return env, resources


def application(admin, env, grants, method="CLIENT_SECRET_BASIC", **extra):
    """A SERVICE application with `method`, granted each (resource ID, scope ID) of `grants`.
    Returns (app ID, secret; None for PRIVATE_KEY_JWT)."""
    body = {"name": f"{method.lower()} {uuid.uuid4().hex[:8]}", "enabled": True,
            "protocol": "OPENID_CONNECT", "type": "SERVICE",
            "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod": method, **extra}
    app = admin.create(f"/environments/{env}/applications", body)["id"]
    for res, scope in grants:
        admin.create(f"/environments/{env}/applications/{app}/grants",
                     {"resource": {"id": res}, "scopes": [{"id": scope}]})
    secret = None
    if method != "PRIVATE_KEY_JWT":
        secret = admin.call("GET", f"/environments/{env}/applications/{app}/secret")["secret"]
    return app, secret


def attributes_path(env, res):
    return f"/environments/{env}/resources/{res}/attributes"


def add_attribute(admin, env, res, name, value):
    attr = admin.create(attributes_path(env, res), {"name": name, "value": value})
    assert attr["name"] == name and attr["value"] == value, attr
    assert attr["type"] == "CUSTOM", attr
    assert attr["resource"] == {"id": res} and attr["environment"] == {"id": env}, attr
    return attr


def basic_token(server, env, app, secret):
    """A client_credentials token with plain requests, client_secret_basic."""
    resp = requests.post(server.token_url(env), data={"grant_type": "client_credentials"},
                         auth=(app, secret), timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def verify(server, env, token, audience):
    """PyJWT against the environment's published JWKS; returns the claims."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt", header
    key = jwt.PyJWKClient(f"{server.base_url}/{env}/as/jwks").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience,
                      issuer=f"{server.base_url}/{env}/as",
                      options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})


def custom(claims):
    return {k: v for k, v in claims.items() if k not in STANDARD}


def node(node_work, script, *args):
    out = subprocess.run(["node", os.path.join(node_work, script), *args], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    print(out.stdout.strip())
    return json.loads(out.stdout)


def invalid(admin, env, res, body, target, path=None, method="POST"):
    """A 400 INVALID_DATA answer whose first detail names `target`; returns that detail."""
    err = admin.call(method, path or attributes_path(env, res), body, expect=400)
    assert err["code"] == "INVALID_DATA", err
    assert err["details"][0]["target"] == target, err
    return err["details"][0]


def test_claims_verified_by_pyjwt_and_jose(server, admin, node_work):
    env, resources = environment(admin)
    res, scope = resources[ORDERS]
    basic_app, basic_secret = application(admin, env, [(res, scope)])
    post_app, post_secret = application(admin, env, [(res, scope)], "CLIENT_SECRET_POST")
    made = [add_attribute(admin, env, res, "tier", "gold"),
            add_attribute(admin, env, res, "service",
                          "${'svc-' + #root.context.appConfig.clientId}"),
            add_attribute(admin, env, res, "auth_kind", AUTH_KIND)]
    listed = admin.call("GET", attributes_path(env, res))["_embedded"]["attributes"]
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in made)
    assert admin.call("GET", f"{attributes_path(env, res)}/{made[1]['id']}") == made[1]

    token = basic_token(server, env, basic_app, basic_secret)
    claims = verify(server, env, token, ORDERS)
    assert custom(claims) == {"tier": "gold", "service": "svc-" + basic_app,
                              "auth_kind": "basic"}, claims
    assert claims["client_id"] == basic_app and claims["aud"] == [ORDERS]

    # The same token, verified by jose against the remote JWKS.
    issuer = f"{server.base_url}/{env}/as"
    by_jose = node(node_work, "verify_token.mjs", issuer, ORDERS, token)
    assert by_jose["claims"] == claims
    assert by_jose["header"]["alg"] == "RS256"

    # openid-client's own token (discovery, client_secret_post), verified by jose.
    result = node(node_work, "client_credentials.mjs", issuer, post_app, post_secret, ORDERS,
                  "client_secret_post")
    assert custom(result["claims"]) == {"tier": "gold", "service": "svc-" + post_app,
                                        "auth_kind": "other"}, result


def test_write_time_errors(admin):
    env, resources = environment(admin, (ORDERS, INVENTORY))
    orders, _ = resources[ORDERS]
    inventory, _ = resources[INVENTORY]
    for name in ("sub", "p1.x"):
        detail = invalid(admin, env, orders, {"name": name, "value": "v"}, "name")
        assert "reserved" in detail["message"], detail
    detail = invalid(admin, env, orders,
                     {"name": "cid", "value": "${#root.context.appConfig.clientID}"}, "value")
    assert "position" in detail["message"] and "clientID" in detail["message"], detail
    detail = invalid(admin, env, orders, {"name": "q", "value": "${'unterminated}"}, "value")
    assert "position" in detail["message"], detail
    invalid(admin, env, orders, {"name": "t", "value": "v", "type": "CORE"}, "type")

    add_attribute(admin, env, orders, "region", "eu")
    # The same claim name with another value on a second resource of the environment.
    detail = invalid(admin, env, inventory, {"name": "region", "value": "us"}, "name")
    assert orders in detail["message"], detail
    # With the same value it is allowed.
    add_attribute(admin, env, inventory, "region", "eu")
    assert [a["name"] for a in admin.call("GET", attributes_path(env, orders))[
        "_embedded"]["attributes"]] == ["region"]


class PrivateKeyJWTWithKid(PrivateKeyJWT):
    """authlib 1.2's PrivateKeyJWT drops its `headers` argument; this one sends them (the kid),
    through authlib's own private_key_jwt_sign."""

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(auth.client_secret, client_id=auth.client_id,
                                    token_endpoint=token_endpoint, claims=dict(self.claims),
                                    header=dict(self.headers), alg=self.alg)


def test_private_key_jwt_assertion_claims(server, admin):
    env, resources = environment(admin)
    res, scope = resources[ORDERS]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    jwk = JsonWebKey.import_key(pem).as_dict(is_private=False)
    jwk["kid"] = "workload-key-1"
    app, _ = application(admin, env, [(res, scope)], "PRIVATE_KEY_JWT",
                         jwks=json.dumps({"keys": [jwk]}))
    add_attribute(admin, env, res, "tenant", "${#root.context.requestData.clientAssertion.tenant}")
    add_attribute(admin, env, res, "key_id",
                  "${#root.context.requestData.clientAssertionHeader.kid}")
    add_attribute(admin, env, res, "auth_kind", AUTH_KIND)
    add_attribute(admin, env, res, "region",
                  "${#root.context.requestData.clientAssertion.region ?: 'none'}")

    url = server.token_url(env)
    with OAuth2Session(app, pem, token_endpoint_auth_method=PrivateKeyJWT.name) as session:
        session.register_client_auth_method(PrivateKeyJWTWithKid(
            url, claims={"tenant": "acme"}, headers={"kid": "workload-key-1"}))
        token = session.fetch_token(url, grant_type="client_credentials")
    claims = verify(server, env, token["access_token"], ORDERS)
    assert custom(claims) == {"tenant": "acme", "key_id": "workload-key-1",
                              "auth_kind": "other", "region": "none"}, claims
    assert claims["client_id"] == app


def test_failing_expression_is_left_out_and_counted(server, admin):
    env, resources = environment(admin)
    res, scope = resources[ORDERS]
    app, secret = application(admin, env, [(res, scope)])
    add_attribute(admin, env, res, "kept", "yes")
    # A basic-auth client has no assertion: null + 'x' fails at token time.
    add_attribute(admin, env, res, "broken",
                  "${#root.context.requestData.clientAssertion.missing + 'x'}")
    before = metric_value(server, LEFT_OUT)
    token = basic_token(server, env, app, secret)
    after = metric_value(server, LEFT_OUT)
    claims = verify(server, env, token, ORDERS)
    assert custom(claims) == {"kept": "yes"}, claims
    assert after == before + 1, (before, after)


def metric_value(server, name):
    text = requests.get(server.url("/metrics"), timeout=30).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name} in:\n{text}")


def test_large_claims_verify_and_introspect(server, admin):
    env, resources = environment(admin)
    res, scope = resources[ORDERS]
    app, secret = application(admin, env, [(res, scope)])
    # Four static claims of 4,000 characters: 16,040 bytes of the 16,384 a token may carry.
    big = {f"blob{i}": chr(ord("a") + i) * 4000 for i in range(4)}
    for name, value in big.items():
        add_attribute(admin, env, res, name, value)
    before = metric_value(server, LEFT_OUT)
    token = basic_token(server, env, app, secret)
    assert len(token) > 16 * 1024, len(token)
    claims = verify(server, env, token, ORDERS)
    assert custom(claims) == big
    assert metric_value(server, LEFT_OUT) == before

    # Introspection takes the ~22 KB token (bodies up to 32 KiB); the app asks about its own.
    resp = requests.post(f"{server.base_url}/{env}/as/introspect", data={"token": token},
                         auth=(app, secret), timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["active"] is True, body
    assert body["jti"] == claims["jti"] and body["client_id"] == app, body
    # RFC 7662 section 2.2: the custom claims come back with the standard ones.
    assert {k: body[k] for k in big} == big
    assert set(body) == set(claims) | {"active", "token_type"}, sorted(body)


def test_update_and_delete_reach_the_next_token(server, admin):
    env, resources = environment(admin)
    res, scope = resources[ORDERS]
    app, secret = application(admin, env, [(res, scope)])
    plan = add_attribute(admin, env, res, "plan", "free")
    add_attribute(admin, env, res, "tier", "gold")
    assert custom(verify(server, env, basic_token(server, env, app, secret), ORDERS)) == {
        "plan": "free", "tier": "gold"}

    path = f"{attributes_path(env, res)}/{plan['id']}"
    updated = admin.call("PUT", path, {"name": "plan",
                                       "value": "${'paid-' + #root.context.appConfig.clientId}"})
    assert updated["id"] == plan["id"] and updated["value"].startswith("${'paid-"), updated
    assert admin.call("GET", path) == updated
    assert custom(verify(server, env, basic_token(server, env, app, secret), ORDERS)) == {
        "plan": "paid-" + app, "tier": "gold"}

    # A rename through PUT: the old name leaves the token, the new one comes.
    admin.call("PUT", path, {"name": "billing_plan", "value": "enterprise"})
    assert custom(verify(server, env, basic_token(server, env, app, secret), ORDERS)) == {
        "billing_plan": "enterprise", "tier": "gold"}

    admin.call("DELETE", path, expect=204)
    admin.call("GET", path, expect=404)
    assert custom(verify(server, env, basic_token(server, env, app, secret), ORDERS)) == {
        "tier": "gold"}
