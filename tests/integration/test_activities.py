"""Audit activities of the management API through the real binary (PingOne's
GET /v1/environments/{envID}/activities): a write, a refused write and a secret read become
activities with the caller, the objects and the outcome; the SCIM filter is sent as clients send
it (requests' query encoding); pages are followed by their `next` links; only administrators
read them; several nodes on one PostgreSQL database read each other's."""

import urllib.parse

from mgmt_support import (ENV_ADMIN, READ_ONLY, Api, admin, app_path, create_app,  # noqa: F401
                          create_env, create_resource, create_worker, expect, expect_error,
                          expect_forbidden, mgmt_server)
from pg_support import Deployment
from tollgate_server import metric


def activities_path(env_id):
    return f"/environments/{env_id}/activities"


def activities(api, env_id, **params):
    body = expect(api.call("GET", activities_path(env_id) + query(params)), 200)
    assert body["count"] == body["size"] == len(body["_embedded"]["activities"]), body
    return body


def query(params):
    return "?" + urllib.parse.urlencode(params) if params else ""


def of_type(api, env_id, action_type):
    body = activities(api, env_id, filter=f'action.type eq "{action_type}"')
    return body["_embedded"]["activities"]


def test_a_write_becomes_an_activity(admin):
    env = create_env(admin)["id"]
    app, _ = create_app(admin, env, "audited")
    [a] = of_type(admin, env, "APPLICATION.CREATED")
    assert a["action"] == {"type": "APPLICATION.CREATED", "description": "Application Created"}
    assert a["result"] == {"status": "SUCCESS"}
    client = a["actors"]["client"]
    assert client["id"] == admin.client_id and client["type"] == "CLIENT"
    assert client["environment"] == {"id": admin.env_id}
    assert client["name"]
    assert a["resources"] == [
        {"type": "ENVIRONMENT", "id": env},
        {"type": "APPLICATION", "id": app["id"], "name": "audited", "environment": {"id": env}}]
    assert a["source"] == {"ipAddress": "127.0.0.1"}
    assert a["recordedAt"] == a["createdAt"] and a["recordedAt"].endswith("Z")
    assert a["correlationId"] and a["id"]


def test_refused_writes_and_secret_reads_are_activities(admin):
    env = create_env(admin)["id"]
    app, secret = create_app(admin, env)
    _, _, reader = create_worker(admin, env, [(READ_ONLY, env)])
    expect_forbidden(reader.put(app_path(env, app["id"]), {"name": "renamed"}))
    expect_error(admin.put(app_path(env, app["id"]), {"name": ""}), 400, "INVALID_DATA")
    expect(admin.get(app_path(env, app["id"]) + "/secret"), 200)
    expect(admin.get(app_path(env, app["id"])), 200)  # a plain read: not an activity

    failed = activities(admin, env, filter='result.status eq "FAILED"')["_embedded"]["activities"]
    assert [(a["action"]["type"], a["actors"]["client"]["id"]) for a in failed] == [
        ("APPLICATION.UPDATED", reader.client_id), ("APPLICATION.UPDATED", admin.client_id)]
    assert all(a["result"]["description"] for a in failed)
    mine = activities(admin, env, filter=f'resources.id eq "{app["id"]}"')
    # create_app reads the new secret: that read is an activity too.
    assert [a["action"]["type"] for a in mine["_embedded"]["activities"]] == [
        "APPLICATION.CREATED", "SECRET.READ", "APPLICATION.UPDATED", "APPLICATION.UPDATED",
        "SECRET.READ"]
    text = str(mine)
    assert secret not in text, "no secret in an activity"
    assert admin.token not in text, "no token in an activity"


def test_pages_follow_next_links(admin):
    env = create_env(admin)["id"]
    for i in range(5):
        create_resource(admin, env, name=f"r{i}")
    seen = []
    # The next links keep the filter (the environment's own ENVIRONMENT.CREATED is left out).
    url = activities_path(env) + query({"filter": 'action.type eq "RESOURCE.CREATED"',
                                        "limit": 2})
    while True:
        body = expect(admin.get(url), 200)
        seen += [a["resources"][-1]["name"] for a in body["_embedded"]["activities"]]
        if "next" not in body["_links"]:
            break
        url = body["_links"]["next"]["href"]
    assert seen == [f"r{i}" for i in range(5)]


def test_bad_filters_are_400_naming_the_filter(admin):
    env = create_env(admin)["id"]
    for bad in ['nonsense eq "x"', 'recordedAt gt "yesterday"', 'action.type eq "A" or',
                'action.type gt "A"']:
        resp = admin.get(activities_path(env) + query({"filter": bad}))
        expect_error(resp, 400, "INVALID_DATA")
        assert resp.json()["details"][0]["code"] == "INVALID_FILTER", resp.text
        assert resp.json()["details"][0]["target"] == "filter", resp.text
    expect_error(admin.get(activities_path(env) + "?limit=0"), 400, "INVALID_DATA")


def test_only_administrators_read_activities(admin):
    env = create_env(admin)["id"]
    _, _, reader = create_worker(admin, env, [(READ_ONLY, env)])
    _, _, env_admin = create_worker(admin, env, [(ENV_ADMIN, env)])
    expect_forbidden(reader.get(activities_path(env)))
    assert activities(env_admin, env)["_embedded"]["activities"]
    resp = admin.post(activities_path(env), {})
    assert resp.status_code == 405, resp.text


def test_metrics_count_activities(admin, mgmt_server):
    env = create_env(admin)["id"]
    before = metric(mgmt_server, "tollgate_activities_recorded_total")
    create_app(admin, env)  # created, then its secret read: two activities
    activities(admin, env)  # stores what is queued
    assert metric(mgmt_server, "tollgate_activities_recorded_total") == before + 2
    assert metric(mgmt_server, "tollgate_activities_stored_total") >= before + 2
    assert metric(mgmt_server, "tollgate_activities_dropped_total") == 0
    assert metric(mgmt_server, "tollgate_activities_queued") == 0


def test_nodes_read_each_others_activities(pg):
    d = Deployment(pg)
    try:
        a = d.node()
        b = d.node()
        admin_a, admin_b = Api(a), Api(b)
        env = d.admin["environmentId"]
        app, _ = create_app(admin_a, env, "made on a")
        # Node A stores its activity at once (a read on A flushes); B reads the shared store.
        activities(admin_a, env)
        [made] = [x for x in of_type(admin_b, env, "APPLICATION.CREATED")
                  if x["resources"][-1]["id"] == app["id"]]
        assert made["resources"][-1]["name"] == "made on a"
    finally:
        codes = d.close()
    assert codes == [0, 0]

