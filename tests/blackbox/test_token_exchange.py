"""RFC 8693 token exchange (src/oauth/grants/token_exchange.cc) through the real binary,
configured through /v1 from the init credentials, driven by clients that share no code with the
server: authlib's OAuth2Session.fetch_token with the token-exchange grant, node oauth4webapi's
genericTokenEndpointRequest, and plain requests for the errors. Every issued token is verified
by PyJWT against the environment's JWKS (or by oauth4webapi's validateJwtAccessToken).

One environment for the module:
  A (CLIENT_CREDENTIALS, orders)    owns the subject tokens
  C, E (CLIENT_CREDENTIALS, ops)    actors
  B (TOKEN_EXCHANGE, inventory)     exchanges A's token with actor C
  D (TOKEN_EXCHANGE, ledger)        exchanges B's result with actor E
  R (TOKEN_EXCHANGE, reports)       its resource has an attribute reading the subject token"""

import json
import os
import subprocess
import urllib.parse
import uuid

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from admin_api import AdminApi
from tollgate_server import VALIDATION, assert_oauth_error, serving

API_URL = "https://api.exchange.example.test"
ORDERS = "https://orders.exchange.example.test"
OPS = "https://ops.exchange.example.test"
INVENTORY = "https://inventory.exchange.example.test"
LEDGER = "https://ledger.exchange.example.test"
REPORTS = "https://reports.exchange.example.test"

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"


@pytest.fixture(scope="module")
def server():
    with serving(init_args=["--api-url", API_URL], extra_args=["--api-url", API_URL]) as s:
        yield s


@pytest.fixture(scope="module")
def admin(server):
    return AdminApi(server)


class World:
    """The module's environment: its ID, resource IDs by audience and (app ID, secret) by
    letter."""

    def __init__(self, admin):
        self.admin = admin
        self.env = admin.create("/environments", {"name": f"exchange {uuid.uuid4().hex[:8]}",
                                                  "type": "SANDBOX"})["id"]
        self.resources = {}
        for audience, validity, scope in ((ORDERS, 600, "read"), (OPS, 3600, "act"),
                                          (INVENTORY, 3600, "stock"), (LEDGER, 3600, "book"),
                                          (REPORTS, 3600, "report")):
            res = self.create("/resources", {"name": audience.split("//")[1].split(".")[0],
                                             "audience": audience,
                                             "accessTokenValiditySeconds": validity})
            assert res["accessTokenValiditySeconds"] == validity, res
            sc = self.create(f"/resources/{res['id']}/scopes", {"name": scope})
            self.resources[audience] = (res["id"], sc["id"])
        self.apps = {
            "A": self.application(["CLIENT_CREDENTIALS"], ORDERS),
            "C": self.application(["CLIENT_CREDENTIALS"], OPS),
            "E": self.application(["CLIENT_CREDENTIALS"], OPS),
            "B": self.application(["TOKEN_EXCHANGE"], INVENTORY),
            "D": self.application(["TOKEN_EXCHANGE", "CLIENT_CREDENTIALS"], LEDGER),
            "R": self.application(["TOKEN_EXCHANGE"], REPORTS),
        }

    def create(self, path, body):
        return self.admin.create(f"/environments/{self.env}" + path, body)

    def application(self, grant_types, audience, method="CLIENT_SECRET_BASIC"):
        body = {"name": f"app {uuid.uuid4().hex[:8]}", "enabled": True,
                "protocol": "OPENID_CONNECT", "type": "SERVICE", "grantTypes": grant_types,
                "tokenEndpointAuthMethod": method}
        app = self.create("/applications", body)
        assert app["grantTypes"] == grant_types, app
        res, scope = self.resources[audience]
        self.create(f"/applications/{app['id']}/grants",
                    {"resource": {"id": res}, "scopes": [{"id": scope}]})
        secret = self.admin.call(
            "GET", f"/environments/{self.env}/applications/{app['id']}/secret")["secret"]
        return app["id"], secret


@pytest.fixture(scope="module")
def world(admin):
    return World(admin)


def token_url(server, world):
    return server.token_url(world.env)


