"""RFC 9449 DPoP at the token endpoint (src/oauth/dpop.cc, src/jwt/dpop.cc) through the real
binary, on SQLite and on PostgreSQL, configured through /v1 from the init credentials. The proofs
come from code that shares nothing with the server: Python's `cryptography` signs them (ES256,
ES384, EdDSA, RS256, PS256) and node oauth4webapi makes its own (ES256, EdDSA, PS256) and then
checks, as a resource server, that the token's cnf.jkt is its key's. PyJWT verifies every token
against the environment's JWKS; jose (via oauth4webapi) and Python compute thumbprints
independently. curl sends a proof too."""

import base64
import hashlib
import http.client
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from admin_api import AdminApi
from tollgate_server import VALIDATION, assert_oauth_error, serving

ORDERS = "https://orders.dpop.example.test"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n, size):
    return b64(n.to_bytes(size, "big"))


class Key:
    """A client's DPoP key made by `cryptography`, its public JWK and its JWS alg."""

    def __init__(self, alg):
        self.alg = alg
        if alg in ("ES256", "ES384"):
            curve, self.size = (ec.SECP256R1(), 32) if alg == "ES256" else (ec.SECP384R1(), 48)
            self.private = ec.generate_private_key(curve)
            n = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256" if alg == "ES256" else "P-384",
                        "x": uint(n.x, self.size), "y": uint(n.y, self.size)}
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            raw = self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            n = self.private.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "n": uint(n.n, 256), "e": uint(n.e, 3)}

    def thumbprint(self):
        """RFC 7638, computed here from the members."""
        required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"),
                    "RSA": ("e", "kty", "n")}[self.jwk["kty"]]
        canonical = json.dumps({k: self.jwk[k] for k in required}, separators=(",", ":"),
                               sort_keys=True)
        return b64(hashlib.sha256(canonical.encode()).digest())

    def sign(self, data):
        if self.alg == "EdDSA":
            return self.private.sign(data)
        if self.alg in ("ES256", "ES384"):
            digest = hashes.SHA256() if self.alg == "ES256" else hashes.SHA384()
            r, s = utils.decode_dss_signature(self.private.sign(data, ec.ECDSA(digest)))
            return r.to_bytes(self.size, "big") + s.to_bytes(self.size, "big")
        pad = padding.PKCS1v15() if self.alg == "RS256" else padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return self.private.sign(data, pad, hashes.SHA256())

    def proof(self, htu, htm="POST", iat=None, jti=None, header=None, claims=None, jwk=None):
        h = {"typ": "dpop+jwt", "alg": self.alg, "jwk": jwk or self.jwk}
        h.update(header or {})
        c = {"jti": jti or uuid.uuid4().hex, "htm": htm, "htu": htu,
             "iat": int(time.time()) if iat is None else iat}
        c.update(claims or {})
        data = (b64(json.dumps(h).encode()) + "." + b64(json.dumps(c).encode())).encode()
        return data.decode() + "." + b64(self.sign(data))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request):
    if request.param == "sqlite":
        with serving() as s:
            s.deployment = None
            yield s
        return
    from pg_support import Deployment, shared_cluster
    cluster, owned = shared_cluster()
    deployment = Deployment(cluster)
    try:
        node = deployment.node()
        node.deployment = deployment  # for a second node of the same deployment
        yield node
    finally:
        codes = deployment.close()
        if owned is not None:
            owned.destroy()
    assert codes and all(c == 0 for c in codes), codes


