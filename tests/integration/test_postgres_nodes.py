"""SPEC 7, several nodes on one PostgreSQL database: a management write on node A is honoured by
node B's token endpoint within a second (polled with a generous deadline; the delays seen are
printed with `pytest -s` and kept in PROPAGATION); key rotation, secret rotation, deletions and
revocations propagate the same way; the periodic check repairs a change whose notification was
lost; a jti revoked on one node is refused on the other."""

import time

import pytest
import requests

from mgmt_support import (Api, create_app, create_env, create_grant, create_resource, create_scope,
                          create_service_with_resource, expect, jwks, token_claims,
                          token_request, uniq)
from pg_support import Deployment
from test_client_assertions import claims_for, expect_denied, post_assertion, sign
from test_introspection_revocation import introspect, revoke
from tollgate_server import jwt_parts, metric

PUBLIC = "http://tollgate.test"  # the load balancer's URL: auth-url and api-url of every node
DEADLINE = 10.0  # seconds; the contract is 1 s, the deadline only bounds a broken run
PROPAGATION = {}


def propagated(name, check, deadline=DEADLINE):
    """Polls `check()` until it returns True; records and returns the delay."""
    start = time.monotonic()
    while True:
        if check():
            delay = time.monotonic() - start
            PROPAGATION[name] = delay
            print(f"propagation {name}: {delay * 1000:.0f} ms")
            return delay
        assert time.monotonic() - start < deadline, f"{name}: not seen on node B in {deadline} s"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def nodes(pg):
    d = Deployment(pg, init_args=["--auth-url", PUBLIC, "--api-url", PUBLIC],
                   extra_args=["--auth-url", PUBLIC, "--api-url", PUBLIC])
    a = d.node()
    b = d.node()
    yield d, a, b
    codes = d.close()
    assert codes == [0, 0], (a.logs(), b.logs())


@pytest.fixture(scope="module")
def admin_a(nodes):
    _, a, _ = nodes
    return Api(a)


def status(node, env, client_id, secret, **params):
    return token_request(node, env, client_id, secret, **params).status_code


def test_new_application_reaches_node_b(nodes, admin_a):
    d, a, b = nodes
    env = d.admin["environmentId"]
    _, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("new application", lambda: status(b, env, app["id"], secret) == 200)
    claims = token_claims(token_request(b, env, app["id"], secret))[1]
    assert claims["iss"] == f"{PUBLIC}/{env}/as"
    assert claims["scope"] == "read write"


def test_grant_change_reaches_node_b(nodes, admin_a):
    d, _, b = nodes
    env = d.admin["environmentId"]
    res, scopes, app, secret, grant = create_service_with_resource(admin_a, env)
    extra = create_scope(admin_a, env, res["id"], "extra")
    create_grant(admin_a, env, app["id"], res["id"], [extra["id"]])

    def scope_on_b():
        resp = token_request(b, env, app["id"], secret)
        return resp.status_code == 200 and "extra" in resp.json().get("scope", "").split()
    propagated("grant", scope_on_b)


def test_secret_rotation_reaches_node_b(nodes, admin_a):
    d, _, b = nodes
    env = d.admin["environmentId"]
    _, _, app, old, _ = create_service_with_resource(admin_a, env)
    propagated("application before rotation", lambda: status(b, env, app["id"], old) == 200)
    path = f"/environments/{env}/applications/{app['id']}/secret"
    new = expect(admin_a.post(path), 200)["secret"]
    propagated("secret rotation", lambda: status(b, env, app["id"], new) == 200)
    assert status(b, env, app["id"], old) == 401


def test_key_rotation_reaches_node_b(nodes, admin_a):
    d, _, b = nodes
    env = d.admin["environmentId"]
    _, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before key rotation", lambda: status(b, env, app["id"], secret) == 200)
    key = admin_a.create(f"/environments/{env}/keys",
                         {"algorithm": "EC", "keyLength": 256, "default": True})

    def signed_with_new_key():
        resp = token_request(b, env, app["id"], secret)
        return resp.status_code == 200 and token_claims(resp)[0]["kid"] == key["id"]
    propagated("key rotation", signed_with_new_key)
    assert key["id"] in [k["kid"] for k in jwks(b, env)["keys"]]


