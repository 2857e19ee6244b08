"""/v1/environments/{envID}/keys[/{keyID}] (SPEC §3, §6): the key object (PingOne's certificate
model, never private material), EC, EdDSA and Ed25519 keys, switching the default (the token header
follows from the next request), JWKS publication of retired and revoked keys, and what may not be
done to the default key. Tokens are verified with PyJWT against the JWKS."""

import base64
import datetime
import json
import time

import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import mgmt_support
from mgmt_support import (ENV_ADMIN, assert_int, assert_timestamp, assert_uuid, check_created,
                          check_paging, create_env, create_worker, expect, expect_error,
                          expect_not_found, expect_unauthorized, jwks, token_request, walk_strings)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin

PRIVATE_FIELDS = {"d", "p", "q", "dp", "dq", "qi", "k", "privateKey", "private_key",
                  "privateKeyPem", "pem", "pkcs8", "secret", "keyMaterial"}
ALGS = {"RSA": ("RS256", "SHA256withRSA", "RSA"), "EC": ("ES256", "SHA256withECDSA", "EC"),
        "EdDSA": ("EdDSA", "Ed25519", "OKP"), "Ed25519": ("Ed25519", "Ed25519", "OKP")}


def b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_ed25519(token, jwk, audience, issuer):
    """PyJWT 2.6 knows "EdDSA" only: an "Ed25519" token (RFC 9864) is checked with
    python3-cryptography, the same signature, and its claims by hand."""
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519", jwk
    head, payload, sig = token.split(".")
    try:
        Ed25519PublicKey.from_public_bytes(b64decode(jwk["x"])).verify(
            b64decode(sig), (head + "." + payload).encode())
    except InvalidSignature:
        raise AssertionError("Ed25519 signature does not verify") from None
    claims = json.loads(b64decode(payload))
    assert claims["iss"] == issuer and audience in claims["aud"], claims
    assert claims["exp"] > time.time(), claims


def parse_ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_no_private_material(value):
    for s in walk_strings(value):
        assert "PRIVATE KEY" not in s, value
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            assert not (set(v) & PRIVATE_FIELDS), v
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def check_key(key, env_name=None):
    assert_uuid(key["id"])
    assert key["algorithm"] in ALGS, key
    assert_int(key["keyLength"])
    assert key["signatureAlgorithm"] == ALGS[key["algorithm"]][1], key
    assert key["usageType"] == "SIGNING", key
    assert isinstance(key["default"], bool), key
    assert key["status"] in ("VALID", "EXPIRING", "EXPIRED", "NOT_YET_VALID", "REVOKED"), key
    assert_int(key["validityPeriod"])
    for field in ("createdAt", "startsAt", "expiresAt"):
        assert_timestamp(key[field])
    assert isinstance(key["name"], str) and key["name"], key
    if env_name is not None:
        assert key["subjectDN"] == "CN=" + env_name, key
    assert_no_private_material(key)


class Deployment:
    """A fresh environment and a worker in it, whose tokens show which key signs."""

    def __init__(self, admin, server):
        self.admin = admin
        self.server = server
        env = create_env(admin)
        self.env = env["id"]
        self.env_name = env["name"]
        self.worker, self.secret, self.caller = create_worker(admin, self.env,
                                                              [(ENV_ADMIN, self.env)])
        self.keys_path = f"/environments/{self.env}/keys"

    def token(self):
        resp = token_request(self.server, self.env, self.worker["id"], self.secret)
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def jwks(self):
        return jwks(self.server, self.env)["keys"]

    def keys(self):
        return self.admin.items(self.keys_path, "keys")

    def key_path(self, key_id):
        return f"{self.keys_path}/{key_id}"

    def put(self, key, **changes):
        body = dict(key)
        body.update(changes)
        return self.admin.put(self.key_path(key["id"]), body)

    def verify(self, token):
        """Verifies `token` with PyJWT against the JWKS; returns its header."""
        header = jwt.get_unverified_header(token)
        match = [k for k in self.jwks() if k["kid"] == header["kid"]]
        assert len(match) == 1, (header, self.jwks())
        issuer = f"{self.server.base_url}/{self.env}/as"
        if header["alg"] == "Ed25519":
            verify_ed25519(token, match[0], self.server.base_url, issuer)
        else:
            key = jwt.PyJWK(match[0])
            jwt.decode(token, key.key, algorithms=[match[0]["alg"]],
                       audience=self.server.base_url, issuer=issuer)
        assert match[0]["alg"] == header["alg"], (match[0], header)
        return header