class World:
    """An environment with an orders resource, a client that may use DPoP and one that must.
    `nonces`: the environment requires server nonces (dpopNonceRequired)."""

    def __init__(self, server, nonces=False):
        self.server = server
        self.admin = AdminApi(server)
        env = self.admin.create("/environments", {"name": f"dpop {uuid.uuid4().hex[:8]}",
                                                  "type": "SANDBOX", "dpopNonceRequired": nonces})
        assert env["dpopNonceRequired"] is nonces, env
        self.env = env["id"]
        res = self.create("/resources", {"name": "orders", "audience": ORDERS})
        self.resource = res["id"]
        self.scope = self.create(f"/resources/{res['id']}/scopes", {"name": "read"})["id"]
        self.free = self.application(False)
        self.bound = self.application(True)
        self.token_url = server.token_url(self.env)
        self.issuer = f"{server.base_url}/{self.env}/as"

    def create(self, path, body):
        return self.admin.create(f"/environments/{self.env}" + path, body)

    def application(self, bound):
        body = {"name": f"app {uuid.uuid4().hex[:8]}", "enabled": True,
                "protocol": "OPENID_CONNECT", "type": "SERVICE",
                "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod":
                "CLIENT_SECRET_BASIC", "dpopBoundAccessTokens": bound}
        app = self.create("/applications", body)
        assert app["dpopBoundAccessTokens"] is bound, app
        self.create(f"/applications/{app['id']}/grants",
                    {"resource": {"id": self.resource}, "scopes": [{"id": self.scope}]})
        secret = self.admin.call(
            "GET", f"/environments/{self.env}/applications/{app['id']}/secret")["secret"]
        return app["id"], secret

    def post(self, app, proof=None, headers=None):
        h = dict(headers or {})
        if proof is not None:
            h["DPoP"] = proof
        return requests.post(self.token_url, data={"grant_type": "client_credentials"},
                             auth=app, headers=h, timeout=30)

    def verify(self, token):
        """The token's claims, verified by PyJWT with the environment's published keys."""
        keys = jwt.PyJWKClient(f"{self.issuer}/jwks")
        return jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                          audience=ORDERS, issuer=self.issuer)


@pytest.fixture(scope="module")
def world(server):
    return World(server)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "EdDSA", "RS256", "PS256"])
def test_a_proof_binds_the_token_to_its_key(world, alg):
    key = Key(alg)
    resp = world.post(world.free, key.proof(world.token_url))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "DPoP", body
    claims = world.verify(body["access_token"])
    assert claims["cnf"] == {"jkt": key.thumbprint()}, claims
    assert claims["client_id"] == world.free[0]

    # Introspection (RFC 9449 §6.2): token_type DPoP and the same cnf.
    intro = requests.post(world.issuer + "/introspect", data={"token": body["access_token"]},
                          auth=world.free, timeout=30)
    assert intro.status_code == 200, intro.text
    assert intro.json()["active"] is True
    assert intro.json()["token_type"] == "DPoP"
    assert intro.json()["cnf"] == {"jkt": key.thumbprint()}


def test_without_a_proof_the_token_is_a_bearer_token(world):
    resp = world.post(world.free)
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "Bearer"
    assert "cnf" not in world.verify(resp.json()["access_token"])
    intro = requests.post(world.issuer + "/introspect", auth=world.free, timeout=30,
                          data={"token": resp.json()["access_token"]})
    assert intro.json()["token_type"] == "Bearer"


def test_a_client_that_requires_dpop_gets_no_bearer_token(world, server):
    resp = world.post(world.bound)
    assert_oauth_error(resp, 400, "invalid_dpop_proof", VALIDATION,
                       "The application requires a DPoP proof (dpopBoundAccessTokens)")
    key = Key("ES256")
    resp = world.post(world.bound, key.proof(world.token_url))
    assert resp.status_code == 200, resp.text
    assert world.verify(resp.json()["access_token"])["cnf"]["jkt"] == key.thumbprint()
    # The flag is stored: a PUT turns it off, and the next request gets a bearer token.
    path = f"/environments/{world.env}/applications/{world.bound[0]}"
    app = world.admin.call("GET", path)
    assert app["dpopBoundAccessTokens"] is True
    update = {k: app[k] for k in ("name", "enabled", "protocol", "type", "grantTypes",
                                  "tokenEndpointAuthMethod")}
    update["dpopBoundAccessTokens"] = False
    assert world.admin.call("PUT", path, update)["dpopBoundAccessTokens"] is False
    resp = world.post(world.bound)  # a write refreshes the snapshot before it answers
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "Bearer"
    update["dpopBoundAccessTokens"] = True
    world.admin.call("PUT", path, update)
    assert world.post(world.bound).status_code == 400


