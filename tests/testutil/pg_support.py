"""PostgreSQL for the Python suites: the run's throwaway cluster (TOLLGATE_TEST_PG_DIR, started
by scripts/test.sh), or else a private one started here; a fresh database per deployment; and
deployments of several Tollgate nodes on one database.

Without PostgreSQL server binaries the PostgreSQL tests skip, unless TOLLGATE_REQUIRE_PG=1
(scripts/test.sh sets it), which makes them fail."""

import base64
import os
import secrets

import pytest

from pg_cluster import PgCluster, pg_bindir
from tollgate_server import TollgateServer


def shared_cluster():
    """The cluster for this test run, or pytest.skip/fail when there is none. The caller owns a
    private cluster (returned second) and must destroy() it."""
    root = os.environ.get("TOLLGATE_TEST_PG_DIR")
    if root:
        return PgCluster(root), None
    if pg_bindir() is None:
        if os.environ.get("TOLLGATE_REQUIRE_PG") == "1":
            pytest.fail("TOLLGATE_REQUIRE_PG=1 but no PostgreSQL server is installed")
        pytest.skip("no PostgreSQL server installed")
    cluster = PgCluster()
    cluster.start()
    return cluster, cluster


def new_master_key():
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Deployment:
    """One Tollgate deployment on a fresh database of `cluster`: `init` once, then any number of
    serving nodes (`node()`), all with the same master key."""

    def __init__(self, cluster, seed=None, extra_args=(), init_args=()):
        self.cluster = cluster
        self.database = cluster.create_database()
        self.store = cluster.uri(self.database)
        self.env = {"TOLLGATE_MASTER_KEY": new_master_key()}
        self.extra_args = list(extra_args)
        self.nodes = []
        first = TollgateServer(seed=seed, store=self.store, env=self.env, init_args=init_args,
                               extra_args=self.extra_args)
        self.admin = first.admin
        self.seeded = first.seeded
        self._first = first

    def node(self, extra_args=()):
        """A new serving node (started)."""
        if self._first is not None:
            server, self._first = self._first, None
            server.extra_args += list(extra_args)
        else:
            server = TollgateServer(store=self.store, env=self.env, admin=self.admin,
                                    extra_args=self.extra_args + list(extra_args))
            server.seeded = self.seeded
        server.start()
        self.nodes.append(server)
        return server

    def close(self):
        """Stops every node (returning their exit codes) and drops the database."""
        codes = []
        for n in self.nodes:
            try:
                codes.append(n.stop())
            finally:
                n.tmp.cleanup()
        if self._first is not None:
            self._first.tmp.cleanup()
        if self.cluster.running():
            self.cluster.psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        return codes
