"""Grants and role assignments of an application (SPEC §6):
/v1/environments/{envID}/applications/{appID}/grants[/{grantID}] and .../roleAssignments[/{id}]."""

import pytest

import mgmt_support
from mgmt_support import (ENV_ADMIN, ORG_ADMIN, READ_ONLY, app_path, assert_timestamp, assert_uuid,
                          check_created, check_paging, create_app, create_env, create_grant,
                          create_resource, create_scope, expect, expect_error, expect_not_found,
                          role_ids)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin


@pytest.fixture(scope="module")
def env(admin):
    return create_env(admin)["id"]


@pytest.fixture(scope="module")
def orders(admin, env):
    """A resource with three scopes, and another resource with one."""
    res = create_resource(admin, env)
    scopes = {n: create_scope(admin, env, res["id"], n)["id"]
              for n in ("o:read", "o:write", "o:admin")}
    other = create_resource(admin, env)
    other_scope = create_scope(admin, env, other["id"], "b:read")["id"]
    return {"id": res["id"], "scopes": scopes, "other": other["id"], "other_scope": other_scope}


def grants_path(env_id, app_id):
    return app_path(env_id, app_id) + "/grants"


def ras_path(env_id, app_id):
    return app_path(env_id, app_id) + "/roleAssignments"


def test_grant_create_get(admin, env, orders, mgmt_server):
    app, _ = create_app(admin, env)
    body = {"resource": {"id": orders["id"]},
            "scopes": [{"id": orders["scopes"]["o:read"]}, {"id": orders["scopes"]["o:write"]}]}
    resp = admin.post(grants_path(env, app["id"]), body)
    grant = expect(resp, 201)
    assert_uuid(grant["id"])
    assert grant["resource"] == {"id": orders["id"]}, grant
    assert grant["scopes"] == body["scopes"], grant
    for s in grant["scopes"]:
        assert set(s) == {"id"}, grant
    assert_timestamp(grant["createdAt"])
    assert resp.headers["Location"] == (f"{mgmt_server.base_url}/v1/environments/{env}"
                                        f"/applications/{app['id']}/grants/{grant['id']}")
    check_created(admin, grant, resp.headers["Location"])


def test_grant_with_one_scope_keeps_an_array(admin, env, orders):
    app, _ = create_app(admin, env)
    grant = create_grant(admin, env, app["id"], orders["id"], [orders["scopes"]["o:read"]])
    assert grant["scopes"] == [{"id": orders["scopes"]["o:read"]}]


def test_grant_list_and_paging(admin, env, orders):
    app, _ = create_app(admin, env)
    made = [create_grant(admin, env, app["id"], orders["id"], [orders["scopes"]["o:read"]])["id"],
            create_grant(admin, env, app["id"], orders["other"], [orders["other_scope"]])["id"]]
    ids = check_paging(admin, grants_path(env, app["id"]), "grants", made)
    assert sorted(ids) == sorted(made)
    # Another application's list does not show them.
    other, _ = create_app(admin, env)
    assert admin.items(grants_path(env, other["id"]), "grants") == []


def test_grant_put_replaces_scopes(admin, env, orders):
    app, _ = create_app(admin, env)
    grant = create_grant(admin, env, app["id"], orders["id"],
                         [orders["scopes"]["o:read"], orders["scopes"]["o:write"]])
    path = grants_path(env, app["id"]) + "/" + grant["id"]
    got = expect(admin.put(path, {"resource": {"id": orders["id"]},
                                  "scopes": [{"id": orders["scopes"]["o:admin"]}]}), 200)
    assert got["id"] == grant["id"]
    assert got["scopes"] == [{"id": orders["scopes"]["o:admin"]}], got
    assert got["createdAt"] == grant["createdAt"]
    assert expect(admin.get(path), 200) == got


def test_grant_delete(admin, env, orders):
    app, _ = create_app(admin, env)
    grant = create_grant(admin, env, app["id"], orders["id"], [orders["scopes"]["o:read"]])
    path = grants_path(env, app["id"]) + "/" + grant["id"]
    expect(admin.delete(path), 204)
    expect_not_found(admin.get(path))
    expect_not_found(admin.delete(path))
    expect_not_found(admin.put(path, {"resource": {"id": orders["id"]},
                                      "scopes": [{"id": orders["scopes"]["o:read"]}]}))


