"""RFC 8705 mutual-TLS client authentication and certificate-bound access tokens through the real
binary, on SQLite and on PostgreSQL, configured through /v1 from the init credentials.

The clients share nothing with the server: curl (--cert/--key/--cacert) and Python requests
(cert=(crt, key), verify= the listener's CA, always explicit since REQUESTS_CA_BUNDLE is set)
present the certificates; PyJWT verifies every token against the environment's JWKS; the
expected x5t#S256 is computed here from the DER that `openssl x509 -outform DER` wrote. Every CA
and certificate is made by the openssl command in a temporary folder (mtls_pki.py).

Servers: each of `server` (SQLite, PostgreSQL) has the HTTPS listener and --mtls-url;
`proxy_server` (SQLite, PostgreSQL) has the HTTPS listener, --trusted-proxies 127.0.0.1/32 and
--proxy-client-certs, so this test is the proxy and its RFC 9440 Client-Cert headers are the
only certificates that count; `plain_server` (SQLite) has the HTTPS listener and either trusted
proxies without --proxy-client-certs, or --proxy-client-certs for other peers than this test:
Client-Cert headers are ignored there, and discovery has no mtls_endpoint_aliases.

The main environment (`world`) trusts the client root CA "CN=Test Root,O=Example"; others are
made by the tests that need another trust list."""

import base64
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import urllib.parse
import uuid

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from admin_api import AdminApi
from mtls_pki import Pki
from tollgate_server import UUID_RE, TollgateServer, serving

ORDERS = "https://orders.mtls.example.test"
MTLS_URL = "https://mtls.example.test"
TLS_AUTH_FIELDS = ("tlsClientAuthSubjectDn", "tlsClientAuthSanDns", "tlsClientAuthSanUri",
                   "tlsClientAuthSanIp", "tlsClientAuthSanEmail")
BOUND = "tlsClientCertificateBoundAccessTokens"


# --- servers -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki():
    p = Pki()
    yield p
    p.cleanup()


def tls_args(pki):
    return ["--tls-listen", "127.0.0.1:0", "--tls-cert", pki.listener.pem_path,
            "--tls-key", pki.listener.key_path]


def full_args(pki):
    return tls_args(pki) + ["--mtls-url", MTLS_URL]


def proxy_args(pki):
    return tls_args(pki) + ["--trusted-proxies", "127.0.0.1/32", "--proxy-client-certs"]


def start(backend, args):
    """A server on `backend` ("sqlite" or "postgres") with `args`, for a fixture to yield."""
    if backend == "sqlite":
        with serving(extra_args=args) as s:
            s.deployment = None
            yield s
        return
    from pg_support import Deployment, shared_cluster
    cluster, owned = shared_cluster()
    deployment = Deployment(cluster)
    try:
        node = deployment.node(extra_args=args)
        node.deployment = deployment  # for a second node of the same deployment
        yield node
    finally:
        codes = deployment.close()
        if owned is not None:
            owned.destroy()
    assert codes and all(c == 0 for c in codes), codes


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, pki):
    yield from start(request.param, full_args(pki))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def proxy_server(request, pki):
    yield from start(request.param, proxy_args(pki))


@pytest.fixture(scope="module", params=["sqlite-proxies-without-switch",
                                        "sqlite-switch-for-other-peers"])
def plain_server(request, pki):
    """HTTPS without --mtls-url; Client-Cert headers from this test never count."""
    extra = (["--trusted-proxies", "127.0.0.1/32"]
             if request.param == "sqlite-proxies-without-switch"
             else ["--trusted-proxies", "10.0.0.0/8", "--proxy-client-certs"])
    with serving(extra_args=tls_args(pki) + extra) as s:
        yield s


# --- the world -----------------------------------------------------------------------------------

class App:
    def __init__(self, body, secret):
        self.body = body
        self.id = body["id"]
        self.secret = secret