def refusal(world, proof, description, app=None):
    resp = world.post(app or world.free, proof)
    assert_oauth_error(resp, 400, "invalid_dpop_proof", VALIDATION, description)


def test_each_invalid_proof_is_refused_with_its_reason(world):
    key = Key("ES256")
    url = world.token_url
    now = int(time.time())
    invalid = "The DPoP proof is invalid: "
    refusal(world, key.proof(url, htm="GET"), invalid + "claim htm is not the request's method")
    refusal(world, key.proof(url + "/x"), invalid + "claim htu is not the request's URI")
    refusal(world, key.proof(url.replace(world.env, str(uuid.uuid4()))),
            invalid + "claim htu is not the request's URI")
    refusal(world, key.proof(url, iat=now - 3600), invalid + "claim iat is too old")
    refusal(world, key.proof(url, iat=now + 3600), invalid + "claim iat is in the future")
    refusal(world, key.proof(url, header={"typ": "JWT"}), invalid + "header typ is not dpop+jwt")
    refusal(world, key.proof(url, header={"alg": "HS256"}),
            invalid + "header alg is not an accepted asymmetric algorithm")
    refusal(world, key.proof(url, jwk=dict(key.jwk, d=b64(b"\x01" * 32))),
            invalid + "header jwk holds private key material")
    refusal(world, key.proof(url, jwk=Key("ES256").jwk),
            invalid + "the signature does not verify with header jwk")
    refusal(world, "not-a-jwt", invalid + "it is not a compact JWS of at most 8 KiB")
    # The proof is never echoed.
    resp = world.post(world.free, key.proof(url, htm="GET"))
    assert "eyJ" not in resp.text


def test_a_proof_is_accepted_once(world):
    key = Key("EdDSA")
    proof = key.proof(world.token_url)
    assert world.post(world.free, proof).status_code == 200
    refusal(world, proof, "The DPoP proof has been used before (jti)")
    # The same jti under another key is another proof.
    assert world.post(world.free, Key("EdDSA").proof(world.token_url, jti="same")).status_code \
        == 200
    assert world.post(world.free, Key("EdDSA").proof(world.token_url, jti="same")).status_code \
        == 200


