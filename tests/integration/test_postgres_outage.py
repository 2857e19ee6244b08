"""SPEC 7 availability: the database of a two-node deployment stops and starts again while both
nodes issue tokens and node A takes management writes. No token request may fail; management
writes answer 503 in PingOne's error shape while the database is away; /readyz reports the store
down on both nodes; both recover without a restart; every acknowledged write is there afterwards
and no write is half applied.

The database here is a private cluster of this module (it is stopped on purpose), never the
run's shared one."""

import threading
import time
import uuid

import pytest
import requests

from mgmt_support import Api, app_body, create_service_with_resource, expect, token_request
from pg_cluster import PgCluster, pg_bindir
from pg_support import Deployment
from tollgate_server import FORM, basic

PUBLIC = "http://tollgate.test"
DEADLINE = 30.0  # bounds a broken run only


def wait_for(what, check, deadline=DEADLINE):
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < deadline, f"{what}: not within {deadline} s"
        time.sleep(0.02)
    delay = time.monotonic() - start
    print(f"{what}: {delay * 1000:.0f} ms")
    return delay


def readyz(node):
    resp = requests.get(node.url("/readyz"), timeout=5)
    return resp.status_code, resp.json()


class TokenLoad(threading.Thread):
    """Token requests against one node until stopped (bounded by a time cap)."""

    def __init__(self, node, env, client_id, secret, cap=120.0):
        super().__init__(daemon=True)
        self.args = (node, env, client_id, secret)
        self.cap = cap
        self.stop = threading.Event()
        self.ok = 0
        self.failures = []
        self.ok_while_down = 0
        self.down = threading.Event()

    def run(self):
        node, env, cid, secret = self.args
        session = requests.Session()
        end = time.monotonic() + self.cap
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                resp = session.post(node.token_url(env), data="grant_type=client_credentials",
                                    headers={**FORM, "Authorization": basic(cid, secret)},
                                    timeout=10)
                if resp.status_code == 200:
                    self.ok += 1
                    if self.down.is_set():
                        self.ok_while_down += 1
                else:
                    self.failures.append((resp.status_code, resp.text[:200]))
            except requests.RequestException as e:  # a failed request is a failure too
                self.failures.append(("exception", str(e)))


class Writer(threading.Thread):
    """Creates applications on node A one after another until stopped; records every answer."""

    def __init__(self, api, env, cap=120.0):
        super().__init__(daemon=True)
        self.api, self.env, self.cap = api, env, cap
        self.stop = threading.Event()
        self.answers = []  # (name, status, body)

    def run(self):
        end = time.monotonic() + self.cap
        while not self.stop.is_set() and time.monotonic() < end:
            name = f"outage-{uuid.uuid4().hex[:12]}"
            try:
                resp = self.api.post(f"/environments/{self.env}/applications", app_body(name))
                self.answers.append((name, resp.status_code, resp.json() if resp.content else None))
            except requests.RequestException as e:
                self.answers.append((name, "exception", str(e)))
            self.stop.wait(0.05)  # pacing, not synchronization


@pytest.fixture(scope="module")
def private_pg():
    if pg_bindir() is None:
        pytest.skip("no PostgreSQL server installed")
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