@pytest.fixture()
def dep(admin, mgmt_server):
    return Deployment(admin, mgmt_server)


def test_initial_key(dep):
    keys = dep.keys()
    assert len(keys) == 1, keys
    key = keys[0]
    check_key(key, dep.env_name)
    assert key["algorithm"] == "RSA" and key["keyLength"] == 2048, key
    assert key["default"] is True and key["status"] == "VALID", key
    assert key["validityPeriod"] == 365, key
    assert (parse_ts(key["expiresAt"]) - parse_ts(key["startsAt"])).days == 365, key
    published = dep.jwks()
    assert [k["kid"] for k in published] == [key["id"]], published
    assert published[0]["kty"] == "RSA" and published[0]["use"] == "sig", published
    header = dep.verify(dep.token())
    assert header["alg"] == "RS256" and header["kid"] == key["id"], header
    assert expect(dep.admin.get(dep.key_path(key["id"])), 200) == key


@pytest.mark.parametrize("algorithm,length", [("EC", 256), ("EdDSA", None), ("Ed25519", None),
                                              ("RSA", 3072), ("RSA", 4096)])
def test_create_key(dep, mgmt_server, algorithm, length):
    body = {"algorithm": algorithm}
    if length is not None:
        body["keyLength"] = length
    resp = dep.admin.post(dep.keys_path, body)
    key = expect(resp, 201)
    check_key(key, dep.env_name)
    assert key["algorithm"] == algorithm
    assert key["keyLength"] == (length or 256), key
    assert key["default"] is False and key["status"] == "VALID", key
    assert key["validityPeriod"] == 365
    assert key["name"] == "Signing key " + key["createdAt"], key
    assert resp.headers["Location"] == (f"{mgmt_server.base_url}/v1/environments/{dep.env}"
                                        f"/keys/{key['id']}")
    check_created(dep.admin, key, resp.headers["Location"])
    # Published at once; tokens are still signed by the default RSA key.
    jwk = {k["kid"]: k for k in dep.jwks()}[key["id"]]
    alg, _, kty = ALGS[algorithm]
    assert jwk["kty"] == kty and jwk["alg"] == alg and jwk["use"] == "sig", jwk
    if algorithm == "EC":
        assert jwk["crv"] == "P-256", jwk
    if algorithm in ("EdDSA", "Ed25519"):
        assert jwk["crv"] == "Ed25519", jwk
    assert dep.verify(dep.token())["alg"] == "RS256"


@pytest.mark.parametrize("algorithm", ["EdDSA", "Ed25519"])
def test_ed25519_keys_ignore_key_length(dep, algorithm):
    key = dep.admin.create(dep.keys_path, {"algorithm": algorithm, "keyLength": 4096})
    assert key["keyLength"] == 256, key


@pytest.mark.parametrize("algorithm", ["EdDSA", "Ed25519"])
@pytest.mark.parametrize("signature", [None, "Ed25519", "EdDSA"])
def test_ed25519_key_signs_under_the_name_it_was_created_with(dep, algorithm, signature):
    """RFC 9864: an Ed25519 key is created as "EdDSA" or "Ed25519" (its signatureAlgorithm,
    Ed25519, may also be given by either name); its JWK and its tokens carry that name, and
    both keep verifying after the default moves on."""
    body = {"algorithm": algorithm, "default": True}
    if signature:
        body["signatureAlgorithm"] = signature
    key = dep.admin.create(dep.keys_path, body)
    assert key["algorithm"] == algorithm and key["signatureAlgorithm"] == "Ed25519", key
    assert expect(dep.admin.get(dep.key_path(key["id"])), 200)["algorithm"] == algorithm
    jwk = {k["kid"]: k for k in dep.jwks()}[key["id"]]
    assert jwk["alg"] == algorithm and jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519", jwk
    token = dep.token()
    header = dep.verify(token)
    assert header["alg"] == algorithm and header["kid"] == key["id"], header
    # The token works on /v1 (the server's own verification under the key's name).
    expect(dep.caller.get(dep.keys_path, token=token), 200)
    dep.admin.create(dep.keys_path, {"algorithm": "RSA", "default": True})
    assert dep.verify(dep.token())["alg"] == "RS256"
    dep.verify(token)
    expect(dep.caller.get(dep.keys_path, token=token), 200)


