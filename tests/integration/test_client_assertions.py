"""CLIENT_SECRET_JWT and PRIVATE_KEY_JWT through the real server (SPEC 2.2 rules 4, 6, 7):
authlib's ClientSecretJWT and PrivateKeyJWT (Debian python3-authlib) as the real clients, keys
made by python3-cryptography, every application configured through /v1. The jwksUrl tests serve
the key sets from a loopback HTTP(S) server of their own, including slow, huge, malformed and
failing answers."""

import base64
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt as authlib_jwt
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

import fixed_keys
from mgmt_support import (Api, admin, app_body, app_path, apps_path, create_app,  # noqa: F401
                          create_grant, create_resource, create_scope, expect, expect_error,
                          token_claims, uniq)
from tollgate_server import (DENIED, TOLLGATE_BIN, TollgateServer, basic, jwt_parts, metric,
                             serving)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
INVALID = DENIED + "Invalid client credentials"


# -- keys ------------------------------------------------------------------------------------

def pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def public_jwk(private_key, kid=None):
    jwk = JsonWebKey.import_key(pem(private_key)).as_dict(is_private=False)
    jwk.pop("kid", None)
    if kid:
        jwk["kid"] = kid
    return jwk


# Fixed keys (tests/testutil/fixed_keys.py): the EC ones have coordinates that start with a zero
# byte, which authlib writes without it, so every run covers that case (SPEC 2.2 rule 6).
KEYS = {
    "rsa": fixed_keys.load(fixed_keys.RSA_PEM),
    "p256": fixed_keys.load(fixed_keys.P256_PEM),
    "p256y": fixed_keys.load(fixed_keys.P256_Y_PEM),
    "p384": fixed_keys.load(fixed_keys.P384_PEM),
    "ed25519": fixed_keys.load(fixed_keys.ED25519_PEM),
    "stranger": fixed_keys.load(fixed_keys.RSA_OTHER_PEM),
}
# (alg, key) pairs that PRIVATE_KEY_JWT accepts (SPEC 2.2).
ALGS = [("RS256", "rsa"), ("RS384", "rsa"), ("RS512", "rsa"), ("PS256", "rsa"),
        ("ES256", "p256"), ("ES256", "p256y"), ("ES384", "p384"), ("EdDSA", "ed25519")]


def jwk_set(*names):
    return {"keys": [public_jwk(KEYS[n], n) for n in names]}


def sign(key_or_secret, alg, claims, kid=None):
    header = {"alg": alg}
    if kid:
        header["kid"] = kid
    return authlib_jwt.encode(header, claims, key_or_secret).decode()


def claims_for(client_id, audience, **overrides):
    now = int(time.time())
    c = {"iss": client_id, "sub": client_id, "aud": audience, "jti": str(uuid.uuid4()),
         "iat": now, "exp": now + 300}
    c.update(overrides)
    return {k: v for k, v in c.items() if v is not None}


def post_assertion(server, env_id, assertion, **extra):
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}
    form.update(extra)
    return requests.post(server.token_url(env_id), data=form, timeout=30)


def expect_denied(resp, description=INVALID):
    assert resp.status_code == 401, (resp.status_code, resp.text)
    body = resp.json()
    assert body["error"] == "invalid_client", body
    assert body["error_description"].startswith(description + " (Correlation ID: "), body
    assert "WWW-Authenticate" not in resp.headers  # no Basic credentials were sent


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mgmt_server():
    """The module's server. Its key servers listen on 127.0.0.1, which jwksUrl fetches reach only
    with --allow-private-fetch (docs/decisions/0005-fetch-address-policy.md)."""
    with serving(extra_args=["--allow-private-fetch"]) as server:
        yield server


@pytest.fixture(scope="module")
def env(admin):  # noqa: F811
    """An environment with a CUSTOM resource (read, write) for the assertion clients."""
    e = admin.create("/environments", {"name": uniq("assertions"), "type": "SANDBOX"})
    res = create_resource(admin, e["id"], audience="https://api.assertions.test")
    scopes = [create_scope(admin, e["id"], res["id"], n)["id"] for n in ("read", "write")]
    return {"id": e["id"], "resource": res["id"], "scopes": scopes}


def make_client(admin, env, method, **extra):  # noqa: F811
    """An application of `method` granted read and write; returns (app, secret)."""
    app, secret = create_app(admin, env["id"], tokenEndpointAuthMethod=method, **extra)
    create_grant(admin, env["id"], app["id"], env["resource"], env["scopes"])
    return app, secret


@pytest.fixture(scope="module")
def secret_jwt_app(admin, env):  # noqa: F811
    return make_client(admin, env, "CLIENT_SECRET_JWT")


@pytest.fixture(scope="module")
def key_jwt_app(admin, env):  # noqa: F811
    app, _ = make_client(admin, env, "PRIVATE_KEY_JWT",
                         jwks=json.dumps(jwk_set("rsa", "p256", "p256y", "p384", "ed25519")))
    return app