class World:
    """An environment with an orders resource (scope read), trusting the CAs `trust` (Certs),
    and a CLIENT_SECRET_BASIC application that introspects."""

    def __init__(self, server, pki, trust=()):
        self.server = server
        self.pki = pki
        self.ca_file = pki.server_ca.pem_path  # verifies the HTTPS listener
        self.admin = AdminApi(server)
        self.env = self.admin.create("/environments", {"name": f"mtls {uuid.uuid4().hex[:8]}",
                                                       "type": "SANDBOX"})["id"]
        res = self.create("/resources", {"name": "orders", "audience": ORDERS})
        self.resource = res["id"]
        self.scope = self.create(f"/resources/{res['id']}/scopes", {"name": "read"})["id"]
        self.cas = [self.trust(c) for c in trust]
        self.doc = self.discovery()
        self.issuer = self.doc["issuer"]
        self.tls_base = f"{server.tls_url}/{self.env}/as"
        self.plain_base = f"{server.base_url}/{self.env}/as"
        self.introspector = self.app("CLIENT_SECRET_BASIC")

    def path(self, suffix=""):
        return f"/environments/{self.env}{suffix}"

    def create(self, path, body):
        return self.admin.create(self.path(path), body)

    def trust(self, cert, name=None):
        return self.create("/trustedCertificateAuthorities",
                           {"name": name or cert.name, "certificate": cert.pem})

    def discovery(self, well_known="openid-configuration"):
        resp = requests.get(f"{self.server.tls_url}/{self.env}/as/.well-known/{well_known}",
                            verify=self.ca_file, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def app_body(self, method, bound=None, **fields):
        body = {"name": f"app {uuid.uuid4().hex[:8]}", "enabled": True,
                "protocol": "OPENID_CONNECT", "type": "SERVICE",
                "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod": method}
        if bound is not None:
            body[BOUND] = bound
        body.update(fields)
        return body

    def app(self, method="TLS_CLIENT_AUTH", bound=None, **fields):
        """A new application with a grant to orders:read; its secret for the secret methods."""
        app = self.create("/applications", self.app_body(method, bound, **fields))
        self.create(f"/applications/{app['id']}/grants",
                    {"resource": {"id": self.resource}, "scopes": [{"id": self.scope}]})
        secret = None
        if method.startswith("CLIENT_SECRET"):
            secret = self.admin.call(
                "GET", self.path(f"/applications/{app['id']}/secret"))["secret"]
        return App(app, secret)

    def token(self, app, cert=None, plain=False, headers=None, auth=None):
        """A client_credentials request over the HTTPS listener (or the plain one), presenting
        `cert` (a mtls_pki.Cert) in the handshake. `app`: an App or a client_id. Secret
        applications use Basic; the others send client_id in the body, and no secret."""
        client_id = app if isinstance(app, str) else app.id
        data = {"grant_type": "client_credentials"}
        if auth is None and not isinstance(app, str) and app.secret is not None:
            auth = (app.id, app.secret)
        if auth is None:
            data["client_id"] = client_id
        url = (self.plain_base if plain else self.tls_base) + "/token"
        return requests.post(url, data=data, auth=auth, headers=headers or {},
                             cert=cert.pair if cert is not None else None,
                             verify=self.ca_file, timeout=30)

    def verify(self, token):
        """The token's claims, verified by PyJWT with the keys of the published jwks_uri."""
        header = jwt.get_unverified_header(token)
        assert header["typ"] == "at+jwt", header
        keys = requests.get(self.doc["jwks_uri"], verify=self.ca_file, timeout=30).json()["keys"]
        jwk = [k for k in keys if k["kid"] == header["kid"]]
        assert len(jwk) == 1, (header, keys)
        return jwt.decode(token, jwt.PyJWK(jwk[0]).key, algorithms=[jwk[0]["alg"]],
                          audience=ORDERS, issuer=self.issuer,
                          options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})

    def introspect(self, token):
        resp = requests.post(self.plain_base + "/introspect", data={"token": token},
                             auth=(self.introspector.id, self.introspector.secret), timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture(scope="module")
def world(server, pki):
    return World(server, pki, trust=[pki.root_ca])


@pytest.fixture(scope="module")
def proxy_world(proxy_server, pki):
    return World(proxy_server, pki, trust=[pki.root_ca])


@pytest.fixture(scope="module")
def plain_world(plain_server, pki):
    return World(plain_server, pki, trust=[pki.root_ca])


def issued(resp, app):
    """The token answer of a success: Bearer, for `app`."""
    assert resp.status_code == 200, (resp.status_code, resp.text)
    body = resp.json()
    assert body["token_type"] == "Bearer", body
    return body


def claims_of(world, resp, app):
    body = issued(resp, app)
    claims = world.verify(body["access_token"])
    assert claims["client_id"] == app.id, claims
    return claims


def assert_refused(resp, status, error, *certs, secret=None):
    """An RFC 6749 §5.2 error: the status and `error` only; neither the certificates nor the
    secret are echoed."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.json()["error"] == error, resp.text
    assert "BEGIN CERTIFICATE" not in resp.text, resp.text
    for cert in certs:
        assert cert.b64[:48] not in resp.text, resp.text
        assert cert.x5t_s256 not in resp.text, resp.text
    if secret:
        assert secret not in resp.text, resp.text


def assert_invalid_client(resp, *certs, secret=None):
    assert_refused(resp, 401, "invalid_client", *certs, secret=secret)


def expect_invalid_data(resp, target=None):
    """A /v1 400 INVALID_DATA; `target` (when given) is the one field its details name."""
    assert resp.status_code == 400, (resp.status_code, resp.text)
    err = resp.json()
    assert err["code"] == "INVALID_DATA", err
    if target is not None:
        assert {d.get("target") for d in err["details"]} == {target}, err
    return err


def client_cert_header(cert):
    """RFC 9440 §2.2: a byte sequence (RFC 8941): ':' standard base64 of the DER ':'."""
    return ":" + cert.b64 + ":"


# --- discovery -----------------------------------------------------------------------------------

def test_discovery_publishes_the_mtls_aliases(world):
    for well_known in ("openid-configuration", "oauth-authorization-server"):
        doc = world.discovery(well_known)
        assert doc["tls_client_certificate_bound_access_tokens"] is True, doc
        assert {"tls_client_auth", "self_signed_tls_client_auth"} <= set(
            doc["token_endpoint_auth_methods_supported"]), doc
        aliases = doc["mtls_endpoint_aliases"]
        assert set(aliases) == {"token_endpoint", "introspection_endpoint",
                                "revocation_endpoint"}, aliases
        for name, path in (("token_endpoint", "token"), ("introspection_endpoint", "introspect"),
                           ("revocation_endpoint", "revoke")):
            # The alias is the endpoint's own path under --mtls-url.
            assert aliases[name] == MTLS_URL + urllib.parse.urlsplit(doc[name]).path, doc
            assert aliases[name] == f"{MTLS_URL}/{world.env}/as/{path}", doc
            assert doc[name] == f"{world.issuer}/{path}", doc


def test_without_mtls_url_there_are_no_aliases(plain_world):
    doc = plain_world.discovery()
    assert "mtls_endpoint_aliases" not in doc, doc
    assert doc["tls_client_certificate_bound_access_tokens"] is True, doc
    assert {"tls_client_auth", "self_signed_tls_client_auth"} <= set(
        doc["token_endpoint_auth_methods_supported"]), doc


# --- /v1 trustedCertificateAuthorities -----------------------------------------------------------

def rfc3339(text):
    assert isinstance(text, str) and "T" in text, text
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value


def cert_time(naive_utc):
    return naive_utc.replace(tzinfo=datetime.timezone.utc)


def check_ca(ca, cert, world, name, subject, issuer):
    assert UUID_RE.match(ca["id"]), ca
    assert ca["name"] == name, ca
    stored = x509.load_pem_x509_certificate(ca["certificate"].encode())
    assert stored.public_bytes(serialization.Encoding.DER) == cert.der, ca
    assert ca["certificate"].lstrip().startswith("-----BEGIN CERTIFICATE-----"), ca
    assert ca["subjectDn"] == subject, ca
    assert ca["issuerDn"] == issuer, ca
    assert ca["serialNumber"] == format(cert.serial, "x"), ca
    parsed = x509.load_der_x509_certificate(cert.der)
    assert rfc3339(ca["validStart"]) == cert_time(parsed.not_valid_before), ca
    assert rfc3339(ca["validUntil"]) == cert_time(parsed.not_valid_after), ca
    assert ca["sha256Fingerprint"] == hashlib.sha256(cert.der).hexdigest(), ca
    assert ca["environment"]["id"] == world.env, ca
    created, updated = rfc3339(ca["createdAt"]), rfc3339(ca["updatedAt"])
    assert updated >= created, ca
    assert ca["_links"]["self"]["href"].endswith(
        f"/environments/{world.env}/trustedCertificateAuthorities/{ca['id']}"), ca


def test_a_trusted_ca_as_created(world, pki):
    ca = world.cas[0]
    check_ca(ca, pki.root_ca, world, "root", "CN=Test Root,O=Example", "CN=Test Root,O=Example")
    assert ca["serialNumber"] == "1a2b3c4d5e6f", ca
    path = world.path(f"/trustedCertificateAuthorities/{ca['id']}")
    assert world.admin.call("GET", path) == ca
    listed = world.admin.call("GET", world.path("/trustedCertificateAuthorities"))
    entries = {c["id"]: c for c in listed["_embedded"]["trustedCertificateAuthorities"]}
    assert ca["id"] in entries, listed
    assert {k: v for k, v in entries[ca["id"]].items() if k != "_links"} == \
        {k: v for k, v in ca.items() if k != "_links"}, listed
    # Created with a Location, as every /v1 collection.
    resp = world.admin.request("POST", world.path("/trustedCertificateAuthorities"),
                               {"name": "intermediate", "certificate": pki.intermediate.pem})
    assert resp.status_code == 201, resp.text
    inter = resp.json()
    assert resp.headers["Location"].endswith(
        f"/trustedCertificateAuthorities/{inter['id']}"), resp.headers
    check_ca(inter, pki.intermediate, world, "intermediate",
             "CN=Test Intermediate,O=Example", "CN=Test Root,O=Example")
    world.admin.call("DELETE", world.path(f"/trustedCertificateAuthorities/{inter['id']}"),
                     expect=204)


def test_a_trusted_ca_is_replaced_and_deleted(world, pki):
    ca = world.create("/trustedCertificateAuthorities",
                      {"name": "to be replaced", "certificate": pki.other_root.pem})
    path = world.path(f"/trustedCertificateAuthorities/{ca['id']}")
    check_ca(ca, pki.other_root, world, "to be replaced", "CN=Other Root,O=Example",
             "CN=Other Root,O=Example")
    put = world.admin.call("PUT", path, {"name": "replaced", "certificate":
                                         pki.intermediate.pem})
    assert put["id"] == ca["id"], put
    check_ca(put, pki.intermediate, world, "replaced", "CN=Test Intermediate,O=Example",
             "CN=Test Root,O=Example")
    assert rfc3339(put["createdAt"]) == rfc3339(ca["createdAt"]), (ca, put)
    assert world.admin.call("GET", path) == put
    # A refused PUT leaves it as it was.
    expect_invalid_data(world.admin.request("PUT", path, {"name": "replaced",
                                                          "certificate": pki.dns_client.pem}),
                        "certificate")
    assert world.admin.call("GET", path) == put

    world.admin.call("DELETE", path, expect=204)
    assert world.admin.request("GET", path).status_code == 404
    assert world.admin.request("DELETE", path).status_code == 404
    listed = world.admin.call("GET", world.path("/trustedCertificateAuthorities"))
    assert ca["id"] not in [c["id"] for c in
                            listed["_embedded"]["trustedCertificateAuthorities"]], listed


def test_invalid_trusted_cas_are_refused(world, pki):
    with open(pki.root_ca.key_path) as f:
        private_key = f.read()
    root = pki.root_ca.pem
    cases = [
        ("a leaf, not a CA", {"name": "x", "certificate": pki.dns_client.pem}, "certificate"),
        ("a self-signed leaf", {"name": "x", "certificate": pki.self_ec.pem}, "certificate"),
        ("garbage", {"name": "x", "certificate": "not a certificate"}, "certificate"),
        ("bare base64 DER", {"name": "x", "certificate": pki.root_ca.b64}, "certificate"),
        ("two PEM blocks", {"name": "x", "certificate": root + pki.intermediate.pem},
         "certificate"),
        ("a private key", {"name": "x", "certificate": private_key}, "certificate"),
        ("a certificate then a key", {"name": "x", "certificate": root + private_key},
         "certificate"),
        ("over 16 KiB", {"name": "x", "certificate": pki.big_ca().pem}, "certificate"),
        ("no certificate", {"name": "x"}, "certificate"),
        ("an empty certificate", {"name": "x", "certificate": ""}, "certificate"),
        ("no name", {"certificate": root}, "name"),
        ("an empty name", {"name": "", "certificate": root}, "name"),
        ("a name of 257 characters", {"name": "n" * 257, "certificate": root}, "name"),
    ]
    before = world.admin.call("GET", world.path("/trustedCertificateAuthorities"))["count"]
    for case, body, target in cases:
        resp = world.admin.request("POST", world.path("/trustedCertificateAuthorities"), body)
        try:
            err = expect_invalid_data(resp, target)
        except AssertionError as e:
            raise AssertionError(f"{case}: {e}") from None
        assert "PRIVATE KEY" not in resp.text and "MII" not in resp.text, (case, err)
    after = world.admin.call("GET", world.path("/trustedCertificateAuthorities"))["count"]
    assert after == before
    # 256 characters is still a name.
    ca = world.create("/trustedCertificateAuthorities", {"name": "n" * 256, "certificate": root})
    assert ca["name"] == "n" * 256
    world.admin.call("DELETE", world.path(f"/trustedCertificateAuthorities/{ca['id']}"),
                     expect=204)


def test_at_most_50_trusted_cas_per_environment(server, pki):
    w = World(server, pki)
    roots = pki.many_roots(51)
    created = [w.trust(c, f"root {i}") for i, c in enumerate(roots[:50])]
    listed = w.admin.call("GET", w.path("/trustedCertificateAuthorities"))
    assert listed["count"] == 50, listed["count"]
    resp = w.admin.request("POST", w.path("/trustedCertificateAuthorities"),
                           {"name": "root 50", "certificate": roots[50].pem})
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert w.admin.call("GET", w.path("/trustedCertificateAuthorities"))["count"] == 50
    # One deleted makes room for one more.
    w.admin.call("DELETE", w.path(f"/trustedCertificateAuthorities/{created[0]['id']}"),
                 expect=204)
    assert w.trust(roots[50], "root 50")["subjectDn"] == "CN=Root 50,O=Example"


# --- /v1 applications ----------------------------------------------------------------------------

def tls_fields_of(app):
    return {k: app[k] for k in TLS_AUTH_FIELDS if app.get(k) not in (None, "")}


def test_the_application_echoes_its_tls_fields(world, pki):
    for field, value in (("tlsClientAuthSanDns", "client.example.test"),
                         ("tlsClientAuthSanUri", "spiffe://example.test/client"),
                         ("tlsClientAuthSanIp", "192.0.2.10"),
                         ("tlsClientAuthSanEmail", "client@example.test")):
        app = world.app("TLS_CLIENT_AUTH", **{field: value}).body
        assert app["tokenEndpointAuthMethod"] == "TLS_CLIENT_AUTH", app
        assert tls_fields_of(app) == {field: value}, app
        assert app[BOUND] is False, app  # the default, echoed
        got = world.admin.call("GET", world.path(f"/applications/{app['id']}"))
        assert tls_fields_of(got) == {field: value} and got[BOUND] is False, got
    app = world.app("TLS_CLIENT_AUTH", bound=True,
                    tlsClientAuthSubjectDn="CN=Client One,O=Example,C=US").body
    assert list(tls_fields_of(app)) == ["tlsClientAuthSubjectDn"], app
    assert app[BOUND] is True, app

    app = world.app("SELF_SIGNED_TLS_CLIENT_AUTH", jwks=pki.self_ec.jwks()).body
    assert app["tokenEndpointAuthMethod"] == "SELF_SIGNED_TLS_CLIENT_AUTH", app
    assert json.loads(app["jwks"]) == json.loads(pki.self_ec.jwks()), app
    assert tls_fields_of(app) == {}, app
    assert app[BOUND] is False, app

    app = world.app("CLIENT_SECRET_BASIC", bound=True).body
    assert tls_fields_of(app) == {}, app
    assert app[BOUND] is True, app


def test_tls_client_auth_fields_are_validated(world, pki):
    cases = [
        ("TLS_CLIENT_AUTH without a name", "TLS_CLIENT_AUTH", {}),
        ("TLS_CLIENT_AUTH with two names", "TLS_CLIENT_AUTH",
         {"tlsClientAuthSanDns": "client.example.test",
          "tlsClientAuthSanUri": "spiffe://example.test/client"}),
        ("TLS_CLIENT_AUTH with a subject and an email", "TLS_CLIENT_AUTH",
         {"tlsClientAuthSubjectDn": "CN=Client One,O=Example,C=US",
          "tlsClientAuthSanEmail": "client@example.test"}),
        ("a name for CLIENT_SECRET_BASIC", "CLIENT_SECRET_BASIC",
         {"tlsClientAuthSanDns": "client.example.test"}),
        ("a subject for CLIENT_SECRET_POST", "CLIENT_SECRET_POST",
         {"tlsClientAuthSubjectDn": "CN=Client One,O=Example,C=US"}),
        ("a name for PRIVATE_KEY_JWT", "PRIVATE_KEY_JWT",
         {"jwks": pki.self_ec.jwks(), "tlsClientAuthSanIp": "192.0.2.10"}),
        ("a name for SELF_SIGNED_TLS_CLIENT_AUTH", "SELF_SIGNED_TLS_CLIENT_AUTH",
         {"jwks": pki.self_ec.jwks(), "tlsClientAuthSanUri": "spiffe://example.test/client"}),
        ("SELF_SIGNED_TLS_CLIENT_AUTH without keys", "SELF_SIGNED_TLS_CLIENT_AUTH", {}),
    ]
    for case, method, fields in cases:
        resp = world.admin.request("POST", world.path("/applications"),
                                   world.app_body(method, **fields))
        try:
            expect_invalid_data(resp)
        except AssertionError as e:
            raise AssertionError(f"{case}: {e}") from None


def test_tls_client_auth_values_are_validated(world):
    cases = [
        ("a subject that is not a DN", {"tlsClientAuthSubjectDn": "not a distinguished name"}),
        ("an IP address that is not one", {"tlsClientAuthSanIp": "192.0.2.300"}),
        ("an empty DNS name", {"tlsClientAuthSanDns": ""}),
        ("the flag as a string", {"tlsClientAuthSanDns": "client.example.test", BOUND: "yes"}),
    ]
    for case, fields in cases:
        resp = world.admin.request("POST", world.path("/applications"),
                                   world.app_body("TLS_CLIENT_AUTH", **fields))
        try:
            expect_invalid_data(resp)
        except AssertionError as e:
            raise AssertionError(f"{case}: {e}") from None


# --- tls_client_auth at the token endpoint -------------------------------------------------------

NAMES = {
    # The subject compares by value: other case of the attribute types, spaces after commas.
    "subject-by-value": ("tlsClientAuthSubjectDn", "cn=Client One, o=Example, c=US",
                         "dn_client"),
    "subject": ("tlsClientAuthSubjectDn", "CN=Client One,O=Example,C=US", "dn_client"),
    "dns": ("tlsClientAuthSanDns", "client.example.test", "dns_client"),
    "uri": ("tlsClientAuthSanUri", "spiffe://example.test/client", "uri_client"),
    "ip": ("tlsClientAuthSanIp", "192.0.2.10", "ip_client"),
    "ipv6": ("tlsClientAuthSanIp", "2001:db8:0:0:0:0:0:a", "ip6_client"),
    "email": ("tlsClientAuthSanEmail", "client@example.test", "email_client"),
}


@pytest.mark.parametrize("name", list(NAMES))
def test_tls_client_auth_by_each_name(world, pki, name):
    field, value, cert_name = NAMES[name]
    cert = getattr(pki, cert_name)
    app = world.app("TLS_CLIENT_AUTH", **{field: value})
    claims = claims_of(world, world.token(app, cert), app)
    assert "cnf" not in claims, claims  # not bound
    assert claims["aud"] == [ORDERS] or claims["aud"] == ORDERS, claims
    # Another certificate of the same CA, with other names, is not this client.
    assert_invalid_client(world.token(app, pki.other_name), pki.other_name)
    # Nor is the right certificate presented for another client_id of the environment.
    other = world.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="other.example.test")
    assert_invalid_client(world.token(other, cert), cert)
    assert world.token(other, pki.other_name).status_code == 200


def test_tls_client_auth_refusals(world, pki):
    app = world.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="client.example.test")
    good = pki.dns_client
    assert_invalid_client(world.token(app))  # no certificate, HTTPS
    assert_invalid_client(world.token(app, plain=True))  # no certificate, plain HTTP
    assert_invalid_client(world.token(app, pki.untrusted), pki.untrusted)  # another CA
    assert_invalid_client(world.token(app, pki.other_name), pki.other_name)  # another name
    assert_invalid_client(world.token(app, pki.server_only), pki.server_only)  # serverAuth EKU
    assert_invalid_client(world.token(app, pki.self_ec), pki.self_ec)  # self-signed
    # A client secret instead of the certificate (whatever secret the API may hold).
    resp = world.admin.request("GET", world.path(f"/applications/{app.id}/secret"))
    secret = resp.json()["secret"] if resp.status_code == 200 else secrets.token_urlsafe(48)
    assert_invalid_client(world.token(app, auth=(app.id, secret)), secret=secret)
    # A secret beside the certificate is another mechanism as well: Basic, or in the body.
    assert_invalid_client(world.token(app, good, auth=(app.id, secret)), good, secret=secret)
    resp = requests.post(world.tls_base + "/token", timeout=30, verify=world.ca_file,
                         cert=good.pair, data={"grant_type": "client_credentials",
                                               "client_id": app.id, "client_secret": secret})
    assert_invalid_client(resp, good, secret=secret)
    # The right certificate still works (and the failures above were below the throttle).
    claims_of(world, world.token(app, good), app)
    # An unknown client_id with a valid certificate.
    assert_invalid_client(world.token(str(uuid.uuid4()), good), good)
    # A disabled application.
    body = {k: app.body[k] for k in ("name", "protocol", "type", "grantTypes",
                                     "tokenEndpointAuthMethod", "tlsClientAuthSanDns")}
    world.admin.call("PUT", world.path(f"/applications/{app.id}"), dict(body, enabled=False))
    assert_invalid_client(world.token(app, good), good)


def test_curl_sends_the_leaf_and_its_intermediate(world, pki):
    """Only the root is trusted: curl --cert with a file holding leaf + intermediate."""
    app = world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="chained.example.test")
    out = subprocess.run(
        ["curl", "-sS", "--cacert", world.ca_file, "--cert", pki.chained.chain,
         "--key", pki.chained.key_path, "-d", "grant_type=client_credentials",
         "-d", "client_id=" + app.id, "-w", "\n%{http_code}", world.tls_base + "/token"],
        capture_output=True, text=True, timeout=60, check=True)
    text, status = out.stdout.rsplit("\n", 1)
    assert status == "200", out.stdout
    body = json.loads(text)
    assert body["token_type"] == "Bearer", body
    claims = world.verify(body["access_token"])
    assert claims["client_id"] == app.id, claims
    # The leaf is the bound certificate, not the intermediate.
    assert claims["cnf"] == {"x5t#S256": pki.chained.x5t_s256}, claims
    # requests with the same chain file.
    claims = claims_of(world, world.token(app, pki.chained), app)
    assert claims["cnf"] == {"x5t#S256": pki.chained.x5t_s256}, claims
    # The leaf alone does not chain to the root.
    resp = requests.post(world.tls_base + "/token", timeout=30, verify=world.ca_file,
                         data={"grant_type": "client_credentials", "client_id": app.id},
                         cert=(pki.chained.pem_path, pki.chained.key_path))
    assert_invalid_client(resp, pki.chained)


def test_an_uploaded_intermediate_is_a_trust_anchor(server, pki):
    w = World(server, pki, trust=[pki.intermediate])
    app = w.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="chained.example.test")
    alone = requests.post(w.tls_base + "/token", timeout=30, verify=w.ca_file,
                          data={"grant_type": "client_credentials", "client_id": app.id},
                          cert=(pki.chained.pem_path, pki.chained.key_path))
    claims_of(w, alone, app)
    claims_of(w, w.token(app, pki.chained), app)  # leaf + intermediate
    # A leaf signed by the root directly: the root is not trusted in this environment.
    root_signed = w.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="client.example.test")
    assert_invalid_client(w.token(root_signed, pki.dns_client), pki.dns_client)


def test_trust_follows_the_environments_ca_list(server, pki):
    """An environment of its own: nothing trusted (the main environment's root does not count),
    then the root uploaded, then deleted."""
    w = World(server, pki)
    app = w.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="client.example.test")
    assert_invalid_client(w.token(app, pki.dns_client), pki.dns_client)
    ca = w.trust(pki.root_ca)
    claims_of(w, w.token(app, pki.dns_client), app)  # a write refreshes before it answers
    claims_of(w, w.token(app, pki.dns_client), app)
    w.admin.call("DELETE", w.path(f"/trustedCertificateAuthorities/{ca['id']}"), expect=204)
    assert_invalid_client(w.token(app, pki.dns_client), pki.dns_client)
    # Replaced by another CA: still not trusted; replaced back: trusted again.
    other = w.trust(pki.other_root)
    assert_invalid_client(w.token(app, pki.dns_client), pki.dns_client)
    w.admin.call("PUT", w.path(f"/trustedCertificateAuthorities/{other['id']}"),
                 {"name": "root again", "certificate": pki.root_ca.pem})
    claims_of(w, w.token(app, pki.dns_client), app)


# --- self_signed_tls_client_auth -----------------------------------------------------------------

SELF_SIGNED = {
    "ec": ("self_ec", False),
    "ec-x5c": ("self_ec", True),
    "rsa-x5c": ("self_rsa", True),
    "rsa": ("self_rsa", False),
}


@pytest.mark.parametrize("variant", list(SELF_SIGNED))
def test_self_signed_tls_client_auth(world, pki, variant):
    cert_name, x5c = SELF_SIGNED[variant]
    cert = getattr(pki, cert_name)
    app = world.app("SELF_SIGNED_TLS_CLIENT_AUTH", jwks=cert.jwks(x5c=x5c))
    claims = claims_of(world, world.token(app, cert), app)
    assert "cnf" not in claims, claims
    # The same subject under another key; another self-signed key; a CA-signed certificate;
    # none.
    assert_invalid_client(world.token(app, pki.self_other), pki.self_other)
    other = pki.self_rsa if cert is pki.self_ec else pki.self_ec
    assert_invalid_client(world.token(app, other), other)
    assert_invalid_client(world.token(app, pki.dns_client), pki.dns_client)
    assert_invalid_client(world.token(app))
    claims_of(world, world.token(app, cert), app)


# --- certificate-bound tokens --------------------------------------------------------------------

def test_a_tls_client_auth_token_is_bound_to_the_certificate(world, pki):
    app = world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="bound.example.test")
    body = issued(world.token(app, pki.bound_client), app)
    claims = world.verify(body["access_token"])
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(pki.bound_client.der).digest()).rstrip(b"=").decode()
    assert claims["cnf"] == {"x5t#S256": expected}, claims
    assert claims["client_id"] == app.id
    intro = world.introspect(body["access_token"])
    assert intro["active"] is True, intro
    assert intro["cnf"] == {"x5t#S256": expected}, intro
    assert intro["token_type"] == "Bearer", intro
    assert intro["client_id"] == app.id, intro
    # Without a certificate: no token, whatever else the request has.
    assert_invalid_client(world.token(app))


def test_a_secret_client_with_a_self_signed_certificate_gets_a_bound_token(world, pki):
    """CLIENT_SECRET_BASIC authenticates; the certificate (in no CA list) only binds."""
    app = world.app("CLIENT_SECRET_BASIC", bound=True)
    for cert in (pki.self_ec, pki.untrusted):
        body = issued(world.token(app, cert), app)
        claims = world.verify(body["access_token"])
        assert claims["cnf"] == {"x5t#S256": cert.x5t_s256}, claims
        intro = world.introspect(body["access_token"])
        assert intro["active"] is True and intro["cnf"] == {"x5t#S256": cert.x5t_s256}, intro
    # A wrong secret with a certificate is still a wrong secret.
    resp = world.token(app, pki.self_ec, auth=(app.id, "wrong"))
    assert_invalid_client(resp, pki.self_ec)


def test_a_bound_client_without_a_certificate_gets_no_token(world, pki):
    app = world.app("CLIENT_SECRET_BASIC", bound=True)
    assert_refused(world.token(app), 400, "invalid_request", secret=app.secret)
    assert_refused(world.token(app, plain=True), 400, "invalid_request", secret=app.secret)
    # The flag is stored: a PUT turns it off, then the token is unbound; on again, refused.
    path = world.path(f"/applications/{app.id}")
    current = world.admin.call("GET", path)
    assert current[BOUND] is True, current
    update = {k: current[k] for k in ("name", "enabled", "protocol", "type", "grantTypes",
                                      "tokenEndpointAuthMethod")}
    assert world.admin.call("PUT", path, dict(update, **{BOUND: False}))[BOUND] is False
    body = issued(world.token(app), app)
    assert "cnf" not in world.verify(body["access_token"])
    assert world.introspect(body["access_token"]).get("cnf") is None
    assert world.admin.call("PUT", path, dict(update, **{BOUND: True}))[BOUND] is True
    assert_refused(world.token(app), 400, "invalid_request")
    claims = claims_of(world, world.token(app, pki.self_rsa), app)
    assert claims["cnf"] == {"x5t#S256": pki.self_rsa.x5t_s256}, claims


def test_a_dpop_proof_beside_the_certificate_binds_to_both(world, pki):
    from test_dpop import Key  # the DPoP test's proof maker (Python cryptography)
    app = world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="bound.example.test")
    key = Key("ES256")
    # The proof names the token endpoint (the issuer's, here the HTTPS listener).
    proof = key.proof(world.doc["token_endpoint"])
    resp = world.token(app, pki.bound_client, headers={"DPoP": proof})
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"] == "DPoP", resp.text
    claims = world.verify(resp.json()["access_token"])
    assert claims["cnf"] == {"jkt": key.thumbprint(), "x5t#S256": pki.bound_client.x5t_s256}, \
        claims


def test_an_unbound_client_presenting_a_certificate_gets_an_unbound_token(world, pki):
    app = world.app("CLIENT_SECRET_BASIC")
    assert app.body[BOUND] is False
    for cert in (None, pki.self_ec, pki.dns_client):
        body = issued(world.token(app, cert), app)
        assert "cnf" not in world.verify(body["access_token"]), cert
        assert "cnf" not in world.introspect(body["access_token"])
    tls = world.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="client.example.test")
    assert "cnf" not in claims_of(world, world.token(tls, pki.dns_client), tls)


def test_other_methods_work_over_https_without_a_certificate(world, pki):
    """The listener requests a certificate but does not require one."""
    app = world.app("CLIENT_SECRET_BASIC")
    claims_of(world, world.token(app), app)
    post = world.app("CLIENT_SECRET_POST")
    resp = requests.post(world.tls_base + "/token", timeout=30, verify=world.ca_file,
                         data={"grant_type": "client_credentials", "client_id": post.id,
                               "client_secret": post.secret})
    claims_of(world, resp, post)
    a = world.server.admin
    out = subprocess.run(
        ["curl", "-sS", "--fail", "--cacert", world.ca_file, "-u",
         f"{a['clientId']}:{a['clientSecret']}", "-d", "grant_type=client_credentials",
         f"{world.server.tls_url}/{a['environmentId']}/as/token"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["token_type"] == "Bearer"
    assert requests.get(world.server.tls_url + "/healthz", verify=world.ca_file,
                        timeout=30).status_code == 200


def test_an_mtls_client_introspects_and_revokes_with_its_certificate(world, pki):
    app = world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="bound.example.test")
    token = issued(world.token(app, pki.bound_client), app)["access_token"]
    cert = pki.bound_client.pair
    resp = requests.post(world.tls_base + "/introspect", data={"token": token, "client_id": app.id},
                         cert=cert, verify=world.ca_file, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["active"] is True, resp.text
    assert resp.json()["cnf"] == {"x5t#S256": pki.bound_client.x5t_s256}, resp.text
    # Without the certificate the client is not authenticated.
    resp = requests.post(world.tls_base + "/introspect", data={"token": token, "client_id": app.id},
                         verify=world.ca_file, timeout=30)
    assert_invalid_client(resp)
    resp = requests.post(world.tls_base + "/revoke", data={"token": token, "client_id": app.id},
                         cert=cert, verify=world.ca_file, timeout=30)
    assert resp.status_code == 200, resp.text
    assert world.introspect(token)["active"] is False


# --- Client-Cert headers from a trusted proxy (RFC 9440) -----------------------------------------

def test_a_trusted_proxy_passes_the_certificate_in_client_cert(proxy_world, pki):
    app = proxy_world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="proxy.example.test")
    resp = proxy_world.token(app, plain=True,
                       headers={"Client-Cert": client_cert_header(pki.proxy_client)})
    claims = claims_of(proxy_world, resp, app)
    assert claims["cnf"] == {"x5t#S256": pki.proxy_client.x5t_s256}, claims
    intro = proxy_world.introspect(resp.json()["access_token"])
    assert intro["cnf"] == {"x5t#S256": pki.proxy_client.x5t_s256}, intro
    # A certificate the environment does not trust, passed the same way, is refused.
    app2 = proxy_world.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="client.example.test")
    resp = proxy_world.token(app2, plain=True,
                       headers={"Client-Cert": client_cert_header(pki.untrusted)})
    assert_invalid_client(resp, pki.untrusted)
    resp = proxy_world.token(app2, plain=True,
                       headers={"Client-Cert": client_cert_header(pki.dns_client)})
    claims_of(proxy_world, resp, app2)


def test_a_trusted_proxy_passes_the_intermediate_in_client_cert_chain(proxy_world, pki):
    app = proxy_world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="chained.example.test")
    headers = {"Client-Cert": client_cert_header(pki.chained),
               "Client-Cert-Chain": client_cert_header(pki.intermediate)}
    claims = claims_of(proxy_world, proxy_world.token(app, plain=True, headers=headers), app)
    assert claims["cnf"] == {"x5t#S256": pki.chained.x5t_s256}, claims
    # The chain as a list of two, the root included (RFC 9440 §2.3 allows it).
    headers["Client-Cert-Chain"] = ", ".join(client_cert_header(c)
                                             for c in (pki.intermediate, pki.root_ca))
    claims_of(proxy_world, proxy_world.token(app, plain=True, headers=headers), app)
    # Without the chain the leaf does not reach the root.
    resp = proxy_world.token(app, plain=True, headers={"Client-Cert": client_cert_header(pki.chained)})
    assert_invalid_client(resp, pki.chained)


def test_nginx_passes_the_escaped_pem(proxy_world, pki):
    """nginx: proxy_set_header Client-Cert $ssl_client_escaped_cert (the PEM, URL-encoded)."""
    app = proxy_world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="proxy.example.test")
    escaped = urllib.parse.quote(pki.proxy_client.pem, safe="")
    assert "%0A" in escaped and "-----BEGIN%20CERTIFICATE-----" in escaped
    claims = claims_of(proxy_world, proxy_world.token(app, plain=True, headers={"Client-Cert": escaped}), app)
    assert claims["cnf"] == {"x5t#S256": pki.proxy_client.x5t_s256}, claims


def test_client_cert_replaces_the_connections_certificate(proxy_world, pki):
    """From a trusted proxy, only the header counts: the certificate of the proxy's own
    connection is not its clients'."""
    app = proxy_world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="proxy.example.test")
    resp = proxy_world.token(app, pki.untrusted,
                       headers={"Client-Cert": client_cert_header(pki.proxy_client)})
    claims = claims_of(proxy_world, resp, app)
    assert claims["cnf"] == {"x5t#S256": pki.proxy_client.x5t_s256}, claims
    # And the other way round: the handshake's certificate is right, the header's is not.
    resp = proxy_world.token(app, pki.proxy_client,
                       headers={"Client-Cert": client_cert_header(pki.untrusted)})
    assert_invalid_client(resp, pki.untrusted, pki.proxy_client)
    # Without the header the handshake's certificate does not count either.
    assert_invalid_client(proxy_world.token(app, pki.proxy_client), pki.proxy_client)
    bound = proxy_world.app("CLIENT_SECRET_BASIC", bound=True)
    assert_refused(proxy_world.token(bound, pki.self_ec), 400, "invalid_request", pki.self_ec,
                   secret=bound.secret)
    # A secret client bound by the header's certificate over HTTPS.
    secret = proxy_world.app("CLIENT_SECRET_BASIC", bound=True)
    resp = proxy_world.token(secret, pki.self_ec,
                       headers={"Client-Cert": client_cert_header(pki.self_rsa)})
    claims = claims_of(proxy_world, resp, secret)
    assert claims["cnf"] == {"x5t#S256": pki.self_rsa.x5t_s256}, claims


@pytest.mark.parametrize("value", [
    ":not base64!:",
    "not a certificate at all",
    # PEM armour around what is not base64 (no trailing newline: only the body is wrong).
    urllib.parse.quote("-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----",
                       safe=""),
], ids=["bad-base64", "neither-form", "bad-pem"])
def test_a_malformed_client_cert_is_invalid_request(proxy_world, pki, value):
    app = proxy_world.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="proxy.example.test")
    resp = proxy_world.token(app, plain=True, headers={"Client-Cert": value})
    assert_refused(resp, 400, "invalid_request")
    # Also beside a good certificate in the handshake, and for a secret client that wants
    # certificate-bound tokens.
    resp = proxy_world.token(app, pki.proxy_client, headers={"Client-Cert": value})
    assert_refused(resp, 400, "invalid_request", pki.proxy_client)
    # RFC 8941 §3.3.5: missing padding and parameters are fine.
    good = client_cert_header(pki.proxy_client).rstrip(":").rstrip("=") + ":;by=proxy"
    issued(proxy_world.token(app, plain=True, headers={"Client-Cert": good}), app)
    bound = proxy_world.app("CLIENT_SECRET_BASIC", bound=True)
    resp = proxy_world.token(bound, pki.self_ec, headers={"Client-Cert": value})
    assert_refused(resp, 400, "invalid_request", pki.self_ec, secret=bound.secret)