@pytest.mark.parametrize("body", [{"algorithm": "Ed448"}, {"algorithm": "ed25519"},
                                  {"algorithm": "OKP"}])
def test_ed448_and_other_names_are_refused(dep, body):
    before = [k["id"] for k in dep.keys()]
    resp = expect_error(dep.admin.post(dep.keys_path, body), 400, "INVALID_DATA",
                        "INVALID_VALUE", "algorithm")
    assert "Ed25519" in json.dumps(resp), resp
    assert [k["id"] for k in dep.keys()] == before


@pytest.mark.parametrize("algorithm,signature", [("RSA", "EdDSA"), ("EC", "Ed25519"),
                                                 ("Ed25519", "SHA256withRSA"),
                                                 ("EdDSA", "Ed448")])
def test_signature_algorithm_must_suit_the_key(dep, algorithm, signature):
    expect_error(dep.admin.post(dep.keys_path, {"algorithm": algorithm,
                                                "signatureAlgorithm": signature}),
                 400, "INVALID_DATA", "INVALID_VALUE", "signatureAlgorithm")


def test_key_list_and_paging(dep):
    made = [dep.admin.create(dep.keys_path, {"algorithm": "EC", "keyLength": 256})["id"]
            for _ in range(2)]
    ids = check_paging(dep.admin, dep.keys_path, "keys", made)
    assert len(ids) == 3
    for key in dep.keys():
        check_key(key)
    assert sum(1 for k in dep.keys() if k["default"]) == 1


@pytest.mark.parametrize("body,detail,target", [
    ({"keyLength": 2048}, "REQUIRED_VALUE", "algorithm"),
    ({"algorithm": "DSA"}, "INVALID_VALUE", "algorithm"),
    ({"algorithm": "rsa", "keyLength": 2048}, "INVALID_VALUE", "algorithm"),
    ({"algorithm": "RSA", "keyLength": "2048"}, "INVALID_VALUE", "keyLength"),
    ({"algorithm": "RSA", "keyLength": 2048, "default": "false"}, "INVALID_VALUE", "default"),
])
def test_key_validation(dep, body, detail, target):
    before = [k["id"] for k in dep.keys()]
    expect_error(dep.admin.post(dep.keys_path, body), 400, "INVALID_DATA", detail, target)
    assert [k["id"] for k in dep.keys()] == before


@pytest.mark.parametrize("body", [{"algorithm": "RSA", "keyLength": 1024},
                                  {"algorithm": "RSA", "keyLength": 2047},
                                  {"algorithm": "EC", "keyLength": 384}])
def test_key_length_refused(dep, body):
    before = [k["id"] for k in dep.keys()]
    resp = expect_error(dep.admin.post(dep.keys_path, body), 400, "INVALID_DATA")
    assert any(d.get("target") == "keyLength" and d["code"] in ("INVALID_VALUE", "OUT_OF_RANGE")
               for d in resp["details"]), resp
    assert [k["id"] for k in dep.keys()] == before


def test_switching_the_default_changes_the_next_token(dep):
    rsa_key = dep.keys()[0]
    old_token = dep.token()
    assert dep.verify(old_token)["kid"] == rsa_key["id"]

    ec_key = dep.admin.create(dep.keys_path, {"algorithm": "EC", "keyLength": 256})
    got = expect(dep.put(ec_key, default=True), 200)
    assert got["default"] is True and got["id"] == ec_key["id"], got
    check_key(got)
    by_id = {k["id"]: k for k in dep.keys()}
    assert by_id[ec_key["id"]]["default"] is True
    assert by_id[rsa_key["id"]]["default"] is False
    header = dep.verify(dep.token())
    assert header["alg"] == "ES256" and header["kid"] == ec_key["id"], header
    # The retired key stays published, and its tokens stay good.
    assert rsa_key["id"] in {k["kid"] for k in dep.jwks()}
    dep.verify(old_token)
    expect(dep.admin.get(dep.keys_path, token=old_token), 200)

    ed_key = dep.admin.create(dep.keys_path, {"algorithm": "EdDSA", "default": True})
    assert ed_key["default"] is True, ed_key
    header = dep.verify(dep.token())
    assert header["alg"] == "EdDSA" and header["kid"] == ed_key["id"], header
    assert [k["id"] for k in dep.keys() if k["default"]] == [ed_key["id"]]
    assert {rsa_key["id"], ec_key["id"], ed_key["id"]} <= {k["kid"] for k in dep.jwks()}