# -- CLIENT_SECRET_JWT -------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_authlib_client_secret_jwt(mgmt_server, env, secret_jwt_app, alg):  # noqa: F811
    app, secret = secret_jwt_app
    url = mgmt_server.token_url(env["id"])
    with OAuth2Session(app["id"], secret, token_endpoint_auth_method=ClientSecretJWT.name) as s:
        s.register_client_auth_method(ClientSecretJWT(url, alg=alg))
        token = s.fetch_token(url, grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert sorted(token["scope"].split()) == ["read", "write"]
    _, claims = jwt_parts(token["access_token"])
    assert claims["client_id"] == app["id"] and claims["aud"] == ["https://api.assertions.test"]


def test_client_secret_jwt_with_a_wrong_secret(mgmt_server, env, secret_jwt_app):  # noqa: F811
    app, secret = secret_jwt_app
    url = mgmt_server.token_url(env["id"])
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(secret[::-1], "HS256", claims_for(app["id"], url))))


def test_client_secret_jwt_follows_secret_rotation(admin, mgmt_server, env):  # noqa: F811
    app, old = make_client(admin, env, "CLIENT_SECRET_JWT")
    url = mgmt_server.token_url(env["id"])
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5))
    rotated = expect(admin.post(app_path(env["id"], app["id"]) + "/secret",
                                {"previous": {"expiresAt": later.strftime("%Y-%m-%dT%H:%M:%SZ")}}),
                     200)
    for secret in (old, rotated["secret"]):
        resp = post_assertion(mgmt_server, env["id"], sign(secret, "HS256",
                                                           claims_for(app["id"], url)))
        assert resp.status_code == 200, resp.text
    # Dropping the previous secret stops it at once.
    admin.delete(app_path(env["id"], app["id"]) + "/secret")
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(old, "HS256", claims_for(app["id"], url))))


# -- PRIVATE_KEY_JWT with inline jwks -------------------------------------------------------------

@pytest.mark.parametrize("alg,key", ALGS)
def test_authlib_private_key_jwt(mgmt_server, env, key_jwt_app, alg, key):  # noqa: F811
    url = mgmt_server.token_url(env["id"])
    # authlib 1.2's PrivateKeyJWT sends no kid: the server tries each registered key.
    with OAuth2Session(key_jwt_app["id"], pem(KEYS[key]),
                       token_endpoint_auth_method=PrivateKeyJWT.name) as s:
        s.register_client_auth_method(PrivateKeyJWT(url, alg=alg))
        token = s.fetch_token(url, grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    # With a kid naming the key, too.
    resp = post_assertion(mgmt_server, env["id"],
                          sign(pem(KEYS[key]), alg, claims_for(key_jwt_app["id"], url), kid=key))
    assert resp.status_code == 200, resp.text


def test_private_key_jwt_with_another_key(mgmt_server, env, key_jwt_app):  # noqa: F811
    url = mgmt_server.token_url(env["id"])
    stranger = pem(KEYS["stranger"])
    for kid in (None, "rsa"):
        expect_denied(post_assertion(mgmt_server, env["id"],
                                     sign(stranger, "RS256", claims_for(key_jwt_app["id"], url),
                                          kid=kid)))
    # The right key under the kid of another registered key.
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(pem(KEYS["rsa"]), "RS256",
                                      claims_for(key_jwt_app["id"], url), kid="p256")))


def test_private_key_jwt_algorithm_confusion(mgmt_server, env, key_jwt_app):  # noqa: F811
    url = mgmt_server.token_url(env["id"])
    claims = claims_for(key_jwt_app["id"], url)
    # HS256 keyed with the registered public key's bytes: the classic confusion attack.
    public_pem = KEYS["rsa"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    for alg, key in (("HS256", public_pem), ("HS256", public_jwk(KEYS["rsa"])["n"].encode())):
        head = b64(json.dumps({"alg": alg}).encode()) + "." + b64(json.dumps(claims).encode())
        mac = hmac.new(key, head.encode(), hashlib.sha256).digest()
        expect_denied(post_assertion(mgmt_server, env["id"], head + "." + b64(mac)))
    # alg none, with and without a signature.
    head = b64(b'{"alg":"none"}') + "." + b64(json.dumps(claims_for(key_jwt_app["id"], url))
                                              .encode())
    expect_denied(post_assertion(mgmt_server, env["id"], head + "."))
    expect_denied(post_assertion(mgmt_server, env["id"], head + "." + b64(b"x" * 256)))
    # An ES256 key used as ES384 does not verify.
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(pem(KEYS["p256"]), "ES256",
                                      claims_for(key_jwt_app["id"], url), kid="p384")))


def sign_raw(private_key, header, claims):
    """A compact JWS signed by hand (authlib 1.2 knows no "Ed25519" alg): `private_key` signs
    the signing input as is (Ed25519)."""
    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    head = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode()))
    return head + "." + b64(private_key.sign(head.encode()))


