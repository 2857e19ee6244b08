"""Token exchange (RFC 8693) of JWTs from an environment's trusted issuers (docs/token-exchange.md,
"Trusted issuers") through the real binary, configured through /v1 from the init credentials.

The trusted issuer is played by the test: an RSA key made with `cryptography`, its JWK Set
exported with PyJWT and served by a loopback http.server (reached only with
--allow-private-fetch, docs/decisions/0005-fetch-address-policy.md); its tokens are minted with
PyJWT, exchanged with authlib's OAuth2Session.fetch_token, and every issued token is verified by
PyJWT against the environment's JWKS. The refusals go through plain requests.

One environment for the module:
  B (TOKEN_EXCHANGE, inventory)   exchanges the issuer's tokens
  idp ("https://idp.example.test", jwksUrl the loopback server, default audience)"""

import http.server
import json
import threading
import time
import uuid

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from admin_api import AdminApi
from tollgate_server import VALIDATION, assert_oauth_error, serving

API_URL = "https://api.trusted.example.test"
INVENTORY = "https://inventory.trusted.example.test"
IDP = "https://idp.example.test"
KID = "idp-key-1"

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"

STANDARD = {"aud", "client_id", "env", "exp", "iat", "iss", "jti", "org", "scope", "sub"}
NOT_VALID = "The subject token is not valid"


class KeyServer:
    """The trusted issuer's JWK Set on 127.0.0.1 (port 0): `keys` are the private keys whose
    public halves it serves, by kid. Counts the requests."""

    def __init__(self):
        self.keys = {}
        self.hits = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.hits += 1
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                body = json.dumps({"keys": [owner.jwk(kid, key)
                                            for kid, key in owner.keys.items()]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"

    @staticmethod
    def jwk(kid, key):
        # PyJWT 2.6's to_jwk answers JSON text (as_dict came later).
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update(kid=kid, alg="RS256", use="sig")
        return jwk

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def idp():
    keys = KeyServer()
    keys.keys[KID] = rsa_key()
    yield keys
    keys.close()


@pytest.fixture(scope="module")
def server():
    with serving(init_args=["--api-url", API_URL],
                 extra_args=["--api-url", API_URL, "--allow-private-fetch"]) as s:
        yield s


@pytest.fixture(scope="module")
def admin(server):
    return AdminApi(server)


class World:
    """The module's environment: its ID and issuer, the exchanger (app ID, secret), the trusted
    issuer as created and its signing key."""

    def __init__(self, admin, idp):
        self.admin = admin
        self.env = admin.create("/environments", {"name": f"trusted {uuid.uuid4().hex[:8]}",
                                                  "type": "SANDBOX"})["id"]
        self.issuer = f"{admin.server.base_url}/{self.env}/as"
        res = self.create("/resources", {"name": "inventory", "audience": INVENTORY,
                                         "accessTokenValiditySeconds": 3600})
        scope = self.create(f"/resources/{res['id']}/scopes", {"name": "stock"})
        app = self.create("/applications", {
            "name": f"exchanger {uuid.uuid4().hex[:8]}", "enabled": True,
            "protocol": "OPENID_CONNECT", "type": "SERVICE", "grantTypes": ["TOKEN_EXCHANGE"],
            "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC"})
        self.create(f"/applications/{app['id']}/grants",
                    {"resource": {"id": res["id"]}, "scopes": [{"id": scope["id"]}]})
        secret = admin.call(
            "GET", f"/environments/{self.env}/applications/{app['id']}/secret")["secret"]
        self.exchanger = (app["id"], secret)
        self.idp_key = idp.keys[KID]
        self.trusted = self.create("/trustedIssuers",
                                   {"name": "idp", "issuer": IDP, "jwksUrl": idp.url})

    def path(self, suffix=""):
        return f"/environments/{self.env}{suffix}"

    def create(self, path, body):
        return self.admin.create(self.path(path), body)


@pytest.fixture(scope="module")
def world(admin, idp):
    return World(admin, idp)


def mint(world, sub, key=None, kid=KID, **claims):
    """A JWT of the idp about `sub`, addressed to the environment, live 300 s; `claims` replace
    or (None) remove members."""
    now = int(time.time())
    body = {"iss": IDP, "sub": sub, "aud": world.issuer, "iat": now, "exp": now + 300,
            "jti": uuid.uuid4().hex}
    for name, value in claims.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return jwt.encode(body, key or world.idp_key, algorithm="RS256", headers={"kid": kid})


def exchange_with_authlib(server, world, subject, actor=None):
    """authlib's fetch_token with the token-exchange grant and client_secret_basic."""
    app, secret = world.exchanger
    extra = {"subject_token": subject, "subject_token_type": JWT_TYPE}
    if actor is not None:
        extra.update(actor_token=actor, actor_token_type=JWT_TYPE)
    with OAuth2Session(app, secret) as session:
        return session.fetch_token(server.token_url(world.env), grant_type=EXCHANGE, **extra)


def exchange(server, world, subject, **form):
    """A token-exchange request with plain requests and client_secret_basic."""
    app, secret = world.exchanger
    data = {"grant_type": EXCHANGE, "subject_token": subject, "subject_token_type": JWT_TYPE,
            **form}
    return requests.post(server.token_url(world.env), data=data, auth=(app, secret), timeout=30)


def verify(server, world, token):
    """PyJWT against the environment's published JWKS; returns the claims."""
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    key = jwt.PyJWKClient(f"{server.base_url}/{world.env}/as/jwks").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=INVENTORY,
                      issuer=world.issuer,
                      options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})


