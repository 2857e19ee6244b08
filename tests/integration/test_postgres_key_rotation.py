"""Key rotation policies on several nodes of one PostgreSQL database. Two nodes that start
together while a rotation step is due apply it once between them: one next key is created and
published, later one switch of the default key, and both nodes then sign with the same key.
Time is moved by rewriting the stored times while the nodes are stopped (each node runs its
first rotation pass before it says it listens)."""

import threading
import time

import jwt

from mgmt_support import Api, create_env, create_service_with_resource, jwks, token_request
from pg_support import Deployment

PUBLIC = "http://tollgate.test"  # auth-url and api-url of both nodes, as behind a load balancer
DAY_MS = 86_400_000


def start_together(*nodes):
    """Starts the stopped `nodes` at the same moment, so that their first passes race."""
    errors = []
    go = threading.Barrier(len(nodes))

    def run(node):
        go.wait()
        try:
            node.start()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def log_count(nodes, text):
    return sum(line.count(text) for n in nodes for line in n.log_lines)


def kid(node, env, app, secret):
    resp = token_request(node, env, app["id"], secret)
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return jwt.get_unverified_header(resp.json()["access_token"])["kid"]


def test_nodes_apply_each_rotation_step_once(pg):
    d = Deployment(pg, init_args=["--auth-url", PUBLIC, "--api-url", PUBLIC],
                   extra_args=["--auth-url", PUBLIC, "--api-url", PUBLIC])
    try:
        a = d.node()
        b = d.node()
        admin = Api(a)
        env = create_env(admin)["id"]
        _, _, app, secret, _ = create_service_with_resource(admin, env)
        path = f"/environments/{env}/keyRotationPolicies"
        policy = admin.items(path, "keyRotationPolicies")[0]
        first = policy["currentKeyId"]
        assert policy["enabled"] is True and "nextKeyId" not in policy

        def stored(sql):
            return pg.psql(sql, database=d.database)

        def restart(sql):
            for n in (a, b):
                assert n.stop() == 0
            stored(sql)
            start_together(a, b)
            admin.refresh()

        now_ms = int(time.time() * 1000)
        restart(f"UPDATE key_rotation_policies SET rotated_at = {now_ms - 85 * DAY_MS} "
                f"WHERE environment_id = '{env}'")
        assert log_count((a, b), "published the next key") == 1, (a.logs(), b.logs())
        assert stored(f"SELECT count(*) FROM signing_keys WHERE environment_id = '{env}'") == "2"
        nxt = admin.get(f"{path}/{policy['id']}").json()["nextKeyId"]
        assert nxt != first
        for node in (a, b):
            assert {k["kid"] for k in jwks(node, env)["keys"]} == {first, nxt}
            assert kid(node, env, app, secret) == first, "published, not yet signing"
        old_token = token_request(a, env, app["id"], secret).json()["access_token"]

        now_ms = int(time.time() * 1000)
        restart(f"UPDATE key_rotation_policies SET rotated_at = {now_ms - 91 * DAY_MS} "
                f"WHERE environment_id = '{env}'; "
                f"UPDATE signing_keys SET created_at = {now_ms - 8 * DAY_MS} WHERE id = '{nxt}'")
        assert log_count((a, b), "is now the default") == 1, (a.logs(), b.logs())
        assert stored(f"SELECT count(*) FROM signing_keys WHERE environment_id = '{env}' "
                      "AND is_default") == "1"
        assert stored(f"SELECT id FROM signing_keys WHERE environment_id = '{env}' "
                      "AND is_default") == nxt
        rotated = admin.get(f"{path}/{policy['id']}").json()
        assert rotated["currentKeyId"] == nxt and "nextKeyId" not in rotated
        for node in (a, b):
            assert kid(node, env, app, secret) == nxt
            # The retired key stays published: a token it signed before the switch verifies.
            keys = jwt.PyJWKSet.from_dict(jwks(node, env))
            assert {k.key_id for k in keys.keys} == {first, nxt}
            signer = next(k for k in keys.keys if k.key_id == first)
            claims = jwt.decode(old_token, signer.key, algorithms=["RS256"],
                                options={"verify_aud": False})
            assert claims["client_id"] == app["id"]
    finally:
        codes = d.close()
    assert codes == [0, 0]
