"""SPEC 3: the JWKS and both RFC 8414 discovery documents, followed the way a client library
follows them: issuer equals the tokens' `iss`, token_endpoint issues tokens, jwks_uri verifies."""

import re

import jwt
import pytest
import requests

WELL_KNOWN = [".well-known/openid-configuration", ".well-known/oauth-authorization-server"]


def admin_token(server, token_endpoint):
    admin = server.admin
    resp = requests.post(token_endpoint, data={"grant_type": "client_credentials"},
                         auth=(admin["clientId"], admin["clientSecret"]), timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


@pytest.mark.parametrize("path", WELL_KNOWN)
def test_discovery_document(bb_server, path):
    resp = requests.get(f"{bb_server.issuer}/{path}", timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].split(";")[0] == "application/json"
    doc = resp.json()

    # RFC 8414 §2 / §3.3: the issuer is the URL the document was fetched under, https or
    # loopback http, without query or fragment; the required members are present.
    issuer = doc["issuer"]
    assert issuer == f"{bb_server.base_url}/{bb_server.env_id}/as"
    assert "?" not in issuer and "#" not in issuer
    assert f"{issuer}/{path}" == resp.url
    assert isinstance(doc["response_types_supported"], list)
    assert "client_credentials" in doc["grant_types_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        doc["token_endpoint_auth_methods_supported"])
    for name in doc["token_endpoint_auth_methods_supported"]:
        assert re.fullmatch(r"[a-z_]+", name), name  # lower-case RFC names (SPEC 3)
    assert doc["token_endpoint"] == f"{issuer}/token"
    assert doc["jwks_uri"] == f"{issuer}/jwks"

    # Followed: the token endpoint issues, the JWKS verifies, the issuer is the token's iss.
    token = admin_token(bb_server, doc["token_endpoint"])
    key = jwt.PyJWKClient(doc["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"],
                        audience=bb_server.admin["apiUrl"], issuer=issuer)
    assert claims["iss"] == issuer
    assert jwt.get_unverified_header(token)["alg"] in doc["id_token_signing_alg_values_supported"]


def test_both_discovery_documents_agree(bb_server):
    docs = [requests.get(f"{bb_server.issuer}/{p}", timeout=10).json() for p in WELL_KNOWN]
    assert docs[0] == docs[1]


def test_jwks(bb_server):
    resp = requests.get(f"{bb_server.issuer}/jwks", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] in ("application/json",
                                                          "application/jwk-set+json")
    cache = resp.headers.get("Cache-Control", "")
    assert "public" in cache
    m = re.search(r"max-age=(\d+)", cache)
    assert m and 0 < int(m.group(1)) <= 300, cache
    keys = resp.json()["keys"]
    assert keys
    for k in keys:
        assert {"kty", "kid", "use", "alg"} <= set(k), k
        assert k["use"] == "sig"
        assert "d" not in k and "p" not in k and "q" not in k, "private key material published"
        if k["kty"] == "RSA":
            assert {"n", "e"} <= set(k)
    assert len({k["kid"] for k in keys}) == len(keys)
    # The environment's first key is RSA (SPEC 3), and every key loads as a public key.
    assert any(k["kty"] == "RSA" for k in keys)
    for k in keys:
        jwt.PyJWK(k)


def test_discovery_of_an_unknown_environment_is_404(bb_server):
    resp = requests.get(
        f"{bb_server.base_url}/00000000-0000-4000-8000-000000000000/as/{WELL_KNOWN[0]}",
        timeout=10)
    assert resp.status_code == 404