def test_ed25519_and_eddsa_are_one_algorithm(admin, mgmt_server, env):  # noqa: F811
    """RFC 9864: an Ed25519 JWK registered with alg "EdDSA", "Ed25519" or none accepts an
    assertion signed "Ed25519" (oauth4webapi 3.x) or "EdDSA" (older clients), with or without a
    kid; "Ed448" and a polymorphic name on another key type do not."""
    url = mgmt_server.token_url(env["id"])
    key = KEYS["ed25519"]
    for jwk_alg in (None, "EdDSA", "Ed25519"):
        jwk = public_jwk(key, "ed")
        if jwk_alg:
            jwk["alg"] = jwk_alg
        app, _ = make_client(admin, env, "PRIVATE_KEY_JWT", jwks=json.dumps({"keys": [jwk]}))
        for alg in ("Ed25519", "EdDSA"):
            for kid in (None, "ed"):
                header = {"alg": alg, "typ": "JWT"}
                if kid:
                    header["kid"] = kid
                resp = post_assertion(mgmt_server, env["id"],
                                      sign_raw(key, header, claims_for(app["id"], url)))
                assert resp.status_code == 200, (jwk_alg, alg, kid, resp.text)
                _, claims = token_claims(resp)
                assert claims["client_id"] == app["id"], claims
        for alg in ("Ed448", "ed25519", "EDDSA"):
            expect_denied(post_assertion(mgmt_server, env["id"],
                                         sign_raw(key, {"alg": alg},
                                                  claims_for(app["id"], url))))
        # Either name with another Ed25519 key's signature.
        for alg in ("Ed25519", "EdDSA"):
            expect_denied(post_assertion(mgmt_server, env["id"],
                                         sign_raw(ed25519.Ed25519PrivateKey.generate(),
                                                  {"alg": alg}, claims_for(app["id"], url))))
    # An Ed448 key, or an alg that does not suit the key, is refused at registration.
    for jwk in ({"kty": "OKP", "crv": "Ed448", "x": "A" * 76},
                dict(public_jwk(key), alg="Ed448"),
                dict(public_jwk(KEYS["p256"]), alg="Ed25519"),
                dict(public_jwk(KEYS["rsa"]), alg="EdDSA")):
        expect_error(admin.post(apps_path(env["id"]),
                                app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                         jwks=json.dumps({"keys": [jwk]}))),
                     400, "INVALID_DATA", "INVALID_VALUE", "jwks")


def test_authlib_writes_short_ec_coordinates():
    """The premise of the fixed EC keys: authlib drops the coordinates' leading zero bytes, so
    the JWKs registered above are shorter than RFC 7518 says, and still accepted."""
    for name, size in (("p256", 32), ("p256y", 32), ("p384", 48)):
        jwk = public_jwk(KEYS[name])
        lengths = {len(base64.urlsafe_b64decode(jwk[c] + "=" * (-len(jwk[c]) % 4))) for c in "xy"}
        assert min(lengths) < size, (name, lengths)


def test_leading_zero_bytes_in_rsa_members(admin, mgmt_server, env):  # noqa: F811
    """RSA n and e with a leading zero byte (Java's BigInteger.toByteArray writes them) name the
    same key; an exponent other than 65537 and a modulus beyond 4096 bits are refused."""
    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    numbers = KEYS["rsa"].public_key().public_numbers()
    padded = {"kty": "RSA", "kid": "padded", "n": b64(b"\0" + numbers.n.to_bytes(256, "big")),
              "e": b64(b"\0\1\0\1")}
    app, _ = make_client(admin, env, "PRIVATE_KEY_JWT", jwks=json.dumps({"keys": [padded]}))
    url = mgmt_server.token_url(env["id"])
    resp = post_assertion(mgmt_server, env["id"],
                          sign(pem(KEYS["rsa"]), "RS256", claims_for(app["id"], url)))
    assert resp.status_code == 200, resp.text
    too_big = b64(b"\xff" * 512 + b"\x01")  # 4104 bits, odd
    for why, jwk in (("e = 3", dict(padded, e="Aw")), ("e = 2^64 + 1", dict(padded, e="AQAAAAAAAAAB")),
                     ("4104-bit n", dict(padded, n=too_big))):
        resp = admin.post(apps_path(env["id"]), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                         jwks=json.dumps({"keys": [jwk]})))
        expect_error(resp, 400, "INVALID_DATA", "INVALID_VALUE", "jwks")


# -- the claim rules, one failing case each (SPEC 2.2 rule 6) ---------------------------------

def test_every_claim_rule(mgmt_server, env, secret_jwt_app):  # noqa: F811
    app, secret = secret_jwt_app
    url = mgmt_server.token_url(env["id"])
    now = int(time.time())
    good = claims_for(app["id"], url)
    assert post_assertion(mgmt_server, env["id"], sign(secret, "HS256", good)).status_code == 200
    # The issuer URL is an accepted audience too, and aud may be an array.
    issuer = url[:-len("/token")]
    for aud in (issuer, ["https://elsewhere", url]):
        resp = post_assertion(mgmt_server, env["id"],
                              sign(secret, "HS256", claims_for(app["id"], aud)))
        assert resp.status_code == 200, (aud, resp.text)
    broken = {
        "iss is another client": dict(iss=str(uuid.uuid4())),
        "sub is another client": dict(sub=str(uuid.uuid4())),
        "no iss": dict(iss=None),
        "aud of another server": dict(aud="https://elsewhere.test/as/token"),
        "aud of another environment": dict(aud=url.replace(env["id"], str(uuid.uuid4()))),
        "no aud": dict(aud=None),
        "expired beyond the skew": dict(exp=now - 61),
        "no exp": dict(exp=None),
        "exp more than an hour ahead": dict(exp=now + 3600 + 120),
        "exp is a string": dict(exp=str(now + 60)),
        "nbf in the future": dict(nbf=now + 120),
        "no jti": dict(jti=None),
        "empty jti": dict(jti=""),
    }
    for why, change in broken.items():
        resp = post_assertion(mgmt_server, env["id"],
                              sign(secret, "HS256", claims_for(app["id"], url, **change)))
        assert resp.status_code == 401, (why, resp.text)
        expect_denied(resp)
    # Within the 60 s skew.
    for change in (dict(exp=now - 30), dict(nbf=now + 30)):
        resp = post_assertion(mgmt_server, env["id"],
                              sign(secret, "HS256", claims_for(app["id"], url, **change)))
        assert resp.status_code == 200, (change, resp.text)


