"""The reference page's own examples, run unchanged but for their placeholders, against the real
server: cURL (bash and curl), Python (Debian's python3 and requests), Go (Debian's golang-go,
standard library), Ruby (Debian's ruby, net/http), NodeJS (the npm `request` package the example
requires) and the raw HTTP request (over a socket; see its test). Their tokens are then verified
by PyJWT against the server's JWKS. The Java example (Debian's OkHttp) runs in
test_reference_java.py, the jQuery one in a browser in test_browser_cors.py; the C#, PHP and
Swift examples need packages Debian 12 does not ship (RestSharp, HTTP_Request2, Foundation)."""

import base64
import json
import os
import re
import socket
import subprocess
import urllib.parse

import pytest

from reference_examples import (PAGE_CREDENTIAL, check_documented_response, child_env,
                                fenced_blocks, page_text, substitute, verify_admin_token)

PYTHON = "/usr/bin/python3"


def test_page_credential_is_the_documented_placeholder():
    text = page_text()
    assert PAGE_CREDENTIAL in text
    assert base64.b64decode(PAGE_CREDENTIAL).decode() == "{{adminAppID}}:{{adminAppSecret}}"
    # Every example on the page uses that one credential and the token endpoint path.
    assert "POST {{authPath}}/{{envID}}/as/token" in text
    assert set(re.findall(r"Basic ([A-Za-z0-9+/=]{16,})", text)) == {PAGE_CREDENTIAL}


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
    check_documented_response(json.loads(example_bodies[example]))


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_token_verifies_with_pyjwt(bb_server, example_bodies, example):
    verify_admin_token(bb_server, json.loads(example_bodies[example])["access_token"])