def own_token(server, world, letter):
    """A client_credentials token of app `letter`, with plain requests."""
    app, secret = world.apps[letter]
    resp = requests.post(token_url(server, world), data={"grant_type": "client_credentials"},
                         auth=(app, secret), timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def verify(server, world, token, audience):
    """PyJWT against the environment's published JWKS; returns the claims."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt", header
    key = jwt.PyJWKClient(f"{server.base_url}/{world.env}/as/jwks").get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience,
                      issuer=f"{server.base_url}/{world.env}/as",
                      options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})


def exchange_with_authlib(server, world, letter, subject, actor=None):
    """authlib's fetch_token with the token-exchange grant and client_secret_basic; returns
    (token response, the form authlib sent)."""
    app, secret = world.apps[letter]
    extra = {"subject_token": subject, "subject_token_type": ACCESS}
    if actor is not None:
        extra.update(actor_token=actor, actor_token_type=ACCESS)
    sent = []
    with OAuth2Session(app, secret) as session:
        session.hooks["response"].append(lambda resp, *a, **k: sent.append(resp.request))
        token = session.fetch_token(token_url(server, world), grant_type=EXCHANGE, **extra)
    assert len(sent) == 1, sent
    form = urllib.parse.parse_qs(sent[0].body)
    assert sent[0].headers["Authorization"].startswith("Basic "), sent[0].headers
    return token, form


def exchange(server, world, letter, **form):
    """A token-exchange request with plain requests and client_secret_basic."""
    app, secret = world.apps[letter]
    return requests.post(token_url(server, world), data={"grant_type": EXCHANGE, **form},
                         auth=(app, secret), timeout=30)


STANDARD = {"aud", "client_id", "env", "exp", "iat", "iss", "jti", "org", "scope", "sub"}


def test_two_exchanges_build_the_delegation_chain(server, world):
    a_token = own_token(server, world, "A")
    a_claims = verify(server, world, a_token, ORDERS)
    app_a, _ = world.apps["A"]
    app_b, _ = world.apps["B"]
    app_c, _ = world.apps["C"]
    app_d, _ = world.apps["D"]
    app_e, _ = world.apps["E"]

    # B exchanges A's token, C acting.
    first, form = exchange_with_authlib(server, world, "B", a_token,
                                        own_token(server, world, "C"))
    # authlib passed the extra keyword arguments through as form fields, and nothing else.
    assert form == {"grant_type": [EXCHANGE], "subject_token": [a_token],
                    "subject_token_type": [ACCESS], "actor_token": [form["actor_token"][0]],
                    "actor_token_type": [ACCESS]}, form
    assert first["issued_token_type"] == ACCESS, first
    assert first["token_type"] == "Bearer", first
    assert first["scope"] == "stock", first
    one = verify(server, world, first["access_token"], INVENTORY)
    assert set(one) == STANDARD | {"act"}, one
    assert one["sub"] == app_a, one
    assert one["client_id"] == app_b, one
    assert one["aud"] == [INVENTORY], one
    assert one["scope"] == "stock", one
    assert one["act"] == {"sub": app_c}, one
    assert one["env"] == world.env and one["org"] == a_claims["org"], one
    # Capped at the subject token's end (orders: 600 s), below inventory's 3600 s.
    assert one["exp"] == a_claims["exp"], (one, a_claims)
    assert first["expires_in"] == one["exp"] - one["iat"] <= 600, first

    # D exchanges that result, E acting: E is now the actor and C the one before.
    second, _ = exchange_with_authlib(server, world, "D", first["access_token"],
                                      own_token(server, world, "E"))
    assert second["issued_token_type"] == ACCESS, second
    two = verify(server, world, second["access_token"], LEDGER)
    assert set(two) == STANDARD | {"act"}, two
    assert two["sub"] == app_a, two
    assert two["client_id"] == app_d, two
    assert two["aud"] == [LEDGER], two
    assert two["scope"] == "book", two
    assert two["act"] == {"sub": app_e, "act": {"sub": app_c}}, two
    assert two["exp"] == a_claims["exp"], (two, a_claims)
    assert two["jti"] not in (one["jti"], a_claims["jti"])

    # Without an actor token the chain is carried as it was.
    third, form = exchange_with_authlib(server, world, "D", first["access_token"])
    assert "actor_token" not in form and "actor_token_type" not in form, form
    assert verify(server, world, third["access_token"], LEDGER)["act"] == {"sub": app_c}


def test_exchange_with_oauth4webapi(server, world, node_work):
    a_token = own_token(server, world, "A")
    app_b, secret_b = world.apps["B"]
    plan = {"issuer": f"{server.base_url}/{world.env}/as", "clientId": app_b, "secret": secret_b,
            "audience": INVENTORY, "subjectToken": a_token, "subjectTokenType": ACCESS,
            "actorToken": own_token(server, world, "C"), "actorTokenType": ACCESS}
    out = subprocess.run(["node", os.path.join(node_work, "token_exchange.mjs"), json.dumps(plan)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert not result.get("failed"), result
    assert EXCHANGE in result["grantTypes"], result
    response = result["response"]
    assert response["issued_token_type"] == ACCESS, response
    assert response["token_type"].lower() == "bearer", response
    assert response["scope"] == "stock", response
    # oauth4webapi validated the token (RFC 9068); PyJWT checks the same token again.
    claims = verify(server, world, response["access_token"], INVENTORY)
    assert result["claims"] == claims, (result["claims"], claims)
    assert claims["sub"] == world.apps["A"][0], claims
    assert claims["client_id"] == app_b, claims
    assert claims["act"] == {"sub": world.apps["C"][0]}, claims
    assert claims["aud"] == [INVENTORY], claims


def test_discovery_lists_the_grant(server, world):
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        resp = requests.get(f"{server.base_url}/{world.env}/as{path}", timeout=30)
        assert resp.status_code == 200, resp.text
        grants = resp.json()["grant_types_supported"]
        assert EXCHANGE in grants and "client_credentials" in grants, grants


def test_errors_through_http(server, world):
    a_token = own_token(server, world, "A")
    prefix_types = f"subject_token_type must be {ACCESS} or {JWT_TYPE}"
    cases = [
        # (who, form, status, error, description)
        ("B", {"subject_token_type": ACCESS}, 400, "invalid_request",
         "subject_token is required"),
        ("B", {"subject_token": a_token, "subject_token_type": ID_TOKEN}, 400,
         "invalid_request", prefix_types),
        ("B", {"subject_token": "not-a-token", "subject_token_type": ACCESS}, 400,
         "invalid_request", "The subject token is not valid"),
        ("B", {"subject_token": a_token, "subject_token_type": ACCESS,
               "resource": "https://unknown.exchange.example.test"}, 400, "invalid_target",
         "The resource parameter names no resource granted to the application"),
        ("B", {"subject_token": a_token, "subject_token_type": ACCESS,
               "audience": "https://unknown.exchange.example.test"}, 400, "invalid_target",
         "The resource parameter names no resource granted to the application"),
        ("A", {"subject_token": a_token, "subject_token_type": ACCESS}, 400,
         "unauthorized_client",
         f"The application is not allowed to use the {EXCHANGE} grant"),
    ]
    for who, form, status, error, description in cases:
        resp = exchange(server, world, who, **form)
        assert_oauth_error(resp, status, error, VALIDATION, description)

    # The same subject token is fine: the failures are the forms'.
    resp = exchange(server, world, "B", subject_token=a_token, subject_token_type=ACCESS)
    assert resp.status_code == 200, resp.text


def test_attribute_reads_the_subject_token(server, world):
    res, _ = world.resources[REPORTS]
    attr = world.create(f"/resources/{res}/attributes", {
        "name": "on_behalf_of_client",
        "value": "${#root.context.requestData.subjectToken.client_id}"})
    assert attr["type"] == "CUSTOM", attr
    token, _ = exchange_with_authlib(server, world, "R", own_token(server, world, "A"))
    claims = verify(server, world, token["access_token"], REPORTS)
    assert claims["on_behalf_of_client"] == world.apps["A"][0], claims
    assert claims["client_id"] == world.apps["R"][0], claims
    assert set(claims) == STANDARD | {"on_behalf_of_client"}, claims


def test_revoked_subject_token_is_refused(server, world):
    a_token = own_token(server, world, "A")
    resp = exchange(server, world, "B", subject_token=a_token, subject_token_type=ACCESS)
    assert resp.status_code == 200, resp.text

    app_a, secret_a = world.apps["A"]
    revoked = requests.post(f"{server.base_url}/{world.env}/as/revoke", data={"token": a_token},
                            auth=(app_a, secret_a), timeout=30)
    assert revoked.status_code == 200, revoked.text

    resp = exchange(server, world, "B", subject_token=a_token, subject_token_type=ACCESS)
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION, "The subject token is not valid")
    # Another token of A still exchanges.
    resp = exchange(server, world, "B", subject_token=own_token(server, world, "A"),
                    subject_token_type=ACCESS)
    assert resp.status_code == 200, resp.text


def test_public_client_may_not_list_token_exchange(world, admin):
    body = {"name": f"public {uuid.uuid4().hex[:8]}", "enabled": True,
            "protocol": "OPENID_CONNECT", "type": "NATIVE_APP", "grantTypes": ["TOKEN_EXCHANGE"],
            "tokenEndpointAuthMethod": "NONE"}
    err = admin.call("POST", f"/environments/{world.env}/applications", body, expect=400)
    assert err["code"] == "INVALID_DATA", err
    assert err["details"][0]["target"] == "tokenEndpointAuthMethod", err
    assert "TOKEN_EXCHANGE" in err["details"][0]["message"], err
