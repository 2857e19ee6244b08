"""Black-box fixtures: one real tollgate, initialized and served with an explicit api-url (the
audience of the admin's management-API token, SPEC 1), plus a CLIENT_SECRET_POST application with
a custom resource for the authlib tests. Everything else the tests learn from the server itself."""

import pytest

from tollgate_server import TollgateServer

API_URL = "https://api.tollgate.example.test"
ORDERS = "https://orders.blackbox.example.test"

SEED = {
    "resources": [{"name": "orders", "audience": ORDERS, "accessTokenValiditySeconds": 1800,
                   "scopes": ["orders:read", "orders:write"]}],
    "applications": [
        {"name": "post", "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
         "grants": [{"resource": "orders", "scopes": ["orders:read", "orders:write"]}]},
        {"name": "basic", "grants": [{"resource": "orders", "scopes": ["orders:read",
                                                                      "orders:write"]}]},
    ],
}


@pytest.fixture(scope="session")
def bb_server():
    server = TollgateServer(seed=SEED, init_args=["--api-url", API_URL],
                            extra_args=["--api-url", API_URL])
    server.start()
    assert server.admin["apiUrl"] == API_URL
    yield server
    code = server.stop()
    server.tmp.cleanup()
    assert code == 0, server.logs()
