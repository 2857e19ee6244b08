"""Integration fixtures: the real tollgate binary on a free loopback port, seeded through the
storage API (tollgate_seed), driven over HTTP with python3-requests.

`main_server` is one server for the whole run with every resource and application the token-endpoint
tests need (SPEC 2.1-2.7). Tests that stop servers, flood them or depend on the clock get their
own server in their module. Each application is used for at most a few failed authentications,
so that the brute-force protection of SPEC 2.2 rule 8 never changes an answer here."""

import pytest

from integration_support import MAIN_SEED, Client
from tollgate_server import serving


@pytest.fixture(scope="session")
def main_server():
    with serving(seed=MAIN_SEED) as server:
        yield server


@pytest.fixture(scope="session")
def client(main_server):
    return Client(main_server)


@pytest.fixture(scope="session")
def pg():
    """The PostgreSQL cluster of this run (see tests/testutil/pg_support.py)."""
    from pg_support import shared_cluster
    cluster, owned = shared_cluster()
    yield cluster
    if owned is not None:
        owned.destroy()
