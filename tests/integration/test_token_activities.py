"""Audit activities of the auth surface through the real binary: every answer of the token,
introspection and revocation endpoints becomes an activity naming the client and the token by its
jti (PyJWT reads the jti from the token it verified), never the token or a secret;
--token-activities chooses all, failures or none; callers that did not authenticate cost an
environment a bounded number of activities; on PostgreSQL a token issued by one node is read from
another."""

import subprocess
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests

from mgmt_support import (Api, admin, create_env, create_service_with_resource,  # noqa: F401
                          expect, mgmt_server, token_request)
from pg_support import Deployment
from tollgate_server import TOLLGATE_BIN, basic, metric, serving

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BURST = 100       # AuthActivities::kUnauthenticatedBurst
PER_SECOND = 10   # AuthActivities::kUnauthenticatedPerSecond


def activities(api, env_id, flt=None):
    params = {"limit": 1000, **({"filter": flt} if flt else {})}
    path = f"/environments/{env_id}/activities?" + urllib.parse.urlencode(params)
    return expect(api.get(path), 200)["_embedded"]["activities"]


def of_type(api, env_id, action_type):
    return activities(api, env_id, f'action.type eq "{action_type}"')


def verified_claims(server, env_id, access_token):
    """The token's claims, its signature checked by PyJWT against the environment's JWKS."""
    key = jwt.PyJWKClient(f"{server.base_url}/{env_id}/as/jwks").get_signing_key_from_jwt(
        access_token)
    return jwt.decode(access_token, key.key, algorithms=["RS256"], options={"verify_aud": False})


def service(api):
    return service_in(api, create_env(api)["id"])


def service_in(api, env):
    _, _, app, secret, _ = create_service_with_resource(api, env)
    return env, app, secret


def issue(server, env, app, secret):
    resp = token_request(server, env, app["id"], secret)
    assert resp.status_code == 200, resp.text
    return resp


def post(server, env, endpoint, data, client_id, secret):
    return requests.post(f"{server.base_url}/{env}/as/{endpoint}", data=data,
                         headers={**FORM, "Authorization": basic(client_id, secret)}, timeout=30)


def test_an_issued_token_is_an_activity_named_by_its_jti(admin, mgmt_server):
    env, app, secret = service(admin)
    resp = issue(mgmt_server, env, app, secret)
    access_token = resp.json()["access_token"]
    jti = verified_claims(mgmt_server, env, access_token)["jti"]

    [a] = activities(admin, env, f'resources.id eq "{jti}"')
    assert a["action"] == {"type": "ACCESS_TOKEN.ISSUED", "description": "Access Token Issued"}
    assert a["result"] == {"status": "SUCCESS"}
    assert a["actors"]["client"] == {"id": app["id"], "environment": {"id": env},
                                     "type": "CLIENT", "name": app["name"]}
    assert a["resources"] == [{"id": jti, "environment": {"id": env}, "type": "ACCESS_TOKEN"}]
    assert a["source"] == {"ipAddress": "127.0.0.1"}
    assert a["correlationId"] == resp.headers["Correlation-Id"]
    # Found by the client too ("who got which token").
    mine = activities(admin, env, f'actors.client.id eq "{app["id"]}" and '
                                  'action.type eq "ACCESS_TOKEN.ISSUED"')
    assert [x["id"] for x in mine] == [a["id"]]
    text = str(a)
    assert access_token not in text and secret not in text


def test_failures_say_what_was_answered_and_name_only_known_clients(admin, mgmt_server):
    env, app, secret = service(admin)
    made_up = "made-up-" + uuid.uuid4().hex
    assert token_request(mgmt_server, env, app["id"], "wrong").status_code == 401
    assert token_request(mgmt_server, env, made_up, "x").status_code == 401
    assert token_request(mgmt_server, env, app["id"], secret, scope="nope").status_code == 400
    not_a_form = requests.post(mgmt_server.token_url(env), data="{}",
                               headers={"Content-Type": "application/json"}, timeout=30)
    assert not_a_form.status_code == 400

    failed = activities(admin, env, 'result.status eq "FAILED"')
    assert [(x["action"]["type"], x["actors"]["client"].get("id"),
             x["result"]["description"].split(":")[0]) for x in failed] == [
        ("ACCESS_TOKEN.ISSUED", app["id"], "invalid_client"),
        ("ACCESS_TOKEN.ISSUED", None, "invalid_client"),
        ("ACCESS_TOKEN.ISSUED", app["id"], "invalid_scope"),
        ("ACCESS_TOKEN.ISSUED", None, "invalid_request")]
    assert all(x["resources"] == [] for x in failed)
    text = str(failed)
    assert made_up not in text and secret not in text and "wrong" not in text


