"""What the tests of the reference page's examples share (test_reference_page.py,
test_reference_java.py, test_browser_cors.py): the page itself, its fenced blocks, the
substitution of its placeholders, and the checks every example's answer must pass: the documented
response shape, and a token that PyJWT verifies against the server's JWKS."""

import base64
import json
import os
import re

import jwt
import pytest

PAGE_CREDENTIAL = "e3thZG1pbkFwcElEfX06e3thZG1pbkFwcFNlY3JldH19"


def page_text():
    path = os.environ.get("TOLLGATE_REFERENCE")
    assert path, "TOLLGATE_REFERENCE must name the reference page"
    with open(path, encoding="utf-8") as f:
        return f.read()


def fenced_blocks(text, language):
    return re.findall(r"^```" + re.escape(language) + r"[ \t]*\n(.*?)^```[ \t]*$", text,
                      re.MULTILINE | re.DOTALL)


def substitute(block, server, auth_path=None):
    """The block with the page's placeholders replaced: {{authPath}} by the server's base URL (or
    `auth_path`), {{envID}} by its environment, the Basic credential by the admin's."""
    admin = server.admin
    credential = base64.b64encode(
        f"{admin['clientId']}:{admin['clientSecret']}".encode()).decode()
    assert "{{authPath}}" in block and "{{envID}}" in block and PAGE_CREDENTIAL in block
    out = (block.replace("{{authPath}}", auth_path or server.base_url)
           .replace("{{envID}}", server.env_id)
           .replace(PAGE_CREDENTIAL, credential))
    assert "{{" not in out and "}}" not in out, out
    return out


def child_env():
    env = dict(os.environ)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def check_documented_response(body):
    """The page's Example Response: exactly access_token, token_type and expires_in."""
    assert isinstance(body, dict), body
    assert set(body) == {"access_token", "token_type", "expires_in"}, body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("eyJ")  # like the page's "eyJhbGciOiJSUz..."


def verify_admin_token(server, token):
    """Verifies the admin application's token with PyJWT against the server's JWKS (signature,
    issuer, audience, lifetime, RFC 9068 typ), and that the verification is real: a changed
    payload or another audience is refused. Returns the claims."""
    jwks_url = f"{server.issuer}/jwks"
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=server.admin["apiUrl"],
                        issuer=f"{server.base_url}/{server.env_id}/as",
                        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})
    assert claims["client_id"] == server.admin["clientId"]
    assert claims["sub"] == server.admin["clientId"]
    assert claims["aud"] == [server.admin["apiUrl"]]
    assert claims["exp"] - claims["iat"] == 3600
    assert "scope" not in claims

    kids = {k.key_id for k in jwt.PyJWKClient(jwks_url).get_jwk_set().keys}
    assert header["kid"] in kids

    h, p, s = token.split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({**claims, "client_id": "someone-else"}).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{h}.{forged}.{s}", key.key, algorithms=["RS256"],
                   audience=server.admin["apiUrl"])
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=["RS256"], audience="https://elsewhere.test")
    return claims