def test_deletions_reach_node_b(nodes, admin_a):
    d, _, b = nodes
    env = d.admin["environmentId"]
    res, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before deletion", lambda: status(b, env, app["id"], secret) == 200)
    expect(admin_a.delete(f"/environments/{env}/resources/{res['id']}"), 204)
    propagated("resource deletion", lambda: status(b, env, app["id"], secret) == 400)
    expect(admin_a.delete(f"/environments/{env}/applications/{app['id']}"), 204)
    propagated("application deletion", lambda: status(b, env, app["id"], secret) == 401)


def test_new_and_deleted_environment_reach_node_b(nodes, admin_a):
    _, _, b = nodes
    env = create_env(admin_a)
    url = f"{b.base_url}/{env['id']}/as/jwks"
    propagated("new environment", lambda: requests.get(url, timeout=10).status_code == 200)
    expect(admin_a.delete(f"/environments/{env['id']}"), 204)
    propagated("environment deletion", lambda: requests.get(url, timeout=10).status_code == 404)


def test_revocation_on_one_node_holds_on_the_other(nodes, admin_a):
    d, a, b = nodes
    env = d.admin["environmentId"]
    _, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before revocation", lambda: status(b, env, app["id"], secret) == 200)
    resp = token_request(b, env, app["id"], secret)
    token = resp.json()["access_token"]
    assert introspect(a, env, token, app["id"], secret).json()["active"] is True
    assert revoke(a, env, token, app["id"], secret).status_code == 200
    propagated("revocation", lambda: introspect(b, env, token, app["id"], secret).json()["active"]
               is False)


def test_revoke_tokens_on_one_node_holds_on_the_other(nodes, admin_a):
    """revokeTokens stores one not-before instant per application, no jti: node B learns it
    through the change feed and treats the earlier tokens it issued as inactive."""
    d, a, b = nodes
    env = d.admin["environmentId"]
    _, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before revokeTokens", lambda: status(b, env, app["id"], secret) == 200)
    token = token_request(b, env, app["id"], secret).json()["access_token"]
    assert introspect(b, env, token, app["id"], secret).json()["active"] is True
    expect(admin_a.post(f"/environments/{env}/applications/{app['id']}/revokeTokens"), 200)
    propagated("revokeTokens", lambda: introspect(b, env, token, app["id"], secret).json()
               == {"active": False})
    fresh = token_request(b, env, app["id"], secret).json()["access_token"]
    assert introspect(a, env, fresh, app["id"], secret).json()["active"] is True


def test_management_api_on_node_b_sees_node_a_writes(nodes, admin_a):
    d, _, b = nodes
    env = d.admin["environmentId"]
    admin_b = Api(b)
    app, _ = create_app(admin_a, env, name=uniq("seen-on-b"))
    path = f"/environments/{env}/applications/{app['id']}"
    propagated("management read", lambda: admin_b.get(path).status_code == 200)
    # And the other way round: a write on B, honoured by A's token endpoint.
    _, _, app_b, secret_b, _ = create_service_with_resource(admin_b, env)
    _, a, _ = nodes
    propagated("write on node B", lambda: status(a, env, app_b["id"], secret_b) == 200)


def test_periodic_check_repairs_a_lost_notification(nodes, admin_a, pg):
    """A change committed without a notification (triggers off, as if it had been lost) still
    reaches node B, through the periodic check of the environments' versions."""
    d, _, b = nodes
    env = d.admin["environmentId"]
    _, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before silent change", lambda: status(b, env, app["id"], secret) == 200)
    pg.psql("SET session_replication_role = replica; "
            f"UPDATE applications SET enabled = false WHERE id = '{app['id']}'; "
            f"UPDATE config_versions SET version = version + 1 WHERE environment_id = '{env}'",
            database=d.database)
    repairs = metric(b, "tollgate_change_feed_repairs_total")
    propagated("lost notification (periodic check)",
               lambda: status(b, env, app["id"], secret) == 401)
    # /metrics tells: the change came through the periodic check, and the feed is current.
    assert metric(b, "tollgate_change_feed_repairs_total") >= repairs + 1
    assert metric(b, "tollgate_change_feed_staleness_seconds") < DEADLINE
    assert metric(b, "tollgate_store_up") == 1