def test_database_outage_under_load(private_pg):
    pg = private_pg
    d = Deployment(pg, init_args=["--auth-url", PUBLIC, "--api-url", PUBLIC],
                   extra_args=["--auth-url", PUBLIC, "--api-url", PUBLIC])
    loads = []
    writer = None
    try:
        a, b = d.node(), d.node()
        env = d.admin["environmentId"]
        admin_a = Api(a)
        _, _, app, secret, _ = create_service_with_resource(admin_a, env)
        wait_for("application on node B", lambda: token_request(b, env, app["id"], secret)
                 .status_code == 200)
        assert readyz(a) == (200, {"status": "READY", "store": "UP"})

        loads = [TokenLoad(n, env, app["id"], secret) for n in (a, b)]
        writer = Writer(admin_a, env)
        for t in loads + [writer]:
            t.start()
        wait_for("load running", lambda: all(t.ok > 20 for t in loads) and
                 any(s == 201 for _, s, _ in writer.answers))

        # -- the database goes away --------------------------------------------------------
        pg.stop("fast")
        for t in loads:
            t.down.set()
        for n in (a, b):
            wait_for("readyz reports the store down", lambda n=n: readyz(n)[0] == 503)
            assert readyz(n) == (503, {"status": "NOT_READY", "store": "DOWN"})
        resp = admin_a.post(f"/environments/{env}/applications", app_body())
        assert resp.status_code == 503, resp.text
        body = resp.json()
        assert {"id", "code", "message"} <= set(body), body
        assert body["code"] == "SERVICE_UNAVAILABLE", body
        assert resp.headers.get("Retry-After"), resp.headers
        # Reads of the snapshot go on: the management API lists, the JWKS, introspection data.
        expect(admin_a.get(f"/environments/{env}/applications"), 200)
        # Let the outage last: both nodes keep issuing, node A's writes keep answering 503.
        refused_before = [s for _, s, _ in writer.answers].count(503)
        wait_for("tokens issued and writes refused while the database is down",
                 lambda: all(t.ok_while_down > 100 for t in loads) and
                 [s for _, s, _ in writer.answers].count(503) >= refused_before + 3)

        # -- it comes back -----------------------------------------------------------------
        pg.start()
        for t in loads:
            t.down.clear()
        for n in (a, b):
            wait_for("readyz recovers", lambda n=n: readyz(n)[0] == 200)
        wait_for("writes succeed again", lambda: writer.answers and writer.answers[-1][1] == 201)
        _, _, app2, secret2, _ = create_service_with_resource(admin_a, env)
        wait_for("a write after recovery reaches node B",
                 lambda: token_request(b, env, app2["id"], secret2).status_code == 200)
    finally:
        for t in loads + ([writer] if writer else []):
            t.stop.set()
        for t in loads + ([writer] if writer else []):
            t.join(30)

    try:
        # -- no token request failed -------------------------------------------------------
        for t in loads:
            assert t.failures == [], t.failures[:5]
            assert t.ok_while_down > 0
        print("tokens:", [t.ok for t in loads], "while down:", [t.ok_while_down for t in loads])

        # -- no write lost, none half applied ------------------------------------------------
        statuses = [s for _, s, _ in writer.answers]
        assert 503 in statuses and 201 in statuses, statuses
        assert set(statuses) <= {201, 503}, statuses
        for _, s, body in writer.answers:
            if s == 503:
                assert body["code"] == "SERVICE_UNAVAILABLE", body
        acknowledged = {n for n, s, _ in writer.answers if s == 201}
        stored = set(pg.psql("SELECT string_agg(name, ',') FROM applications "
                             "WHERE name LIKE 'outage-%'", database=d.database).split(","))
        stored.discard("")
        assert acknowledged <= stored, acknowledged - stored
        # A 503 during the stop itself may have committed (its outcome is unknown to the
        # client); every stored application is complete either way: secret and grant types.
        incomplete = pg.psql(
            "SELECT count(*) FROM applications a WHERE a.name LIKE 'outage-%' AND "
            "(NOT EXISTS (SELECT 1 FROM application_secrets s WHERE s.application_id = a.id) OR "
            "NOT EXISTS (SELECT 1 FROM application_grant_types g WHERE g.application_id = a.id))",
            database=d.database)
        assert incomplete == "0"
        print(f"writes: {len(acknowledged)} acknowledged, {statuses.count(503)} answered 503, "
              f"{len(stored)} stored")
        # Node B's management API holds every acknowledged application too.
        admin_b = Api(b)
        names_b = {x["name"] for x in admin_b.items(f"/environments/{env}/applications",
                                                    "applications")}
        assert acknowledged <= names_b
    finally:
        codes = d.close()
    assert codes == [0, 0]
