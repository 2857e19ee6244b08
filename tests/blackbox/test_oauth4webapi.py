"""npm oauth4webapi 3.x, a strict modern client, unchanged against the real server (issue 14):
discovery by both of its algorithms (OpenID Connect's appended well-known URL and RFC 8414 §3.1's
path-inserted one), every client authentication method it has (private_key_jwt with an Ed25519
key made by WebCrypto, which it signs as RFC 9864's "Ed25519"), validateJwtAccessToken
(RFC 9068) on every token, and introspection and revocation through its own functions.

Three environments, configured through /v1 with the init credentials: tokens signed by the
default RSA key, by a key created as "Ed25519" and by one created as "EdDSA"; their orders
resource introspects with CLIENT_SECRET_BASIC, CLIENT_SECRET_POST and NONE in turn."""

import json
import os
import subprocess
import uuid

import pytest
import requests

from tollgate_server import serving

ORDERS = "https://orders.o4w.example.test"
# (default key's `algorithm` or None for the environment's initial RSA key, the JWS alg its
# tokens carry, the orders resource's introspectEndpointAuthMethod)
ENVIRONMENTS = [(None, "RS256", "CLIENT_SECRET_BASIC"),
                ("Ed25519", "Ed25519", "CLIENT_SECRET_POST"),
                ("EdDSA", "EdDSA", "NONE")]
METHODS = {"CLIENT_SECRET_BASIC": "client_secret_basic", "CLIENT_SECRET_POST": "client_secret_post",
           "CLIENT_SECRET_JWT": "client_secret_jwt", "PRIVATE_KEY_JWT": "private_key_jwt",
           "NONE": "none"}


class Admin:
    """/v1 with the Token Admin App's token (Organization Admin)."""

    def __init__(self, server):
        self.base = server.base_url
        resp = requests.post(server.token_url(), data={"grant_type": "client_credentials"},
                             auth=(server.admin["clientId"], server.admin["clientSecret"]),
                             timeout=30)
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]

    def call(self, method, path, body=None, expect=200):
        resp = requests.request(method, self.base + "/v1" + path, json=body, timeout=60,
                                headers={"Authorization": "Bearer " + self.token})
        assert resp.status_code == expect, (method, path, resp.status_code, resp.text)
        return resp.json()

    def create(self, path, body):
        return self.call("POST", path, body, expect=201)


@pytest.fixture(scope="module")
def server():
    with serving() as s:
        yield s


@pytest.fixture(scope="module")
def script(node_work):
    return os.path.join(node_work, "oauth4webapi.mjs")