def test_revoked_key_leaves_the_jwks_and_its_tokens_stop_working(dep):
    rsa_key = dep.keys()[0]
    old_token = dep.token()
    expect(dep.caller.get(dep.keys_path, token=old_token), 200)
    ec_key = dep.admin.create(dep.keys_path, {"algorithm": "EC", "keyLength": 256,
                                              "default": True})
    rsa_key = expect(dep.admin.get(dep.key_path(rsa_key["id"])), 200)
    got = expect(dep.put(rsa_key, status="REVOKED"), 200)
    assert got["status"] == "REVOKED" and got["default"] is False, got
    assert expect(dep.admin.get(dep.key_path(rsa_key["id"])), 200)["status"] == "REVOKED"
    assert rsa_key["id"] not in {k["kid"] for k in dep.jwks()}
    assert ec_key["id"] in {k["kid"] for k in dep.jwks()}
    # A token signed by the revoked key no longer opens the management API.
    expect_unauthorized(dep.caller.get(dep.keys_path, token=old_token))
    assert dep.verify(dep.token())["kid"] == ec_key["id"]
    # A revoked key cannot come back as the default.
    expect_error(dep.put(got, status="VALID", default=True), 400, "INVALID_DATA",
                 "INVALID_VALUE", "default")
    assert dep.verify(dep.token())["kid"] == ec_key["id"]
    assert rsa_key["id"] not in {k["kid"] for k in dep.jwks()}


def test_default_key_cannot_be_deleted_or_revoked(dep):
    key = dep.keys()[0]
    expect_error(dep.admin.delete(dep.key_path(key["id"])), 400, "INVALID_DATA",
                 "INVALID_VALUE", "default")
    expect_error(dep.put(key, status="REVOKED"), 400, "INVALID_DATA", "INVALID_VALUE", "status")
    # Nor can it stop being the default without another taking its place.
    expect_error(dep.put(key, default=False), 400, "INVALID_DATA", "INVALID_VALUE", "default")
    assert dep.keys() == [key]
    assert [k["kid"] for k in dep.jwks()] == [key["id"]]
    dep.verify(dep.token())


def test_deleting_a_key(dep):
    rsa_key = dep.keys()[0]
    key = dep.admin.create(dep.keys_path, {"algorithm": "EC", "keyLength": 256,
                                           "default": True})
    assert key["id"] in {k["kid"] for k in dep.jwks()}
    ec_token = dep.token()
    assert dep.verify(ec_token)["kid"] == key["id"]
    expect(dep.caller.get(dep.keys_path, token=ec_token), 200)
    expect(dep.put(rsa_key, default=True), 200)
    expect(dep.admin.delete(dep.key_path(key["id"])), 204)
    # Tokens it signed stop opening the management API with it.
    expect_unauthorized(dep.caller.get(dep.keys_path, token=ec_token))
    expect_not_found(dep.admin.get(dep.key_path(key["id"])))
    expect_not_found(dep.admin.delete(dep.key_path(key["id"])))
    assert key["id"] not in {k["kid"] for k in dep.jwks()}
    assert key["id"] not in [k["id"] for k in dep.keys()]


def test_unknown_and_foreign_keys_are_404(dep, admin, mgmt_server):
    other = Deployment(admin, mgmt_server)
    foreign = other.keys()[0]
    expect_not_found(dep.admin.get(dep.key_path(foreign["id"])))
    expect_not_found(dep.admin.delete(dep.key_path(foreign["id"])))
    expect_not_found(dep.put(foreign, default=True))
    expect_not_found(dep.admin.get(dep.key_path("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")))
    expect_not_found(dep.admin.get(dep.key_path("kid-1")))
    assert other.keys() == [foreign]


def test_no_private_material_anywhere(dep):
    created = expect(dep.admin.post(dep.keys_path, {"algorithm": "RSA", "keyLength": 2048}), 201)
    assert_no_private_material(created)
    assert_no_private_material(expect(dep.admin.get(dep.keys_path), 200))
    for key in dep.keys():
        assert_no_private_material(expect(dep.admin.get(dep.key_path(key["id"])), 200))
    switched = expect(dep.put(created, default=True), 200)
    assert_no_private_material(switched)
    for jwk in dep.jwks():
        assert not ({"d", "p", "q", "dp", "dq", "qi"} & set(jwk)), jwk