def test_two_dpop_headers_are_refused(world):
    key = Key("ES256")
    parts = urllib.parse.urlsplit(world.token_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    credentials = base64.b64encode(":".join(world.free).encode()).decode()
    conn.putrequest("POST", parts.path)
    conn.putheader("Authorization", "Basic " + credentials)
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("DPoP", key.proof(world.token_url))
    conn.putheader("DPoP", key.proof(world.token_url))
    body = b"grant_type=client_credentials"
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    answer = json.loads(resp.read())
    conn.close()
    assert resp.status == 400
    assert answer["error"] == "invalid_dpop_proof"
    assert "More than one DPoP header was sent" in answer["error_description"]


def test_a_wrong_client_is_refused_before_the_proof_is_read(world):
    resp = world.post((world.free[0], "wrong"), "not-a-jwt")
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


def test_curl_sends_a_proof(world):
    key = Key("ES256")
    out = subprocess.run(
        ["curl", "-sS", "-u", ":".join(world.free), "-H", "DPoP: " + key.proof(world.token_url),
         "-d", "grant_type=client_credentials", world.token_url],
        capture_output=True, text=True, timeout=60, check=True)
    body = json.loads(out.stdout)
    assert body["token_type"] == "DPoP", body
    assert world.verify(body["access_token"])["cnf"] == {"jkt": key.thumbprint()}


def test_discovery_lists_the_proof_algorithms(world):
    doc = requests.get(world.issuer + "/.well-known/openid-configuration", timeout=30).json()
    assert set(doc["dpop_signing_alg_values_supported"]) >= {"ES256", "EdDSA", "RS256", "PS256"}
    assert "none" not in doc["dpop_signing_alg_values_supported"]
    assert not any(a.startswith("HS") for a in doc["dpop_signing_alg_values_supported"])


@pytest.fixture(scope="module")
def nonce_world(server):
    return World(server, nonces=True)


def nonce_period(nonce):
    """The minute a server nonce was issued for: its first 8 bytes (docs/dpop.md)."""
    raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    return int.from_bytes(raw[:8], "big")


def assert_current_nonce(returned, sent):
    """`returned` is the nonce `sent` was, or a later minute's when a minute boundary passed
    between the two requests (no clock is frozen here)."""
    assert len(returned) == 32, returned
    if nonce_period(returned) == nonce_period(sent):
        assert returned == sent
    else:
        assert nonce_period(returned) > nonce_period(sent), (returned, sent)


def test_an_environment_may_require_server_nonces(nonce_world, server):
    w = nonce_world
    key = Key("ES256")
    # RFC 9449 §8: a valid proof without a nonce is use_dpop_nonce, with the nonce in DPoP-Nonce.
    resp = w.post(w.free, key.proof(w.token_url))
    assert_oauth_error(resp, 400, "use_dpop_nonce", VALIDATION,
                       "Authorization server requires nonce in DPoP proof")
    nonce = resp.headers["DPoP-Nonce"]
    assert len(nonce) == 32
    resp = w.post(w.free, key.proof(w.token_url, claims={"nonce": nonce}))
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "DPoP"
    assert_current_nonce(resp.headers["DPoP-Nonce"], nonce)  # for the next request
    # A made-up nonce is refused the same way; an invalid proof is invalid_dpop_proof first.
    resp = w.post(w.free, key.proof(w.token_url, claims={"nonce": "x" * 32}))
    assert resp.json()["error"] == "use_dpop_nonce"
    assert_current_nonce(resp.headers["DPoP-Nonce"], nonce)
    resp = w.post(w.free, key.proof(w.token_url, htm="GET", claims={"nonce": nonce}))
    assert resp.json()["error"] == "invalid_dpop_proof"
    # Bearer requests are not affected.
    assert w.post(w.free).json()["token_type"] == "Bearer"
    # With PostgreSQL, another node of the deployment accepts the nonce (one master key).
    if server.deployment is not None:
        other = server.deployment.node()
        # A nonce of this minute from the first node, now that the second one has started.
        nonce = w.post(w.free, key.proof(w.token_url)).headers["DPoP-Nonce"]
        url = other.token_url(w.env)
        resp = requests.post(url, data={"grant_type": "client_credentials"}, auth=w.free,
                             headers={"DPoP": key.proof(url, claims={"nonce": nonce})},
                             timeout=30)
        assert resp.status_code == 200, resp.text
        assert_current_nonce(resp.headers["DPoP-Nonce"], nonce)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "PS256"])
def test_oauth4webapi_gets_and_checks_a_bound_token(world, node_work, alg):
    plan = {"issuer": world.issuer, "clientId": world.bound[0], "secret": world.bound[1],
            "audience": ORDERS, "alg": alg}
    out = subprocess.run(["node", os.path.join(node_work, "dpop.mjs"), json.dumps(plan)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert not result.get("failed"), result
    assert result["response"]["token_type"].lower() == "dpop", result
    assert result["claims"]["cnf"] == {"jkt": result["jkt"]}, result
    assert world.verify(result["response"]["access_token"])["cnf"]["jkt"] == result["jkt"]


def test_oauth4webapi_retries_with_the_server_nonce(nonce_world, node_work):
    w = nonce_world
    plan = {"issuer": w.issuer, "clientId": w.bound[0], "secret": w.bound[1],
            "audience": ORDERS, "alg": "ES256"}
    out = subprocess.run(["node", os.path.join(node_work, "dpop.mjs"), json.dumps(plan)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert not result.get("failed"), result
    assert result["nonceRetries"] == 1, result
    assert result["claims"]["cnf"] == {"jkt": result["jkt"]}, result