def test_periodic_check_repairs_a_lost_jti_notification(nodes, admin_a, pg):
    d, a, b = nodes
    env = d.admin["environmentId"]
    _, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before silent revocation",
               lambda: status(b, env, app["id"], secret) == 200)
    token = token_request(b, env, app["id"], secret).json()["access_token"]
    jti = jwt_parts(token)[1]["jti"]
    exp_ms = int(time.time() * 1000) + 3_600_000
    pg.psql("SET session_replication_role = replica; "
            "INSERT INTO remembered_jtis (kind, environment_id, jti, expires_at) "
            f"VALUES ('REVOKED_TOKEN', '{env}', '{jti}', {exp_ms})", database=d.database)
    propagated("lost jti notification (periodic check)",
               lambda: introspect(b, env, token, app["id"], secret).json()["active"] is False)


def test_management_calls_read_their_writes_across_nodes(nodes, admin_a):
    """No polling here: a call on node B right after a write on node A sees the write, as a
    client behind a load balancer needs (create a resource, then its scope, then a grant)."""
    d, _, b = nodes
    env = d.admin["environmentId"]
    admin_b = Api(b)
    for _ in range(5):
        res = create_resource(admin_a, env)
        scope = create_scope(admin_b, env, res["id"], "read")
        app, _ = create_app(admin_a, env)
        create_grant(admin_b, env, app["id"], res["id"], [scope["id"]])
        expect(admin_a.delete(f"/environments/{env}/resources/{res['id']}"), 204)
        expect(admin_b.get(f"/environments/{env}/resources/{res['id']}"), 404)


def test_used_client_assertion_is_refused_on_the_other_node(nodes, admin_a):
    """SPEC 2.2 rule 6 and SPEC 7: an assertion used on node A is refused on node B within a
    second (the jti is written behind the token path, then carried by the change feed)."""
    d, a, b = nodes
    env = d.admin["environmentId"]
    app, secret = create_app(admin_a, env, tokenEndpointAuthMethod="CLIENT_SECRET_JWT")
    res = create_resource(admin_a, env)
    scope = create_scope(admin_a, env, res["id"], "read")
    create_grant(admin_a, env, app["id"], res["id"], [scope["id"]])
    aud = f"{PUBLIC}/{env}/as/token"
    propagated("assertion client",
               lambda: post_assertion(b, env, sign(secret, "HS256",
                                                   claims_for(app["id"], aud))).status_code == 200)
    used = sign(secret, "HS256", claims_for(app["id"], aud))
    assert post_assertion(a, env, used).status_code == 200
    # The contract's second; B could only have accepted a replay before the jti reached it.
    time.sleep(1.0)
    expect_denied(post_assertion(b, env, used))
    expect_denied(post_assertion(a, env, used))


def test_resource_attribute_reaches_node_b(nodes, admin_a):
    """A resource attribute written on node A is a claim of node B's next token within the
    contract's second (docs/token-customization.md)."""
    d, _, b = nodes
    env = d.admin["environmentId"]
    res, _, app, secret, _ = create_service_with_resource(admin_a, env)
    propagated("application before attribute", lambda: status(b, env, app["id"], secret) == 200)
    admin_a.create(f"/environments/{env}/resources/{res['id']}/attributes",
                   {"name": "tenant", "value": "${'t-' + #root.context.appConfig.clientId}"})

    def claim_on_b():
        resp = token_request(b, env, app["id"], secret)
        return resp.status_code == 200 and token_claims(resp)[1].get("tenant") == "t-" + app["id"]
    delay = propagated("resource attribute", claim_on_b, deadline=1.0)
    assert delay < 1.0