def test_replayed_assertion_is_refused(mgmt_server, env, secret_jwt_app):  # noqa: F811
    app, secret = secret_jwt_app
    assertion = sign(secret, "HS256", claims_for(app["id"], mgmt_server.token_url(env["id"])))
    assert post_assertion(mgmt_server, env["id"], assertion).status_code == 200
    expect_denied(post_assertion(mgmt_server, env["id"], assertion))


def test_presentation_rules(mgmt_server, env, secret_jwt_app, key_jwt_app):  # noqa: F811
    app, secret = secret_jwt_app
    url = mgmt_server.token_url(env["id"])
    # Rule 1: an assertion plus a secret is two mechanisms.
    resp = post_assertion(mgmt_server, env["id"], sign(secret, "HS256", claims_for(app["id"], url)),
                          client_secret=secret)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request", resp.text
    # A client_id beside the assertion must be its sub.
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(secret, "HS256", claims_for(app["id"], url)),
                                 client_id=key_jwt_app["id"]))
    ok = post_assertion(mgmt_server, env["id"], sign(secret, "HS256", claims_for(app["id"], url)),
                        client_id=app["id"])
    assert ok.status_code == 200, ok.text
    # Another assertion type, and garbage assertions.
    resp = requests.post(url, data={"grant_type": "client_credentials",
                                    "client_assertion_type": "urn:example:other",
                                    "client_assertion": sign(secret, "HS256",
                                                             claims_for(app["id"], url))},
                         timeout=30)
    expect_denied(resp)
    for garbage in ("x", "a.b.c", "e30.e30.", "." * 3, "A" * 9000, "\u00e9.\u00e9.\u00e9"):
        expect_denied(post_assertion(mgmt_server, env["id"], garbage))


def test_method_mismatch_is_named(admin, mgmt_server, env, secret_jwt_app, key_jwt_app):  # noqa: F811,E501
    app, secret = secret_jwt_app
    url = mgmt_server.token_url(env["id"])
    # Basic credentials for a CLIENT_SECRET_JWT app (SPEC 2.2 rule 4, PingOne's description).
    resp = requests.post(url, data={"grant_type": "client_credentials"},
                         headers={"Authorization": basic(app["id"], secret)}, timeout=30)
    assert resp.status_code == 401
    assert resp.json()["error_description"].startswith(
        DENIED + "Unsupported authentication method"), resp.text
    # An assertion from a CLIENT_SECRET_BASIC app.
    basic_app, basic_secret = make_client(admin, env, "CLIENT_SECRET_BASIC")
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(basic_secret, "HS256", claims_for(basic_app["id"], url))),
                  DENIED + "Unsupported authentication method")


def test_assertion_callers_at_introspection_and_revocation(mgmt_server, env, secret_jwt_app):  # noqa: F811,E501
    app, secret = secret_jwt_app
    issuer = mgmt_server.token_url(env["id"])[:-len("/token")]
    token = post_assertion(mgmt_server, env["id"],
                           sign(secret, "HS256", claims_for(app["id"], issuer + "/token")))
    access = token.json()["access_token"]

    def call(endpoint):
        form = {"token": access, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": sign(secret, "HS256",
                                         claims_for(app["id"], f"{issuer}/{endpoint}"))}
        return requests.post(f"{issuer}/{endpoint}", data=form, timeout=30)
    resp = call("introspect")
    assert resp.status_code == 200 and resp.json()["active"] is True, resp.text
    assert call("revoke").status_code == 200
    assert call("introspect").json() == {"active": False}


# -- configuration-time checks of jwks and jwksUrl (SPEC 6) -----------------------------------

