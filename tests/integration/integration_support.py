"""Seed and client helpers shared by the integration tests (imported by conftest.py and the
test modules; a uniquely named module, so it never clashes with the black-box suite)."""

import requests

from tollgate_server import FORM, basic

ORDERS = "https://orders.example.test"
BILLING = "https://billing.example.test"
INVENTORY = "https://inventory.example.test"
SHORT = "https://short.example.test"

# A previous secret with characters that RFC 6749 §2.3.1 form-encoding changes.
ODD_SECRET = "p@ss w+rd:%/\u00e9&="

MAIN_SEED = {
    "resources": [
        {"name": "orders", "audience": ORDERS, "accessTokenValiditySeconds": 900,
         "scopes": ["orders:read", "orders:write", "shared", "orders:admin"]},
        {"name": "billing", "audience": BILLING, "accessTokenValiditySeconds": 1200,
         "scopes": ["billing:read", "shared"]},
        {"name": "inventory", "audience": INVENTORY, "scopes": ["inventory:read"]},
        {"name": "short", "audience": SHORT, "accessTokenValiditySeconds": 300,
         "scopes": ["short:read"]},
    ],
    "applications": [
        # One custom resource; orders:admin exists but is not granted.
        {"name": "one", "grants": [{"resource": "orders", "scopes": ["orders:read", "orders:write"]}]},
        # A resource without accessTokenValiditySeconds (default 3600).
        {"name": "inventory", "grants": [{"resource": "inventory", "scopes": ["inventory:read"]}]},
        {"name": "short", "grants": [{"resource": "short", "scopes": ["short:read"]}]},
        # Two custom resources, without and with requestScopesForMultipleResourcesEnabled;
        # "shared" is granted in both.
        {"name": "multi_off",
         "grants": [{"resource": "orders", "scopes": ["orders:read", "shared"]},
                    {"resource": "billing", "scopes": ["billing:read", "shared"]}]},
        {"name": "multi_on", "requestScopesForMultipleResourcesEnabled": True,
         "grants": [{"resource": "orders", "scopes": ["orders:read", "shared"]},
                    {"resource": "billing", "scopes": ["billing:read", "shared"]}]},
        # Workers.
        {"name": "worker_roles", "type": "WORKER", "roles": ["Environment Admin"]},
        {"name": "worker_noroles", "type": "WORKER"},
        {"name": "worker_roles_res", "type": "WORKER", "roles": ["Environment Admin"],
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        # A non-worker without grants.
        {"name": "bare"},
        # Client authentication.
        {"name": "post", "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "post2", "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "basic2", "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "basic3", "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "disabled", "enabled": False,
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "public", "tokenEndpointAuthMethod": "NONE", "type": "SINGLE_PAGE_APP",
         "grantTypes": ["CLIENT_CREDENTIALS"],
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "no_cc", "grantTypes": ["AUTHORIZATION_CODE"], "type": "WEB_APP",
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "rotated", "previousSecret": "previous-secret-of-rotated-app",
         "previousExpiresIn": 3600,
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "odd", "previousSecret": ODD_SECRET, "previousExpiresIn": 3600,
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
        {"name": "x5t", "includeX5t": True,
         "grants": [{"resource": "orders", "scopes": ["orders:read"]}]},
    ],
}


class Client:
    """Token requests against one server, over one keep-alive session."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()

    def app(self, name):
        return self.server.app(name)

    def creds(self, name):
        a = self.server.app(name)
        return a["id"], a["secret"]

    def post(self, body, headers=None, env_id=None, path=None):
        h = dict(FORM)
        h.update(headers or {})
        url = self.server.url(path) if path else self.server.token_url(env_id)
        return self.session.post(url, data=body, headers=h, timeout=30)

    def token(self, name, extra="", **kw):
        """client_credentials with HTTP Basic for app `name`; `extra` is appended to the body."""
        cid, secret = self.creds(name)
        body = "grant_type=client_credentials" + ("&" + extra if extra else "")
        headers = {"Authorization": basic(cid, secret)}
        headers.update(kw.pop("headers", {}))
        return self.post(body, headers=headers, **kw)


class RawResponse:
    """An HTTP response read with http.client from a raw socket exchange."""

    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers)
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        import json
        return json.loads(self.text)


def raw_exchange(base_url, data, timeout=10):
    """Sends `data` (bytes, a whole request) on a new connection and reads one response."""
    import http.client
    import socket
    import urllib.parse as up

    u = up.urlsplit(base_url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as sock:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        return RawResponse(resp.status, resp.getheaders(), body)
