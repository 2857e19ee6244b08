"""Black-box fixtures: one real tollgate, initialized and served with an explicit api-url (the
audience of the admin's management-API token, SPEC 1), plus a CLIENT_SECRET_POST application with
a custom resource for the authlib tests. Everything else the tests learn from the server itself."""

import json
import os
import shutil
import subprocess

import pytest

from tollgate_server import TollgateServer

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")

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


@pytest.fixture(scope="session")
def node_work():
    """A folder with tests/blackbox/node's files and their npm packages (installed once into the
    build tree, beside the binary; TOLLGATE_NODE_CACHE names another folder)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are required (scripts/install-deps.sh test installs them)")
    work = os.environ.get("TOLLGATE_NODE_CACHE") or os.path.join(
        os.path.dirname(os.environ.get("TOLLGATE_BIN", "build/tollgate")), "node-clients")
    work = os.path.abspath(work)
    os.makedirs(work, exist_ok=True)
    for name in os.listdir(NODE_DIR):
        shutil.copy(os.path.join(NODE_DIR, name), work)
    with open(os.path.join(NODE_DIR, "package.json")) as f:
        wanted = json.load(f)["dependencies"]
    if not all(os.path.isdir(os.path.join(work, "node_modules", name)) for name in wanted):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=work, check=True, timeout=600)
    return work
