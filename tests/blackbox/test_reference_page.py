"""The reference page's own examples, run unchanged but for their placeholders, against the real
server: cURL (bash and curl), Python (Debian's python3 and requests), Go (Debian's golang-go,
standard library), Ruby (Debian's ruby, net/http), NodeJS (the npm `request` package the example
requires) and the raw HTTP request (over a socket; see its test). Their tokens are then verified
by PyJWT against the server's JWKS. The C#, Java, PHP, Swift and jQuery examples need packages
Debian 12 does not ship (RestSharp, OkHttp, HTTP_Request2, Foundation, a browser)."""

import base64
import json
import os
import re
import socket
import subprocess
import urllib.parse

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


def substitute(block, server, auth_path=None):
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


def run(argv, tmp, cwd=None):
    env = child_env()
    # Go keeps its build cache under HOME; a fresh one per run, in the test's folder.
    env.update(HOME=str(tmp), GOCACHE=str(tmp / "gocache"), GOPATH=str(tmp / "gopath"),
               GOPROXY="off")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout


def run_http(block, server):
    """The page's raw HTTP request, byte for byte but for its placeholders ({{authPath}} in its
    Host line is the authority) and CRLF line ends. The page gives no Content-Length, without
    which a request has no body (RFC 9112 6.3), so any HTTP client sending it adds one; that
    header is the only line added here."""
    authority = urllib.parse.urlsplit(server.base_url).netloc
    head, body = substitute(block, server, auth_path=authority).split("\n\n", 1)
    body = body.strip("\n")
    lines = head.split("\n") + [f"Content-Length: {len(body)}", "Connection: close"]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
    host, port = authority.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(raw)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 200"), answer[:300]
    return rest.partition(b"\r\n\r\n")[2].decode()


@pytest.fixture(scope="module")
def example_bodies(bb_server, node_work, tmp_path_factory):
    text = page_text()
    tmp = tmp_path_factory.mktemp("examples")
    shell = fenced_blocks(text, "shell")
    python = fenced_blocks(text, "python")
    golang = fenced_blocks(text, "golang")
    ruby = fenced_blocks(text, "ruby")
    http = fenced_blocks(text, "http")
    node = [b for b in fenced_blocks(text, "javascript") if "require('request')" in b]
    assert len(shell) == 1 and shell[0].lstrip().startswith("curl "), shell
    assert len(python) == 1 and "import requests" in python[0], python
    assert len(golang) == 1 and "net/http" in golang[0], golang
    assert len(ruby) == 1 and "net/http" in ruby[0], ruby
    assert len(http) == 1 and http[0].startswith("POST "), http
    assert len(node) == 1, node

    bodies = {
        "curl": run(["bash", "-e", "-c", substitute(shell[0], bb_server)], tmp),
        "python": run([PYTHON, "-c", substitute(python[0], bb_server)], tmp),
        "ruby": run(["ruby", "-e", substitute(ruby[0], bb_server)], tmp),
        "http": run_http(http[0], bb_server),
    }
    go_file = tmp / "main.go"
    go_file.write_text(substitute(golang[0], bb_server))
    bodies["go"] = run(["go", "run", str(go_file)], tmp, cwd=tmp)
    node_file = os.path.join(node_work, "reference_example.cjs")  # require() finds node_modules
    with open(node_file, "w") as f:
        f.write(substitute(node[0], bb_server))
    bodies["node"] = run(["node", node_file], tmp, cwd=node_work)
    return bodies


EXAMPLES = ["curl", "python", "go", "ruby", "node", "http"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_prints_the_documented_response(example_bodies, example):
    body = json.loads(example_bodies[example])
    assert set(body) == {"access_token", "token_type", "expires_in"}, body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("eyJ")  # like the page's "eyJhbGciOiJSUz..."


@pytest.mark.parametrize("example", EXAMPLES)
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