def test_jwks_must_hold_usable_public_keys(admin, env):  # noqa: F811
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = JsonWebKey.import_key(pem(KEYS["rsa"])).as_dict(is_private=True)
    bad = {
        "private key material": {"keys": [private]},
        "a 1024-bit RSA key": {"keys": [public_jwk(weak, "weak")]},
        "a symmetric key": {"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}]},
        "an encryption key": {"keys": [dict(public_jwk(KEYS["rsa"]), use="enc")]},
        "a point off the curve": {"keys": [dict(public_jwk(KEYS["p256"]),
                                                y=public_jwk(KEYS["p256"])["x"])]},
        "too many keys": {"keys": [public_jwk(KEYS["ed25519"])] * 33},
    }
    for why, jwks in bad.items():
        resp = admin.post(apps_path(env["id"]), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                         jwks=json.dumps(jwks)))
        expect_error(resp, 400, "INVALID_DATA", "INVALID_VALUE", "jwks")
        assert "c2VjcmV0" not in resp.text and private["d"] not in resp.text, (why, resp.text)
    for url in ("https://", "http:///jwks", "https://a b/jwks", "file:///etc/passwd"):
        expect_error(admin.post(apps_path(env["id"]),
                                app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT", jwksUrl=url)),
                     400, "INVALID_DATA", "INVALID_VALUE", "jwksUrl")


# -- jwksUrl -----------------------------------------------------------------------------------

class KeyServer:
    """A loopback HTTP(S) server for jwksUrl: `routes` maps a path to (status, headers, body,
    delay): seconds to sleep, or a threading.Event to wait for (at most 60 s) before answering.
    Counts requests per path."""

    def __init__(self, tls=None):
        self.routes = {}
        self.hits = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                status, headers, body, delay = owner.routes.get(
                    self.path, (404, {}, b"not found", 0))
                if isinstance(delay, threading.Event):
                    delay.wait(60)
                elif delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path, body, status=200, headers=None, delay=0):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.routes[path] = (status, headers or {"Content-Type": "application/json"}, body, delay)
        return self.url(path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def key_server():
    s = KeyServer()
    yield s
    s.close()


def url_client(admin, env, url):  # noqa: F811
    app, _ = make_client(admin, env, "PRIVATE_KEY_JWT", jwksUrl=url)
    return app


def key_assertion(server, env, app_id, key="rsa", alg="RS256", kid="rsa"):
    return sign(pem(KEYS[key]), alg, claims_for(app_id, server.token_url(env["id"])), kid=kid)


def test_jwks_url_is_fetched_and_cached(admin, mgmt_server, env, key_server):  # noqa: F811
    # authlib's JWKs of the EC keys lack their coordinates' leading zero bytes (SPEC 2.2 rule 6).
    url = key_server.serve("/cached", jwk_set("rsa", "ed25519", "p256", "p256y", "p384"))
    app = url_client(admin, env, url)
    for key, alg in (("rsa", "RS256"), ("ed25519", "EdDSA"), ("rsa", "PS256"), ("p256", "ES256"),
                     ("p256y", "ES256"), ("p384", "ES384")):
        resp = post_assertion(mgmt_server, env["id"],
                              key_assertion(mgmt_server, env, app["id"], key, alg, kid=key))
        assert resp.status_code == 200, resp.text
    # authlib without a kid.
    token_url = mgmt_server.token_url(env["id"])
    with OAuth2Session(app["id"], pem(KEYS["rsa"]),
                       token_endpoint_auth_method=PrivateKeyJWT.name) as s:
        s.register_client_auth_method(PrivateKeyJWT(token_url))
        assert s.fetch_token(token_url, grant_type="client_credentials")["token_type"] == "Bearer"
    assert key_server.hits["/cached"] == 1, "fetched once, then served from the cache"


def test_unknown_kid_refetch_is_rate_limited(admin, mgmt_server, env, key_server):  # noqa: F811
    url = key_server.serve("/rotating", jwk_set("rsa"))
    app = url_client(admin, env, url)
    assert post_assertion(mgmt_server, env["id"],
                          key_assertion(mgmt_server, env, app["id"])).status_code == 200
    # The client publishes a new key and uses it at once: within the refetch interval (10 s)
    # the server does not fetch again, however many assertions name the new kid.
    key_server.serve("/rotating", jwk_set("rsa", "p256"))
    for _ in range(5):
        expect_denied(post_assertion(mgmt_server, env["id"],
                                     key_assertion(mgmt_server, env, app["id"], "p256", "ES256",
                                                   kid="p256")))
    assert key_server.hits["/rotating"] == 1


@pytest.mark.parametrize("why,route", [
    ("500", dict(body=b"oops", status=500)),
    ("404", dict(body=jwk_set("rsa"), status=404)),
    ("redirect", dict(body=b"", status=302, headers={"Location": "/cached"})),
    ("not JSON", dict(body=b"<html>keys</html>")),
    ("not a JWK Set", dict(body={"keys": "rsa"})),
    ("only unusable keys", dict(body={"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
    ("huge", dict(body=b'{"keys":[' + b" " * (2 * 1024 * 1024) + b"]}")),
])
def test_bad_jwks_url_answers_are_invalid_client(admin, mgmt_server, env, key_server, why, route):  # noqa: F811,E501
    path = "/bad-" + why.replace(" ", "-")
    url = key_server.serve(path, **route)
    app = url_client(admin, env, url)
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 key_assertion(mgmt_server, env, app["id"])))
    assert key_server.hits[path] == 1


def test_unreachable_jwks_url_is_invalid_client(admin, mgmt_server, env):  # noqa: F811
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = url_client(admin, env, f"http://127.0.0.1:{port}/jwks")
    expect_denied(post_assertion(mgmt_server, env["id"], key_assertion(mgmt_server, env,
                                                                        app["id"])))


def test_slow_jwks_url_times_out_without_stalling_others(admin, mgmt_server, env,  # noqa: F811
                                                         key_server):
    url = key_server.serve("/slow", jwk_set("rsa"), delay=8)  # beyond the 5 s fetch limit
    app = url_client(admin, env, url)
    basic_app, basic_secret = make_client(admin, env, "CLIENT_SECRET_BASIC")
    result = {}

    def slow_request():
        result["resp"] = post_assertion(mgmt_server, env["id"],
                                        key_assertion(mgmt_server, env, app["id"]))
        result["done"] = time.monotonic()
    t = threading.Thread(target=slow_request)
    t.start()
    while key_server.hits.get("/slow", 0) == 0:  # the fetch has started
        time.sleep(0.01)
    # While the fetch waits, other clients keep getting tokens.
    session = requests.Session()
    for _ in range(20):
        resp = session.post(mgmt_server.token_url(env["id"]),
                            data={"grant_type": "client_credentials"},
                            headers={"Authorization": basic(basic_app["id"], basic_secret)},
                            timeout=30)
        assert resp.status_code == 200, resp.text
    others_done = time.monotonic()
    t.join(30)
    assert not t.is_alive()
    assert others_done < result["done"], "basic clients were served while the fetch waited"
    expect_denied(result["resp"])


def test_requests_waiting_for_jwks_url_hold_no_thread(key_server):
    """Token and revocation requests of clients whose key servers hang wait for the fetch
    without holding a thread of a shared pool: more of them than the fetch pool (4) and the
    blocking pool (2) hold together, and meanwhile the management API, a revocation and a token
    request by CLIENT_SECRET_BASIC clients are answered. Ordering, not durations: the key
    servers answer only after those fast calls have returned (before issue 10 the /v1 call
    waited for the revocations' fetches to time out). A connection closed while it waits, and
    a stop while a request waits, are safe."""
    release = threading.Event()
    server = TollgateServer(extra_args=["--allow-private-fetch"])
    try:
        server.start()
        api = Api(server)
        e = {"id": server.env_id}
        res = create_resource(api, e["id"], audience="https://api.waiting.test")
        e["resource"] = res["id"]
        e["scopes"] = [create_scope(api, e["id"], res["id"], "read")["id"]]
        gated = [f"/gated-{uuid.uuid4().hex}" for _ in range(6)]
        apps = [url_client(api, e, key_server.serve(p, jwk_set("rsa"), delay=release))
                for p in gated]
        basic_app, basic_secret = make_client(api, e, "CLIENT_SECRET_BASIC")
        basic_token = requests.post(server.token_url(e["id"]),
                                    data={"grant_type": "client_credentials"},
                                    headers={"Authorization": basic(basic_app["id"], basic_secret)},
                                    timeout=30).json()["access_token"]
        revoke_url = server.issuer + "/revoke"
        slow = []

        def slow_call(kind, app):
            if kind == "token":
                resp = post_assertion(server, e["id"], key_assertion(server, e, app["id"]))
            else:
                form = {"token": "not-a-token", "client_assertion_type": ASSERTION_TYPE,
                        "client_assertion": sign(pem(KEYS["rsa"]), "RS256",
                                                 claims_for(app["id"], revoke_url), kid="rsa")}
                resp = requests.post(revoke_url, data=form, timeout=60)
            slow.append((kind, resp.status_code, resp.text, time.monotonic()))
        calls = [("token", a) for a in apps] + [("revoke", a) for a in apps[:3]]
        threads = [threading.Thread(target=slow_call, args=c) for c in calls]
        for t in threads:
            t.start()
        # At least as many fetches have started as the fetch pool has threads: every slow
        # request has either started one or waits for one.
        while sum(1 for p in gated if key_server.hits.get(p)) < 4:
            assert not slow, slow
            time.sleep(0.01)

        for _ in range(3):
            assert api.get("/environments").status_code == 200
        resp = requests.post(revoke_url, data={"token": basic_token},
                             headers={"Authorization": basic(basic_app["id"], basic_secret)},
                             timeout=30)
        assert resp.status_code == 200, resp.text
        resp = requests.post(server.token_url(e["id"]), data={"grant_type": "client_credentials"},
                             headers={"Authorization": basic(basic_app["id"], basic_secret)},
                             timeout=30)
        assert resp.status_code == 200, resp.text
        fast_done = time.monotonic()
        early = list(slow)
        release.set()
        for t in threads:
            t.join(60)
        assert not early, ("slow requests were answered before the fast ones", early)
        assert len(slow) == len(calls)
        for kind, status, text, done in slow:
            assert status == 200 and done > fast_done, (kind, status, text)
        assert metric(server, "tollgate_jwks_waiting") == 0

        # A connection that closes while it waits, then a stop while a request waits.
        hold = threading.Event()
        closing_app = url_client(api, e, key_server.serve("/gated-close", jwk_set("rsa"),
                                                          delay=hold))
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": key_assertion(server, e, closing_app["id"])}).encode()
        u = urllib.parse.urlsplit(server.base_url)
        sock = socket.create_connection((u.hostname, u.port), timeout=30)
        sock.sendall(f"POST /{e['id']}/as/token HTTP/1.1\r\nHost: {u.netloc}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        while metric(server, "tollgate_jwks_waiting") < 1:
            time.sleep(0.01)
        sock.close()
        waiting = []
        t = threading.Thread(target=lambda: waiting.append(
            post_assertion(server, e["id"], key_assertion(server, e, closing_app["id"]))))
        t.start()
        while metric(server, "tollgate_jwks_waiting") < 2:
            time.sleep(0.01)
        server.send_signal()
        hold.set()
        t.join(60)
        assert waiting and waiting[0].status_code == 200, waiting
        assert server.stop() == 0, server.logs()[-3000:]
    finally:
        release.set()
        server.close()


def test_jwks_url_over_https(tmp_path):
    """HTTPS with the certificate checked against the trust store (SSL_CERT_FILE here) and the
    host name; a certificate for another name is refused."""
    key = ec.generate_private_key(ec.SECP256R1())

    def cert_for(san):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tollgate test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(hours=1))
                .add_extension(x509.SubjectAlternativeName([san]), critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
    good = cert_for(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    wrong = cert_for(x509.DNSName("elsewhere.test"))
    (tmp_path / "key.pem").write_bytes(pem(key))
    servers = []
    for name, cert in (("good", good), ("wrong", wrong)):
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp_path / f"{name}.pem", tmp_path / "key.pem")
        servers.append(KeyServer(tls=ctx))
    trust = tmp_path / "trust.pem"
    trust.write_bytes((tmp_path / "good.pem").read_bytes() + (tmp_path / "wrong.pem").read_bytes())
    server = TollgateServer(env={"SSL_CERT_FILE": str(trust)}, extra_args=["--allow-private-fetch"])
    try:
        server.start()
        api = Api(server)
        e = {"id": server.env_id}
        res = create_resource(api, e["id"], audience="https://api.tls.test")
        e["resource"] = res["id"]
        e["scopes"] = [create_scope(api, e["id"], res["id"], "read")["id"]]
        ok_app = url_client(api, e, servers[0].serve("/jwks", jwk_set("rsa")))
        bad_app = url_client(api, e, servers[1].serve("/jwks", jwk_set("rsa")))
        resp = post_assertion(server, e["id"], key_assertion(server, e, ok_app["id"]))
        assert resp.status_code == 200, (resp.text, server.logs()[-2000:])
        expect_denied(post_assertion(server, e["id"], key_assertion(server, e, bad_app["id"])))
        assert servers[1].hits.get("/jwks", 0) == 0, "the TLS handshake failed: nothing was sent"
    finally:
        server.close()
        for s in servers:
            s.close()


def wait_for_log(server, text, timeout=10):
    """The server's log line holding `text` (the server logs before it answers; the test reads
    its stderr on another thread, so the line may arrive just after the answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.logs().splitlines():
            if text in line:
                return line
        time.sleep(0.01)
    raise AssertionError(f"no log line with {text!r}:\n" + server.logs()[-3000:])


def test_jwks_url_never_reaches_private_addresses():
    """Without --allow-private-fetch (decision 0005) a jwksUrl on a loopback, private,
    link-local (cloud metadata), CGNAT or unspecified address, given as a literal or as a name
    that resolves to one, is a failed fetch: 401 invalid_client, the reason in the log, and no
    connection attempt (the fetch would come before the answer, and the test's listener would
    then hold it in its backlog)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    server = TollgateServer()
    try:
        server.start()
        api = Api(server)
        e = {"id": server.env_id}
        res = create_resource(api, e["id"], audience="https://api.ssrf.test")
        e["resource"] = res["id"]
        e["scopes"] = [create_scope(api, e["id"], res["id"], "read")["id"]]
        urls = {
            f"http://127.0.0.1:{port}/jwks": "(loopback address",
            f"http://localhost:{port}/jwks": "(loopback address",
            f"http://[::ffff:127.0.0.1]:{port}/jwks": "(loopback address",
            f"http://[::1]:{port}/jwks": "(loopback address",
            f"https://127.0.0.1:{port}/jwks": "(loopback address",
            "http://169.254.169.254/latest/meta-data/jwks": "(link-local address",
            "http://10.255.255.1/jwks": "(private address",
            "http://[fd00::1]/jwks": "(private address",
            "http://100.64.0.1/jwks": "(shared (CGNAT) address",
            "http://0.0.0.0/jwks": "(unspecified address",
        }
        for url, reason in urls.items():
            app = url_client(api, e, url)
            resp = post_assertion(server, e["id"], key_assertion(server, e, app["id"]))
            expect_denied(resp)
            line = wait_for_log(server, "correlation=" + resp.headers["Correlation-Id"])
            assert "refused: " in line and reason in line, (url, line)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
        # The management API's own token endpoint was not affected.
        assert api.get("/environments").status_code == 200
    finally:
        server.close()
        listener.close()


def test_used_assertions_survive_a_restart(tmp_path):
    # A fixed auth-url keeps the issuer (the assertion's audience) across the restart.
    server = TollgateServer(extra_args=["--auth-url", "http://auth.tollgate.test"])
    try:
        server.start()
        api = Api(server)
        app, secret = create_app(api, server.env_id, tokenEndpointAuthMethod="CLIENT_SECRET_JWT")
        res = create_resource(api, server.env_id, audience="https://api.restart.test")
        scope = create_scope(api, server.env_id, res["id"], "read")
        create_grant(api, server.env_id, app["id"], res["id"], [scope["id"]])
        aud = f"http://auth.tollgate.test/{server.env_id}/as/token"
        assertion = sign(secret, "HS256", claims_for(app["id"], aud))
        assert post_assertion(server, server.env_id, assertion).status_code == 200
        assert server.stop() == 0
        server.start()
        expect_denied(post_assertion(server, server.env_id, assertion))
        fresh = sign(secret, "HS256", claims_for(app["id"], aud))
        assert post_assertion(server, server.env_id, fresh).status_code == 200
    finally:
        server.close()


def test_token_claims_of_an_assertion_client(mgmt_server, env, key_jwt_app):  # noqa: F811
    url = mgmt_server.token_url(env["id"])
    resp = post_assertion(mgmt_server, env["id"],
                          sign(pem(KEYS["ed25519"]), "EdDSA", claims_for(key_jwt_app["id"], url)),
                          scope="read")
    header, claims = token_claims(resp)
    assert claims["sub"] == claims["client_id"] == key_jwt_app["id"]
    assert claims["scope"] == "read"
    assert header["typ"] == "at+jwt"


@pytest.fixture(scope="module", autouse=True)
def _no_secrets_in_logs(mgmt_server):  # noqa: F811
    yield
    logs = mgmt_server.logs()
    for k in KEYS.values():
        jwk = JsonWebKey.import_key(pem(k)).as_dict(is_private=True)
        assert jwk["d"] not in logs
    assert "client_assertion=" not in logs and "eyJ" not in logs, "no assertion or token logged"


# -- quotas: replay memory per client and per environment (SPEC 2.2 rule 6) ---------------------

def test_same_jti_from_two_clients_is_two_jtis(admin, mgmt_server, env):  # noqa: F811
    """RFC 7523 §3 item 7: a jti is unique per issuer, and the issuer is the client. Client Y's
    fresh assertion is not a replay of client X's because both chose the same jti."""
    x, x_secret = make_client(admin, env, "CLIENT_SECRET_JWT")
    y, y_secret = make_client(admin, env, "CLIENT_SECRET_JWT")
    url = mgmt_server.token_url(env["id"])
    jti = str(uuid.uuid4())
    for app, secret in ((x, x_secret), (y, y_secret)):
        resp = post_assertion(mgmt_server, env["id"],
                              sign(secret, "HS256", claims_for(app["id"], url, jti=jti)))
        assert resp.status_code == 200, resp.text
    # Each one's own replay is still refused.
    expect_denied(post_assertion(mgmt_server, env["id"],
                                 sign(y_secret, "HS256", claims_for(y["id"], url, jti=jti))))


def two_environments(api, **app_fields):
    """Environments E and F, each with one client granted a scope: {name: (env, client, secret)}."""
    clients = {}
    for name in ("E", "F"):
        e = api.create("/environments", {"name": uniq(name), "type": "SANDBOX"})
        res = create_resource(api, e["id"], audience=f"https://api.{name.lower()}.test")
        scope = create_scope(api, e["id"], res["id"], "read")
        app, secret = create_app(api, e["id"], **app_fields)
        create_grant(api, e["id"], app["id"], res["id"], [scope["id"]])
        clients[name] = (e["id"], app["id"], secret)
    return clients


def test_each_environment_has_its_own_budget():
    """With room for 2 used assertions and 1 revoked token per environment, a third assertion of
    environment E is answered 503 temporarily_unavailable (E's clients only), while environment
    F's clients go on."""
    server = TollgateServer(extra_args=["--max-used-assertions", "2",
                                        "--max-revoked-tokens=1"])
    try:
        server.start()
        clients = two_environments(Api(server), tokenEndpointAuthMethod="CLIENT_SECRET_JWT")

        def attempt(name):
            env_id, app_id, secret = clients[name]
            url = server.token_url(env_id)
            return post_assertion(server, env_id, sign(secret, "HS256", claims_for(app_id, url)))

        for _ in range(2):
            assert attempt("E").status_code == 200
        full = attempt("E")
        assert full.status_code == 503, full.text
        assert full.json()["error"] == "temporarily_unavailable"
        for _ in range(2):
            assert attempt("F").status_code == 200, "F's budget is its own"

    finally:
        server.close()


def test_revocation_budget_is_per_environment():
    server = TollgateServer(extra_args=["--max-revoked-tokens", "1"])
    try:
        server.start()
        envs = two_environments(Api(server))

        def fresh_token(name):
            env_id, app_id, secret = envs[name]
            resp = requests.post(server.token_url(env_id), data={"grant_type": "client_credentials"},
                                 headers={"Authorization": basic(app_id, secret)}, timeout=30)
            assert resp.status_code == 200, resp.text
            return resp.json()["access_token"]

        def revoke(name, token):
            env_id, app_id, secret = envs[name]
            return requests.post(f"{server.base_url}/{env_id}/as/revoke", data={"token": token},
                                 headers={"Authorization": basic(app_id, secret)}, timeout=30)

        first = fresh_token("E")
        assert revoke("E", first).status_code == 200
        assert revoke("E", first).status_code == 200, "already revoked: no room needed"
        resp = revoke("E", fresh_token("E"))
        assert resp.status_code == 503, resp.text
        assert resp.json()["error"] == "temporarily_unavailable"
        assert revoke("F", fresh_token("F")).status_code == 200, "F's budget is its own"
    finally:
        server.close()


def test_budget_options_are_checked():
    for args in (["--max-used-assertions", "0"], ["--max-revoked-tokens", "many"],
                 ["--max-revoked-tokens=-1"]):
        out = subprocess.run([TOLLGATE_BIN, "serve", "--listen", "127.0.0.1:0", *args],
                             capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert out.returncode == 2, (args, out.returncode, out.stderr)
        assert args[0].split("=")[0] in out.stderr and "must be a number" in out.stderr, out.stderr


def test_caller_values_are_clipped_in_the_log(mgmt_server, env, secret_jwt_app):  # noqa: F811
    """An assertion's alg is caller-controlled: the log keeps at most 64 characters of it."""
    app, _ = secret_jwt_app
    url = mgmt_server.token_url(env["id"])

    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    alg = "Q" * 5000
    head = b64(json.dumps({"alg": alg}).encode()) + "." + b64(json.dumps(
        claims_for(app["id"], url)).encode())
    expect_denied(post_assertion(mgmt_server, env["id"], head + "." + b64(b"sig")))
    # The line may reach the test's reader just after the answer (wait_for_log says why).
    wait_for_log(mgmt_server, "Q" * 64 + "...(5000 bytes)")
    assert "Q" * 65 not in mgmt_server.logs()
