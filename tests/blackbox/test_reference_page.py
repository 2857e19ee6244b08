"""The reference page's own examples, run unchanged but for their placeholders, against the real
server: the ```shell cURL block with bash and curl, the ```python block with Debian's python3.
Their tokens are then verified by PyJWT against the server's JWKS."""

import base64
import json
import os
import re
import subprocess

import jwt
import pytest

PAGE_CREDENTIAL = "e3thZG1pbkFwcElEfX06e3thZG1pbkFwcFNlY3JldH19"
PYTHON = "/usr/bin/python3"


def page_text():
    path = os.environ.get("TOLLGATE_REFERENCE")
    assert path, "TOLLGATE_REFERENCE must name the reference page"
    with open(path, encoding="utf-8") as f:
        return f.read()


def fenced_blocks(text, language):
    return re.findall(r"^```" + re.escape(language) + r"[ \t]*\n(.*?)^```[ \t]*$", text,
                      re.MULTILINE | re.DOTALL)


def test_page_credential_is_the_documented_placeholder():
    text = page_text()
    assert PAGE_CREDENTIAL in text
    assert base64.b64decode(PAGE_CREDENTIAL).decode() == "{{adminAppID}}:{{adminAppSecret}}"
    # Every example on the page uses that one credential and the token endpoint path.
    assert "POST {{authPath}}/{{envID}}/as/token" in text
    assert set(re.findall(r"Basic ([A-Za-z0-9+/=]{16,})", text)) == {PAGE_CREDENTIAL}


def substitute(block, server):
    admin = server.admin
    credential = base64.b64encode(
        f"{admin['clientId']}:{admin['clientSecret']}".encode()).decode()
    assert "{{authPath}}" in block and "{{envID}}" in block and PAGE_CREDENTIAL in block
    out = (block.replace("{{authPath}}", server.base_url)
           .replace("{{envID}}", server.env_id)
           .replace(PAGE_CREDENTIAL, credential))
    assert "{{" not in out and "}}" not in out, out
    return out


def child_env():
    env = dict(os.environ)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@pytest.fixture(scope="module")
def example_bodies(bb_server):
    text = page_text()
    shell = fenced_blocks(text, "shell")
    python = fenced_blocks(text, "python")
    assert len(shell) == 1 and shell[0].lstrip().startswith("curl "), shell
    assert len(python) == 1 and "import requests" in python[0], python

    curl = subprocess.run(["bash", "-e", "-c", substitute(shell[0], bb_server)],
                          capture_output=True, text=True, timeout=60, env=child_env())
    assert curl.returncode == 0, curl.stderr
    py = subprocess.run([PYTHON, "-c", substitute(python[0], bb_server)],
                        capture_output=True, text=True, timeout=60, env=child_env())
    assert py.returncode == 0, py.stderr
    return {"curl": curl.stdout, "python": py.stdout}


@pytest.mark.parametrize("example", ["curl", "python"])
def test_example_prints_the_documented_response(example_bodies, example):
    body = json.loads(example_bodies[example])
    assert set(body) == {"access_token", "token_type", "expires_in"}, body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("eyJ")  # like the page's "eyJhbGciOiJSUz..."


@pytest.mark.parametrize("example", ["curl", "python"])
def test_example_token_verifies_with_pyjwt(bb_server, example_bodies, example):
    token = json.loads(example_bodies[example])["access_token"]
    jwks_url = f"{bb_server.issuer}/jwks"
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=bb_server.admin["apiUrl"],
                        issuer=f"{bb_server.base_url}/{bb_server.env_id}/as",
                        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})
    assert claims["client_id"] == bb_server.admin["clientId"]
    assert claims["sub"] == bb_server.admin["clientId"]
    assert claims["aud"] == [bb_server.admin["apiUrl"]]
    assert claims["exp"] - claims["iat"] == 3600
    assert "scope" not in claims

    kids = {k.key_id for k in jwt.PyJWKClient(jwks_url).get_jwk_set().keys}
    assert header["kid"] in kids

    # The verification is real: a changed payload or another audience is refused.
    h, p, s = token.split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps({**claims, "client_id": "someone-else"}).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{h}.{forged}.{s}", key.key, algorithms=["RS256"],
                   audience=bb_server.admin["apiUrl"])
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=["RS256"], audience="https://elsewhere.test")
