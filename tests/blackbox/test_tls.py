"""The HTTPS listener (--tls-cert, --tls-key, --tls-listen; src/http/tls.cc, decision 0008)
through the real binary, with clients that share nothing with the server: curl and Python
requests (verifying against a CA made here by the openssl command), and `openssl s_client` for
the protocol versions, ALPN and session resumption. Every certificate is made in the test."""

import base64
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from tollgate_server import TollgateServer, serving


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """A CA and server certificates it signs, in a temporary folder."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tollgate-tls-")
        self.dir = self.tmp.name
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA",
                cwd=self.dir)
        self.ca = self.path("ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)

    def server(self, name, common_name, key="rsa:2048"):
        """(cert, key) paths of a certificate for 127.0.0.1 and localhost, signed by the CA."""
        openssl("req", "-newkey", key, "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + common_name, cwd=self.dir)
        with open(self.path(name + ".ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem",
                cwd=self.dir)
        return self.path(name + ".pem"), self.path(name + ".key")


@pytest.fixture(scope="module")
def pki():
    p = Pki()
    yield p
    p.tmp.cleanup()


@pytest.fixture(scope="module")
def files(pki):
    """The certificate and key files the server reads (replaced by the reload test)."""
    cert, key = pki.server("first", "first.tollgate.test")
    live_cert, live_key = pki.path("live.pem"), pki.path("live.key")
    for src, dst in ((cert, live_cert), (key, live_key)):
        with open(src, "rb") as s, open(dst, "wb") as d:
            d.write(s.read())
    return live_cert, live_key


@pytest.fixture(scope="module")
def server(files):
    cert, key = files
    with serving(extra_args=["--tls-listen", "127.0.0.1:0", "--tls-cert", cert,
                             "--tls-key", key]) as s:
        yield s


def host_port(server):
    return server.tls_url.split("//")[1]


def s_client(server, *args, stdin=b""):
    out = subprocess.run(["openssl", "s_client", "-connect", host_port(server), *args],
                         input=stdin, capture_output=True, timeout=60)
    return out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")


def token(server, base, **kwargs):
    a = server.admin
    return requests.post(f"{base}/{a['environmentId']}/as/token", timeout=30,
                         data={"grant_type": "client_credentials"},
                         auth=(a["clientId"], a["clientSecret"]), **kwargs)


def test_curl_gets_a_token_over_https_and_the_issuer_is_https(server, pki):
    a = server.admin
    assert server.tls_url.startswith("https://127.0.0.1:")
    out = subprocess.run(
        ["curl", "-sS", "--cacert", pki.ca, "-u", f"{a['clientId']}:{a['clientSecret']}",
         "-d", "grant_type=client_credentials",
         f"{server.tls_url}/{a['environmentId']}/as/token"],
        capture_output=True, text=True, timeout=60, check=True)
    body = json.loads(out.stdout)
    assert body["token_type"] == "Bearer"
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    # Without --auth-url the public base is the HTTPS listener.
    assert claims["iss"] == f"{server.tls_url}/{a['environmentId']}/as"


def test_requests_verifies_the_chain_and_the_plain_listener_stays(server, pki):
    assert token(server, server.tls_url, verify=pki.ca).status_code == 200
    assert token(server, server.base_url).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        token(server, server.tls_url, verify=True)  # the system store does not know the CA
    doc = requests.get(f"{server.tls_url}/{server.env_id}/as/.well-known/openid-configuration",
                       verify=pki.ca, timeout=30).json()
    assert doc["token_endpoint"].startswith(server.tls_url)


def test_only_tls_1_2_and_1_3(server):
    for version in ("-tls1_2", "-tls1_3"):
        out = s_client(server, version)
        assert "Cipher is" in out and "Cipher is (NONE)" not in out, out
    for version in ("-tls1", "-tls1_1"):
        out = s_client(server, version)
        assert "Cipher is (NONE)" in out or "alert" in out, out
    # TLS 1.2: forward-secret AEAD suites only.
    assert "Cipher is (NONE)" in s_client(server, "-tls1_2", "-cipher", "AES128-SHA") or \
        "alert" in s_client(server, "-tls1_2", "-cipher", "AES128-SHA")


def test_alpn_is_http_1_1(server):
    assert "ALPN protocol: http/1.1" in s_client(server, "-alpn", "h2,http/1.1")
    assert "no application protocol" in s_client(server, "-alpn", "h2")
    assert "No ALPN negotiated" in s_client(server)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_sessions_resume_with_tickets(server, pki, version):
    session = pki.path("session" + version)
    # TLS 1.3 sends its ticket after the handshake: a request and its answer let it arrive.
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    first = s_client(server, version, "-sess_out", session, "-ign_eof", stdin=request)
    assert "New," in first, first
    second = s_client(server, version, "-sess_in", session, "-ign_eof", stdin=request)
    assert "Reused," in second, second


def wait_for_log(server, text, since):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = server.log_lines[since:]
        for line in lines:
            if text in line:
                return line
        time.sleep(0.02)  # polling the log for the line the server writes, not a guessed delay
    raise AssertionError(f"no '{text}' in the log:\n" + "".join(server.log_lines[since:]))


def test_sighup_reloads_the_certificate_without_dropping_connections(server, pki, files):
    live_cert, live_key = files
    kept = requests.Session()  # verify per call: REQUESTS_CA_BUNDLE would override a default
    assert token(server, server.tls_url, verify=pki.ca).status_code == 200
    assert kept.get(server.tls_url + "/healthz", timeout=30, verify=pki.ca).status_code == 200
    assert "CN = first.tollgate.test" in s_client(server)

    # A new certificate: new connections get it.
    cert, key = pki.server("second", "second.tollgate.test")
    for src, dst in ((cert, live_cert), (key, live_key)):
        with open(src, "rb") as s, open(dst, "wb") as d:
            d.write(s.read())
    mark = len(server.log_lines)
    server.send_signal(signal.SIGHUP)
    assert "second.tollgate.test" in wait_for_log(server, "TLS certificate reloaded", mark)
    assert "CN = second.tollgate.test" in s_client(server)
    # The connection opened before the reload still works.
    assert kept.get(server.tls_url + "/healthz", timeout=30, verify=pki.ca).status_code == 200

    # Unreadable files: the reload fails, the server keeps the certificate it has.
    with open(live_cert, "w") as f:
        f.write("not a certificate")
    mark = len(server.log_lines)
    server.send_signal(signal.SIGHUP)
    line = wait_for_log(server, "TLS certificate not reloaded", mark)
    assert "no usable PEM certificate" in line, line
    assert "CN = second.tollgate.test" in s_client(server)
    assert token(server, server.tls_url, verify=pki.ca).status_code == 200
    with open(cert, "rb") as s, open(live_cert, "wb") as d:
        d.write(s.read())


@pytest.mark.parametrize("case", ["missing", "mismatched", "encrypted", "alone"])
def test_bad_files_stop_the_start_with_a_clear_error(pki, case):
    cert, key = pki.server("start-" + case, "start.tollgate.test")
    other_cert, _ = pki.server("other-" + case, "other.tollgate.test")
    if case == "missing":
        args, expected = ["--tls-cert", pki.path("nope.pem"), "--tls-key", key], "cannot read"
    elif case == "mismatched":
        args, expected = ["--tls-cert", other_cert, "--tls-key", key], "is not the private key"
    elif case == "encrypted":
        openssl("pkey", "-in", key, "-aes256", "-passout", "pass:secret", "-out", "enc.key",
                cwd=pki.dir)
        args, expected = ["--tls-cert", cert, "--tls-key", pki.path("enc.key")], \
            "no usable unencrypted PEM private key"
    else:
        args, expected = ["--tls-cert", cert], "--tls-cert and --tls-key go together"
    server = TollgateServer()
    try:
        out = subprocess.run(
            [os.environ.get("TOLLGATE_BIN", "build/tollgate"), "serve", "--store", server.store,
             "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", *args],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        server.tmp.cleanup()
    assert out.returncode in (1, 2), out
    assert expected in out.stderr, out.stderr
    assert "\n" not in out.stderr.strip(), out.stderr  # one line


def test_a_dpop_proof_names_the_https_token_endpoint(server, pki):
    from test_dpop import Key  # the DPoP test's proof maker (Python cryptography)
    a = server.admin
    url = f"{server.tls_url}/{a['environmentId']}/as/token"
    key = Key("ES256")
    resp = requests.post(url, data={"grant_type": "client_credentials"}, verify=pki.ca,
                         auth=(a["clientId"], a["clientSecret"]), timeout=30,
                         headers={"DPoP": key.proof(url)})
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "DPoP"
    # A proof naming the plain listener's URL is for another URI than the issuer's.
    plain = f"{server.base_url}/{a['environmentId']}/as/token"
    resp = requests.post(url, data={"grant_type": "client_credentials"}, verify=pki.ca,
                         auth=(a["clientId"], a["clientSecret"]), timeout=30,
                         headers={"DPoP": key.proof(plain)})
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_dpop_proof", resp.text