def test_the_trusted_issuer_as_created(world, idp):
    t = world.trusted
    assert t["issuer"] == IDP, t
    assert t["jwksUrl"] == idp.url, t
    assert t["audience"] == world.issuer, "defaults to the environment's issuer"
    assert t["enabled"] is True, t
    assert t["environment"]["id"] == world.env, t
    listed = world.admin.call("GET", world.path("/trustedIssuers"))
    assert [x["id"] for x in listed["_embedded"]["trustedIssuers"]] == [t["id"]], listed
    assert world.admin.call("GET", world.path(f"/trustedIssuers/{t['id']}")) == t


def test_external_subject_is_exchanged(server, world, idp):
    subject = mint(world, "user-42", email="user-42@idp.example.test")
    token = exchange_with_authlib(server, world, subject)
    assert token["issued_token_type"] == ACCESS, token
    assert token["token_type"] == "Bearer", token
    assert token["scope"] == "stock", token
    claims = verify(server, world, token["access_token"])
    assert set(claims) == STANDARD, claims
    assert claims["sub"] == "user-42", claims
    assert claims["client_id"] == world.exchanger[0], claims
    assert claims["aud"] == [INVENTORY], claims
    assert claims["env"] == world.env, claims
    assert "act" not in claims, claims
    # Capped by the external token's exp (300 s), below the resource's 3600 s.
    external = jwt.decode(subject, options={"verify_signature": False})
    assert claims["exp"] <= external["exp"], (claims, external)
    assert token["expires_in"] <= 300, token
    assert idp.hits >= 1


def test_external_actor_is_named_with_its_issuer(server, world):
    token = exchange_with_authlib(server, world, mint(world, "user-42"),
                                  actor=mint(world, "agent-7"))
    claims = verify(server, world, token["access_token"])
    assert set(claims) == STANDARD | {"act"}, claims
    assert claims["sub"] == "user-42", claims
    assert claims["act"] == {"sub": "agent-7", "iss": IDP}, claims
    assert claims["client_id"] == world.exchanger[0], claims