def test_a_client_cert_that_is_no_certificate(proxy_world, pki):
    """Well-formed header, bytes that are not X.509: the header is read, the certificate then
    authenticates nobody (401) and binds nothing (400)."""
    value = ":" + base64.b64encode(b"not a certificate").decode() + ":"
    app = proxy_world.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="proxy.example.test")
    assert_invalid_client(proxy_world.token(app, plain=True, headers={"Client-Cert": value}))
    bound = proxy_world.app("CLIENT_SECRET_BASIC", bound=True)
    resp = proxy_world.token(bound, pki.self_ec, headers={"Client-Cert": value})
    assert_refused(resp, 400, "invalid_request", pki.self_ec, secret=bound.secret)


def test_client_cert_is_ignored_from_an_untrusted_peer(plain_world, pki):
    w = plain_world
    app = w.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="proxy.example.test")
    header = {"Client-Cert": client_cert_header(pki.proxy_client)}
    assert_invalid_client(w.token(app, plain=True, headers=header), pki.proxy_client)
    escaped = {"Client-Cert": urllib.parse.quote(pki.proxy_client.pem, safe="")}
    assert_invalid_client(w.token(app, plain=True, headers=escaped), pki.proxy_client)
    assert_invalid_client(w.token(app, headers=header), pki.proxy_client)  # HTTPS, no cert
    # Nor does it replace the handshake's certificate.
    resp = w.token(app, pki.untrusted, headers=header)
    assert_invalid_client(resp, pki.untrusted, pki.proxy_client)
    resp = w.token(app, pki.proxy_client,
                   headers={"Client-Cert": client_cert_header(pki.untrusted)})
    claims = claims_of(w, resp, app)
    assert claims["cnf"] == {"x5t#S256": pki.proxy_client.x5t_s256}, claims
    # A malformed one is not even read; a bound secret client still has no certificate.
    assert issued(w.token(w.introspector, plain=True,
                          headers={"Client-Cert": ":not base64!:"}), w.introspector)
    bound = w.app("CLIENT_SECRET_BASIC", bound=True)
    assert_refused(w.token(bound, plain=True, headers=header), 400, "invalid_request")
    chain = {"Client-Cert": client_cert_header(pki.chained),
             "Client-Cert-Chain": client_cert_header(pki.intermediate)}
    chained = w.app("TLS_CLIENT_AUTH", tlsClientAuthSanDns="chained.example.test")
    assert_invalid_client(w.token(chained, plain=True, headers=chain), pki.chained)
    claims_of(w, w.token(chained, pki.chained), chained)  # the handshake itself works