def test_introspection_and_revocation_are_activities(admin, mgmt_server):
    env, app, secret = service(admin)
    access_token = issue(mgmt_server, env, app, secret).json()["access_token"]
    jti = verified_claims(mgmt_server, env, access_token)["jti"]

    assert post(mgmt_server, env, "introspect", {"token": access_token}, app["id"],
                secret).json()["active"] is True
    assert post(mgmt_server, env, "revoke", {"token": access_token}, app["id"],
                secret).status_code == 200
    assert post(mgmt_server, env, "introspect", {"token": access_token}, app["id"],
                secret).json() == {"active": False}
    assert post(mgmt_server, env, "revoke", {"token": "not-a-token"}, app["id"],
                secret).status_code == 200
    assert post(mgmt_server, env, "introspect", {}, app["id"], secret).status_code == 400

    seen = [(x["action"]["type"], x["result"]["status"], x["result"].get("description"),
             [r["id"] for r in x["resources"]])
            for x in activities(admin, env, 'action.type in ["ACCESS_TOKEN.INTROSPECTED", '
                                            '"ACCESS_TOKEN.REVOKED"]')]
    assert seen == [
        ("ACCESS_TOKEN.INTROSPECTED", "SUCCESS", "active", [jti]),
        ("ACCESS_TOKEN.REVOKED", "SUCCESS", "revoked", [jti]),
        ("ACCESS_TOKEN.INTROSPECTED", "SUCCESS", "inactive", []),
        ("ACCESS_TOKEN.REVOKED", "SUCCESS", "not a valid token of this client", []),
        ("ACCESS_TOKEN.INTROSPECTED", "FAILED", "invalid_request: token is required", [])]
    assert access_token not in str(seen)


@pytest.mark.parametrize("level", ["failures", "none"])
def test_the_level_chooses_what_is_kept(level):
    with serving(extra_args=["--token-activities", level]) as server:
        api = Api(server)
        env, app, secret = service(api)
        issue(server, env, app, secret)
        assert token_request(server, env, app["id"], "wrong").status_code == 401
        kept = [(x["result"]["status"]) for x in of_type(api, env, "ACCESS_TOKEN.ISSUED")]
        assert kept == (["FAILED"] if level == "failures" else [])
        # Management activities do not depend on it.
        assert of_type(api, env, "APPLICATION.CREATED")


def test_a_bad_level_is_refused_at_start():
    out = subprocess.run([TOLLGATE_BIN, "serve", "--store", "sqlite::memory:",
                          "--listen", "127.0.0.1:0", "--token-activities", "sometimes"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out
    assert "--token-activities must be all, failures or none" in out.stderr


def test_callers_that_did_not_authenticate_have_a_budget(admin, mgmt_server):
    env, _, _ = service(admin)
    suppressed = metric(mgmt_server, "tollgate_activities_suppressed_total")
    sent = 3 * BURST
    started = time.monotonic()
    with requests.Session() as s:
        for i in range(sent):
            resp = s.post(mgmt_server.token_url(env), data={"grant_type": "client_credentials"},
                          headers={**FORM, "Authorization": basic(f"nobody-{i}", "x")}, timeout=30)
            assert resp.status_code == 401
    elapsed = time.monotonic() - started
    kept = len(of_type(admin, env, "ACCESS_TOKEN.ISSUED"))
    # The burst, then what the rate refilled while they were sent (the exact arithmetic is the
    # unit test's, on a fake clock; here the clock is the machine's).
    assert BURST <= kept <= BURST + PER_SECOND * elapsed + 1, (kept, elapsed)
    assert kept < sent, (kept, elapsed)
    assert metric(mgmt_server, "tollgate_activities_suppressed_total") == suppressed + sent - kept
    # Junk under made-up names spent the environment's budget, not the application's: a wrong
    # secret for a real application is still recorded.
    _, app, _ = service_in(admin, env)
    assert token_request(mgmt_server, env, app["id"], "wrong").status_code == 401
    [failed] = activities(admin, env, f'actors.client.id eq "{app["id"]}"')
    assert failed["result"]["description"].startswith("invalid_client")


def test_a_token_issued_by_one_node_is_read_from_another(pg):
    d = Deployment(pg)
    try:
        a = d.node()
        b = d.node()
        admin_a, admin_b = Api(a), Api(b)
        env, app, secret = service(admin_a)
        # Node B serves the application once the change feed has told it.
        deadline = time.monotonic() + 30
        while token_request(b, env, app["id"], secret).status_code != 200:
            assert time.monotonic() < deadline, "node B never served the application"
            time.sleep(0.05)
        issued = [verified_claims(b, env, issue(b, env, app, secret).json()["access_token"])["jti"]]
        activities(admin_b, env)  # a read on B stores what B has queued
        found = activities(admin_a, env, f'resources.id eq "{issued[0]}"')
        assert [x["action"]["type"] for x in found] == ["ACCESS_TOKEN.ISSUED"]
    finally:
        codes = d.close()
    assert codes == [0, 0]