def test_refusals_through_http(server, world):
    now = int(time.time())
    cases = [
        ("aud another service's", mint(world, "user-42", aud="https://elsewhere.example.test")),
        ("no aud", mint(world, "user-42", aud=None)),
        ("unknown issuer", mint(world, "user-42", iss="https://unknown.example.test")),
        ("expired an hour ago", mint(world, "user-42", iat=now - 7200, exp=now - 3600)),
        ("signed by another key", mint(world, "user-42", key=rsa_key())),
        ("an unknown kid", mint(world, "user-42", kid="idp-key-2")),
    ]
    for name, token in cases:
        resp = exchange(server, world, token)
        assert_oauth_error(resp, 400, "invalid_request", VALIDATION, NOT_VALID)
        # And as the actor token, beside a valid subject.
        resp = exchange(server, world, mint(world, "user-42"), actor_token=token,
                        actor_token_type=JWT_TYPE)
        assert_oauth_error(resp, 400, "invalid_request", VALIDATION,
                           "The actor token is not valid")
        assert name not in resp.text

    # The same issuer and key pass: the failures above are the cases'.
    resp = exchange(server, world, mint(world, "user-42"), actor_token=mint(world, "agent-7"),
                    actor_token_type=JWT_TYPE)
    assert resp.status_code == 200, resp.text


def test_disabled_issuer_is_refused(server, world, idp):
    t = world.trusted
    body = {"name": t["name"], "issuer": t["issuer"], "jwksUrl": t["jwksUrl"]}
    subject = mint(world, "user-42")
    assert exchange(server, world, subject).status_code == 200
    try:
        off = world.admin.call("PUT", world.path(f"/trustedIssuers/{t['id']}"),
                               {**body, "enabled": False})
        assert off["enabled"] is False, off
        resp = exchange(server, world, subject)
        assert_oauth_error(resp, 400, "invalid_request", VALIDATION, NOT_VALID)
    finally:
        on = world.admin.call("PUT", world.path(f"/trustedIssuers/{t['id']}"), body)
    assert on["enabled"] is True, "enabled defaults to true on PUT too"
    assert exchange(server, world, subject).status_code == 200


def test_only_admins_write_trusted_issuers(server, world, admin, idp):
    roles = {r["name"]: r["id"]
             for r in admin.call("GET", "/roles")["_embedded"]["roles"]}
    worker = world.create("/applications", {
        "name": f"reader {uuid.uuid4().hex[:8]}", "enabled": True, "protocol": "OPENID_CONNECT",
        "type": "WORKER", "grantTypes": ["CLIENT_CREDENTIALS"],
        "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC"})
    world.create(f"/applications/{worker['id']}/roleAssignments",
                 {"role": {"id": roles["Configuration Read Only"]},
                  "scope": {"id": world.env, "type": "ENVIRONMENT"}})
    secret = admin.call(
        "GET", world.path(f"/applications/{worker['id']}/secret"))["secret"]
    reader = AdminApi(server, worker["id"], secret, world.env)

    listed = reader.call("GET", world.path("/trustedIssuers"))
    assert [x["issuer"] for x in listed["_embedded"]["trustedIssuers"]] == [IDP], listed
    body = {"name": "other", "issuer": "https://other.example.test", "jwksUrl": idp.url}
    resp = reader.request("POST", world.path("/trustedIssuers"), body)
    assert resp.status_code == 403, (resp.status_code, resp.text)
    assert resp.json()["code"] == "ACCESS_FAILED", resp.text
    resp = reader.request("PUT", world.path(f"/trustedIssuers/{world.trusted['id']}"),
                          {"name": "idp", "issuer": IDP, "jwksUrl": idp.url, "enabled": False})
    assert resp.status_code == 403, (resp.status_code, resp.text)
    resp = reader.request("DELETE", world.path(f"/trustedIssuers/{world.trusted['id']}"))
    assert resp.status_code == 403, (resp.status_code, resp.text)
    after = admin.call("GET", world.path("/trustedIssuers"))
    assert [x["issuer"] for x in after["_embedded"]["trustedIssuers"]] == [IDP], after
    assert after["_embedded"]["trustedIssuers"][0]["enabled"] is True, after

    # The environment's own issuer is refused, even to the admin.
    resp = admin.request("POST", world.path("/trustedIssuers"),
                         {"name": "self", "issuer": world.issuer, "jwksUrl": idp.url})
    assert resp.status_code == 400, (resp.status_code, resp.text)
    err = resp.json()
    assert err["code"] == "INVALID_DATA", err
    assert [d["target"] for d in err["details"]] == ["issuer"], err