def test_proxy_client_certs_needs_trusted_proxies(pki):
    """The switch alone would trust nobody's headers: the start is refused with one line."""
    server = TollgateServer()
    try:
        out = subprocess.run(
            [os.environ.get("TOLLGATE_BIN", "build/tollgate"), "serve", "--store", server.store,
             "--listen", "127.0.0.1:0", "--proxy-client-certs"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        server.tmp.cleanup()
    assert out.returncode == 2, out
    assert "--proxy-client-certs needs --trusted-proxies" in out.stderr, out.stderr
    assert "\n" not in out.stderr.strip(), out.stderr  # one line


# --- PostgreSQL: another node ------------------------------------------------------------------

def test_another_node_of_the_deployment_trusts_the_ca(server, world, pki):
    if server.deployment is None:
        pytest.skip("one node on SQLite")
    app = world.app("TLS_CLIENT_AUTH", bound=True, tlsClientAuthSanDns="bound.example.test")
    other = server.deployment.node(extra_args=tls_args(pki))
    resp = requests.post(f"{other.tls_url}/{world.env}/as/token", timeout=30,
                         data={"grant_type": "client_credentials", "client_id": app.id},
                         cert=pki.bound_client.pair, verify=world.ca_file)
    assert resp.status_code == 200, resp.text
    token = resp.json()["access_token"]
    # The deployment's keys; the other node's issuer is its own HTTPS listener.
    keys = requests.get(world.doc["jwks_uri"], verify=world.ca_file, timeout=30).json()["keys"]
    jwk = [k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]][0]
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=ORDERS,
                        issuer=f"{other.tls_url}/{world.env}/as")
    assert claims["cnf"] == {"x5t#S256": pki.bound_client.x5t_s256}, claims
    resp = requests.post(f"{other.tls_url}/{world.env}/as/token", timeout=30,
                         data={"grant_type": "client_credentials", "client_id": app.id},
                         cert=pki.untrusted.pair, verify=world.ca_file)
    assert_invalid_client(resp, pki.untrusted)