def node(script, *args):
    out = subprocess.run(["node", script, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def provision(admin, script, key_algorithm, introspect_method):
    """An environment with an orders resource and one application per method; returns the
    plan for the node script and what the assertions need."""
    env = admin.create("/environments", {"name": "o4w-" + uuid.uuid4().hex[:8],
                                         "type": "SANDBOX"})
    env_id = env["id"]
    base = f"/environments/{env_id}"
    if key_algorithm:
        key = admin.create(base + "/keys", {"algorithm": key_algorithm, "default": True})
    else:
        key = [k for k in admin.call("GET", base + "/keys")["_embedded"]["keys"]
               if k["default"]][0]
    res = admin.create(base + "/resources", {"name": "orders", "audience": ORDERS,
                                             "introspectEndpointAuthMethod": introspect_method})
    scopes = [admin.create(f"{base}/resources/{res['id']}/scopes", {"name": n})["id"]
              for n in ("orders:read", "orders:write")]
    generated = node(script, "keygen")
    clients = []
    for method in ("CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT",
                   "PRIVATE_KEY_JWT", "NONE"):
        body = {"name": method.lower(), "enabled": True, "protocol": "OPENID_CONNECT",
                "type": "SERVICE", "grantTypes": ["CLIENT_CREDENTIALS"],
                "tokenEndpointAuthMethod": method}
        if method == "PRIVATE_KEY_JWT":
            # The public JWK exactly as WebCrypto exported it.
            body["jwks"] = json.dumps({"keys": [generated["jwk"]]})
        if method == "NONE":
            # A public client: RFC 6749 §4.4 is for confidential clients only.
            body["type"] = "SINGLE_PAGE_APP"
            body["grantTypes"] = ["AUTHORIZATION_CODE"]
        app = admin.create(base + "/applications", body)
        client = {"name": METHODS[method], "method": METHODS[method], "clientId": app["id"]}
        if method in ("CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT"):
            client["secret"] = admin.call("GET", f"{base}/applications/{app['id']}/secret")[
                "secret"]
        if method == "PRIVATE_KEY_JWT":
            client["pkcs8"] = generated["pkcs8"]
        if method != "NONE":
            admin.create(f"{base}/applications/{app['id']}/grants",
                         {"resource": {"id": res["id"]}, "scopes": [{"id": s} for s in scopes]})
        if method == "CLIENT_SECRET_POST":
            client["scope"] = "orders:read"
        clients.append(client)
    introspector = {"name": "resource", "method": METHODS[introspect_method],
                    "clientId": res["id"]}
    if introspect_method != "NONE":
        introspector["secret"] = admin.call("GET", f"{base}/resources/{res['id']}/secret")[
            "secret"]
    plan = {"issuer": f"{admin.base}/{env_id}/as", "audience": ORDERS, "clients": clients,
            "introspectors": [introspector]}
    return plan, key, generated["jwk"]


@pytest.mark.parametrize("key_algorithm,alg,introspect_method", ENVIRONMENTS)
def test_oauth4webapi(server, script, tmp_path, key_algorithm, alg, introspect_method):
    admin = Admin(server)
    plan, key, jwk = provision(admin, script, key_algorithm, introspect_method)
    assert "alg" not in jwk or jwk["alg"] in ("Ed25519", "EdDSA"), jwk
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    out = node(script, "run", str(plan_file))
    issuer = plan["issuer"]
    env_id = issuer.split("/")[-2]
    by_name = {c["name"]: c for c in plan["clients"]}

    # Discovery: OpenID Connect appends, RFC 8414 §3.1 inserts; one document, one cache policy.
    oidc, oauth2 = out["discovery"]["oidc"], out["discovery"]["oauth2"]
    assert oidc["fetched"] == [issuer + "/.well-known/openid-configuration"]
    assert oauth2["fetched"] == [
        f"{server.base_url}/.well-known/oauth-authorization-server/{env_id}/as"]
    assert oidc["metadata"] == oauth2["metadata"]
    assert oidc["cacheControl"] == oauth2["cacheControl"] == "public, max-age=300"
    metadata = oauth2["metadata"]
    assert metadata["issuer"] == issuer and metadata["token_endpoint"] == issuer + "/token"
    assert {"Ed25519", "EdDSA"} <= set(metadata["token_endpoint_auth_signing_alg_values_supported"])
    assert alg in metadata["id_token_signing_alg_values_supported"]

    # private_key_jwt: the library chose RFC 9864's name for the WebCrypto Ed25519 key, no kid.
    assert out["assertionHeaders"], out
    assert all(h == {"alg": "Ed25519"} for h in out["assertionHeaders"]), out["assertionHeaders"]

    # Every confidential client got a token that validateJwtAccessToken accepts (RFC 9068),
    # signed by the environment's default key under the name that key was created with.
    for name in ("client_secret_basic", "client_secret_post", "client_secret_jwt",
                 "private_key_jwt"):
        t = out["tokens"][name]
        assert "failed" not in t, (name, t)
        assert t["tokenType"] == "bearer" and t["expiresIn"] == 3600, (name, t)
        assert t["header"] == {"alg": alg, "typ": "at+jwt", "kid": key["id"]}, (name, t)
        claims = t["validated"].get("claims")
        assert claims is not None, (name, t["validated"])
        client_id = by_name[name]["clientId"]
        assert claims["client_id"] == claims["sub"] == client_id, claims
        assert claims["iss"] == issuer and claims["aud"] == [ORDERS], claims
        assert claims["exp"] - claims["iat"] == 3600, claims
        wanted = by_name[name].get("scope", "orders:read orders:write")
        assert sorted(claims["scope"].split()) == sorted(wanted.split()), claims
        assert (t["scope"] or "").split() == claims["scope"].split(), t
    # A public client has no client_credentials grant (RFC 6749 §4.4).
    none = out["tokens"]["none"]
    assert none.get("failed") and none["status"] == 400, none
    assert none["error"] == "unauthorized_client", none

    # Introspection: the resource (its own method, None() included) sees the first token; each
    # client sees its own.
    first = out["introspection"]["resource"]
    assert first.get("active") is True, first
    assert first["client_id"] == by_name["client_secret_basic"]["clientId"], first
    assert first["iss"] == issuer and ORDERS in first["aud"], first
    for name in ("client_secret_basic", "client_secret_post", "client_secret_jwt",
                 "private_key_jwt"):
        own = out["introspection"]["self:" + name]
        assert own.get("active") is True and own["client_id"] == by_name[name]["clientId"], own

    # Revocation by each holder: introspection answers inactive at once, while local validation
    # still accepts the token (a JWT is valid until exp; docs/compat: resource servers that must
    # honour revocation introspect).
    for name in ("client_secret_basic", "client_secret_post", "client_secret_jwt",
                 "private_key_jwt"):
        assert out["revocation"][name] == {"revoked": True, "status": 200}, out["revocation"]
        after = out["after"][name]
        assert after["introspection"] == {"active": False}, (name, after)
        assert after["validated"]["claims"]["client_id"] == by_name[name]["clientId"], after


def test_path_inserted_discovery_for_an_unknown_environment_is_404(server):
    for doc in ("oauth-authorization-server", "openid-configuration"):
        for env in (str(uuid.uuid4()), "not-an-environment"):
            for path in (f"/.well-known/{doc}/{env}/as", f"/{env}/as/.well-known/{doc}"):
                resp = requests.get(server.url(path), timeout=30)
                assert resp.status_code == 404, (path, resp.text)
                assert resp.json()["code"] == "NOT_FOUND", resp.text