def test_grant_validation(admin, env, orders):
    app, _ = create_app(admin, env)
    path = grants_path(env, app["id"])
    read = {"id": orders["scopes"]["o:read"]}
    expect_error(admin.post(path, {"scopes": [read]}), 400, "INVALID_DATA", "REQUIRED_VALUE",
                 "resource.id")
    expect_error(admin.post(path, {"resource": {"id": orders["id"]}}), 400, "INVALID_DATA",
                 "REQUIRED_VALUE", "scopes")
    expect_error(admin.post(path, {"resource": orders["id"], "scopes": [read]}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "resource.id")
    expect_error(admin.post(path, {"resource": {"id": "orders"}, "scopes": [read]}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "resource.id")
    expect_error(admin.post(path, {"resource": {"id": orders["id"]},
                                   "scopes": [orders["scopes"]["o:read"]]}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scopes")
    expect_error(admin.post(path, {"resource": {"id": orders["id"]}, "scopes": {"id": read}}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scopes")
    assert admin.items(path, "grants") == []


def test_grant_with_a_scope_of_another_resource_is_refused(admin, env, orders):
    app, _ = create_app(admin, env)
    path = grants_path(env, app["id"])
    expect_error(admin.post(path, {"resource": {"id": orders["id"]},
                                   "scopes": [{"id": orders["scopes"]["o:read"]},
                                              {"id": orders["other_scope"]}]}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scopes")
    assert admin.items(path, "grants") == []
    grant = create_grant(admin, env, app["id"], orders["id"], [orders["scopes"]["o:read"]])
    expect_error(admin.put(path + "/" + grant["id"], {"resource": {"id": orders["id"]},
                                                      "scopes": [{"id": orders["other_scope"]}]}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scopes")
    assert expect(admin.get(path + "/" + grant["id"]), 200) == grant


def test_grant_references_to_unknown_or_foreign_objects(admin, env, orders):
    app, _ = create_app(admin, env)
    path = grants_path(env, app["id"])
    other_env = create_env(admin)["id"]
    foreign = create_resource(admin, other_env)
    foreign_scope = create_scope(admin, other_env, foreign["id"], "f:read")
    # Unknown or foreign IDs referenced from the body are validation errors on that field.
    expect_error(admin.post(path, {"resource": {"id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"},
                                   "scopes": [{"id": orders["scopes"]["o:read"]}]}),
                 400, "INVALID_DATA", "INVALID_VALUE", "resource.id")
    expect_error(admin.post(path, {"resource": {"id": foreign["id"]},
                                   "scopes": [{"id": foreign_scope["id"]}]}),
                 400, "INVALID_DATA", "INVALID_VALUE", "resource.id")
    expect_error(admin.post(path, {"resource": {"id": orders["id"]},
                                   "scopes": [{"id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}]}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scopes")
    assert admin.items(path, "grants") == []
    # Unknown or foreign IDs in the path are 404.
    foreign_app, _ = create_app(admin, other_env)
    expect_not_found(admin.get(grants_path(env, foreign_app["id"])))
    expect_not_found(admin.post(grants_path(env, foreign_app["id"]),
                                {"resource": {"id": orders["id"]},
                                 "scopes": [{"id": orders["scopes"]["o:read"]}]}))
    other_app, _ = create_app(admin, env)
    grant = create_grant(admin, env, other_app["id"], orders["id"], [orders["scopes"]["o:read"]])
    expect_not_found(admin.get(path + "/" + grant["id"]))  # another app's grant
    expect_not_found(admin.delete(path + "/" + grant["id"]))
    expect_not_found(admin.get(path + "/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"))
    expect_not_found(admin.get(path + "/grant-1"))
    expect(admin.get(grants_path(env, other_app["id"]) + "/" + grant["id"]), 200)


# -- role assignments ------------------------------------------------------------------------


def test_role_assignment_create_get_list_delete(admin, env, mgmt_server):
    roles = role_ids(admin)
    worker, _ = create_app(admin, env, type="WORKER")
    body = {"role": {"id": roles[READ_ONLY]}, "scope": {"id": env, "type": "ENVIRONMENT"}}
    resp = admin.post(ras_path(env, worker["id"]), body)
    ra = expect(resp, 201)
    assert_uuid(ra["id"])
    assert ra["role"] == {"id": roles[READ_ONLY]}, ra
    assert ra["scope"] == {"id": env, "type": "ENVIRONMENT"}, ra
    assert_timestamp(ra["createdAt"])
    assert resp.headers["Location"] == (f"{mgmt_server.base_url}/v1/environments/{env}"
                                        f"/applications/{worker['id']}/roleAssignments/{ra['id']}")
    check_created(admin, ra, resp.headers["Location"])

    second = admin.create(ras_path(env, worker["id"]),
                          {"role": {"id": roles[ENV_ADMIN]},
                           "scope": {"id": env, "type": "ENVIRONMENT"}})
    check_paging(admin, ras_path(env, worker["id"]), "roleAssignments", [ra["id"], second["id"]])

    path = ras_path(env, worker["id"]) + "/" + ra["id"]
    expect(admin.delete(path), 204)
    expect_not_found(admin.get(path))
    expect_not_found(admin.delete(path))
    assert admin.ids(ras_path(env, worker["id"]), "roleAssignments") == [second["id"]]


def test_role_assignment_cannot_be_updated(admin, env):
    roles = role_ids(admin)
    worker, _ = create_app(admin, env, type="WORKER")
    ra = admin.create(ras_path(env, worker["id"]), {"role": {"id": roles[READ_ONLY]},
                                                    "scope": {"id": env, "type": "ENVIRONMENT"}})
    resp = admin.put(ras_path(env, worker["id"]) + "/" + ra["id"],
                     {"role": {"id": roles[ENV_ADMIN]},
                      "scope": {"id": env, "type": "ENVIRONMENT"}})
    expect_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert "PUT" not in resp.headers["Allow"]
    assert expect(admin.get(ras_path(env, worker["id"]) + "/" + ra["id"]), 200) == ra


def test_organization_role_assignment(admin, env, mgmt_server):
    roles = role_ids(admin)
    worker, _ = create_app(admin, env, type="WORKER")
    org = mgmt_server.admin["organizationId"]
    ra = admin.create(ras_path(env, worker["id"]),
                      {"role": {"id": roles[ORG_ADMIN]},
                       "scope": {"id": org, "type": "ORGANIZATION"}})
    assert ra["scope"] == {"id": org, "type": "ORGANIZATION"}


def test_role_assignment_validation(admin, env, mgmt_server):
    roles = role_ids(admin)
    worker, _ = create_app(admin, env, type="WORKER")
    path = ras_path(env, worker["id"])
    scope = {"id": env, "type": "ENVIRONMENT"}
    expect_error(admin.post(path, {"scope": scope}), 400, "INVALID_DATA", "REQUIRED_VALUE",
                 "role.id")
    expect_error(admin.post(path, {"role": {"id": roles[READ_ONLY]}}), 400, "INVALID_DATA",
                 "REQUIRED_VALUE", "scope.id")
    expect_error(admin.post(path, {"role": roles[READ_ONLY], "scope": scope}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "role.id")
    expect_error(admin.post(path, {"role": {"id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"},
                                   "scope": scope}),
                 400, "INVALID_DATA", "INVALID_VALUE", "role.id")
    expect_error(admin.post(path, {"role": {"id": roles[READ_ONLY]},
                                   "scope": {"id": env, "type": "PLANET"}}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scope.type")
    # An environment role with an organization scope and the other way round.
    expect_error(admin.post(path, {"role": {"id": roles[READ_ONLY]},
                                   "scope": {"id": mgmt_server.admin["organizationId"],
                                             "type": "ORGANIZATION"}}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scope.type")
    expect_error(admin.post(path, {"role": {"id": roles[ORG_ADMIN]}, "scope": scope}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "scope.type")
    # An environment that does not exist.
    expect_error(admin.post(path, {"role": {"id": roles[READ_ONLY]},
                                   "scope": {"id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
                                             "type": "ENVIRONMENT"}}),
                 400, "INVALID_DATA", "INVALID_VALUE", "scope.id")
    assert admin.items(path, "roleAssignments") == []


def test_role_assignment_duplicate(admin, env):
    roles = role_ids(admin)
    worker, _ = create_app(admin, env, type="WORKER")
    body = {"role": {"id": roles[READ_ONLY]}, "scope": {"id": env, "type": "ENVIRONMENT"}}
    first = admin.create(ras_path(env, worker["id"]), body)
    expect_error(admin.post(ras_path(env, worker["id"]), body), 400, "INVALID_DATA",
                 "UNIQUENESS_VIOLATION")
    assert admin.ids(ras_path(env, worker["id"]), "roleAssignments") == [first["id"]]


def test_roles_only_for_workers(admin, env):
    roles = role_ids(admin)
    service, _ = create_app(admin, env)
    expect_error(admin.post(ras_path(env, service["id"]),
                            {"role": {"id": roles[READ_ONLY]},
                             "scope": {"id": env, "type": "ENVIRONMENT"}}),
                 400, "INVALID_DATA", "INVALID_VALUE", "role.id")
    assert admin.items(ras_path(env, service["id"]), "roleAssignments") == []


def test_role_assignment_unknown_and_foreign_ids(admin, env):
    roles = role_ids(admin)
    other_env = create_env(admin)["id"]
    foreign, _ = create_app(admin, other_env, type="WORKER")
    ra = admin.create(ras_path(other_env, foreign["id"]),
                      {"role": {"id": roles[READ_ONLY]},
                       "scope": {"id": other_env, "type": "ENVIRONMENT"}})
    expect_not_found(admin.get(ras_path(env, foreign["id"])))
    expect_not_found(admin.get(ras_path(env, foreign["id"]) + "/" + ra["id"]))
    worker, _ = create_app(admin, env, type="WORKER")
    expect_not_found(admin.get(ras_path(env, worker["id"]) + "/" + ra["id"]))
    expect_not_found(admin.delete(ras_path(env, worker["id"]) + "/" + ra["id"]))
    expect_not_found(admin.get(ras_path(env, worker["id"]) + "/ra-1"))
    assert expect(admin.get(ras_path(other_env, foreign["id"]) + "/" + ra["id"]), 200) == ra


def test_deleting_an_application_deletes_its_grants_and_roles(admin, env, orders):
    roles = role_ids(admin)
    worker, _ = create_app(admin, env, type="WORKER")
    create_grant(admin, env, worker["id"], orders["id"], [orders["scopes"]["o:read"]])
    admin.create(ras_path(env, worker["id"]), {"role": {"id": roles[READ_ONLY]},
                                               "scope": {"id": env, "type": "ENVIRONMENT"}})
    expect(admin.delete(app_path(env, worker["id"])), 204)
    expect_not_found(admin.get(grants_path(env, worker["id"])))
    expect_not_found(admin.get(ras_path(env, worker["id"])))
