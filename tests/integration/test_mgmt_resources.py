"""/v1/environments/{envID}/resources[/{resID}[/scopes[/{scopeID}]|/secret]] (SPEC §6): the
resource and scope objects, defaults, validation (audience, lifetime range, scope names), PUT
semantics, DELETE and its cascade, the built-in resources, and the resource secret."""

import pytest

import mgmt_support
from mgmt_support import (assert_int, assert_timestamp, assert_uuid, check_created, check_paging,
                          create_app, create_env, create_grant, create_resource, create_scope,
                          expect, expect_error, expect_not_found, resources_path, uniq,
                          walk_strings)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin


@pytest.fixture(scope="module")
def env(admin):
    return create_env(admin)["id"]


def res_path(env_id, res_id):
    return f"{resources_path(env_id)}/{res_id}"


def scopes_path(env_id, res_id):
    return res_path(env_id, res_id) + "/scopes"


def check_resource(res):
    assert_uuid(res["id"])
    assert isinstance(res["name"], str)
    assert res["type"] in ("CUSTOM", "OPENID_CONNECT", "PINGONE_API"), res
    assert isinstance(res["audience"], str)
    assert_timestamp(res["createdAt"])
    assert_timestamp(res["updatedAt"])
    assert "secret" not in res, res


def test_create_custom_resource(admin, env, mgmt_server):
    name = uniq("orders")
    body = {"name": name, "description": "the orders API",
            "audience": "https://orders.example.test", "accessTokenValiditySeconds": 900,
            "introspectEndpointAuthMethod": "CLIENT_SECRET_POST"}
    resp = admin.post(resources_path(env), body)
    res = expect(resp, 201)
    check_resource(res)
    assert res["type"] == "CUSTOM"
    for field, value in body.items():
        assert res[field] == value, (field, res)
    assert_int(res["accessTokenValiditySeconds"])
    assert resp.headers["Location"] == (f"{mgmt_server.base_url}/v1/environments/{env}"
                                        f"/resources/{res['id']}")
    check_created(admin, res, resp.headers["Location"])


def test_create_defaults(admin, env):
    name = uniq("inventory")
    res = admin.create(resources_path(env), {"name": name})
    assert res["audience"] == name, res
    assert res["accessTokenValiditySeconds"] == 3600, res
    assert res["introspectEndpointAuthMethod"] == "CLIENT_SECRET_BASIC", res
    assert res["type"] == "CUSTOM", res


@pytest.mark.parametrize("seconds", [300, 2592000])
def test_lifetime_bounds_are_accepted(admin, env, seconds):
    res = create_resource(admin, env, accessTokenValiditySeconds=seconds)
    assert res["accessTokenValiditySeconds"] == seconds


@pytest.mark.parametrize("seconds", [299, 0, -1, 2592001, 2**31])
def test_lifetime_out_of_range(admin, env, seconds):
    expect_error(admin.post(resources_path(env), {"name": uniq("r"),
                                                  "accessTokenValiditySeconds": seconds}),
                 400, "INVALID_DATA", "OUT_OF_RANGE", "accessTokenValiditySeconds")


@pytest.mark.parametrize("audience", ["https://api.pingone.com/orders", "urn:pingone",
                                      "https://auth.pingidentity.com/x",
                                      "https://API.PingOne.COM/orders"])
def test_audience_with_pingone_is_refused(admin, env, audience):
    before = admin.ids(resources_path(env), "resources")
    expect_error(admin.post(resources_path(env), {"name": uniq("r"), "audience": audience}),
                 400, "INVALID_DATA", "INVALID_VALUE", "audience")
    assert admin.ids(resources_path(env), "resources") == before


@pytest.mark.parametrize("field,value", [
    ("name", 5),
    ("description", ["d"]),
    ("audience", {"value": "x"}),
    ("accessTokenValiditySeconds", "3600"),
    ("accessTokenValiditySeconds", 3600.5),
    ("accessTokenValiditySeconds", True),
    ("introspectEndpointAuthMethod", "PRIVATE_KEY_JWT"),
    ("introspectEndpointAuthMethod", "client_secret_basic"),
])
def test_invalid_values(admin, env, field, value):
    body = {"name": uniq("r"), field: value}
    expect_error(admin.post(resources_path(env), body), 400, "INVALID_DATA", "INVALID_VALUE",
                 field)


def test_name_is_required(admin, env):
    expect_error(admin.post(resources_path(env), {"audience": "https://x.example.test"}), 400,
                 "INVALID_DATA", "REQUIRED_VALUE", "name")
    expect_error(admin.post(resources_path(env), {"name": ""}), 400, "INVALID_DATA",
                 "REQUIRED_VALUE", "name")


def test_duplicate_name_is_uniqueness_violation(admin, env):
    res = create_resource(admin, env)
    before = admin.ids(resources_path(env), "resources")
    expect_error(admin.post(resources_path(env), {"name": res["name"]}), 400, "INVALID_DATA",
                 "UNIQUENESS_VIOLATION", "name")
    assert admin.ids(resources_path(env), "resources") == before
    other = create_resource(admin, env)
    expect_error(admin.put(res_path(env, other["id"]), {"name": res["name"]}), 400,
                 "INVALID_DATA", "UNIQUENESS_VIOLATION", "name")
    # Unique per environment only.
    create_resource(admin, create_env(admin)["id"], name=res["name"])


def test_list_shape_and_paging(admin):
    e = create_env(admin)["id"]
    made = [create_resource(admin, e)["id"] for _ in range(2)]
    ids = check_paging(admin, resources_path(e), "resources", made)
    assert len(ids) == 4, ids  # the two built-in ones too
    for res in admin.items(resources_path(e), "resources"):
        check_resource(res)  # a resources item always has `type`


def test_put_replaces_and_resets_absent_optional_fields(admin, env):
    res = create_resource(admin, env, description="old", audience="https://old.example.test",
                          accessTokenValiditySeconds=900, introspectEndpointAuthMethod="NONE")
    name = uniq("renamed")
    got = expect(admin.put(res_path(env, res["id"]), {"name": name}), 200)
    assert got["id"] == res["id"] and got["name"] == name
    assert got.get("description", "") == "", got
    assert got["audience"] == name, got
    assert got["accessTokenValiditySeconds"] == 3600, got
    assert got["introspectEndpointAuthMethod"] == "CLIENT_SECRET_BASIC", got
    assert got["createdAt"] == res["createdAt"]
    assert got["updatedAt"] >= res["updatedAt"]
    assert expect(admin.get(res_path(env, res["id"])), 200) == got


def test_put_validates_like_create(admin, env):
    res = create_resource(admin, env)
    expect_error(admin.put(res_path(env, res["id"]), {"name": res["name"],
                                                      "accessTokenValiditySeconds": 100}),
                 400, "INVALID_DATA", "OUT_OF_RANGE", "accessTokenValiditySeconds")
    expect_error(admin.put(res_path(env, res["id"]), {"name": res["name"],
                                                      "audience": "https://x.pingone.eu"}),
                 400, "INVALID_DATA", "INVALID_VALUE", "audience")
    expect_error(admin.put(res_path(env, res["id"]), {"audience": "https://x.example.test"}),
                 400, "INVALID_DATA", "REQUIRED_VALUE", "name")
    assert expect(admin.get(res_path(env, res["id"])), 200) == res


def test_delete_cascades_scopes_and_grants(admin, env):
    res = create_resource(admin, env)
    scope = create_scope(admin, env, res["id"], "items:read")
    app, _ = create_app(admin, env)
    grant = create_grant(admin, env, app["id"], res["id"], [scope["id"]])
    grant_path = f"/environments/{env}/applications/{app['id']}/grants/{grant['id']}"
    expect(admin.delete(res_path(env, res["id"])), 204)
    expect_not_found(admin.get(res_path(env, res["id"])))
    expect_not_found(admin.get(scopes_path(env, res["id"])))
    expect_not_found(admin.get(scopes_path(env, res["id"]) + "/" + scope["id"]))
    expect_not_found(admin.get(grant_path))
    assert admin.items(f"/environments/{env}/applications/{app['id']}/grants", "grants") == []
    expect_not_found(admin.delete(res_path(env, res["id"])))
    # The application itself stays.
    expect(admin.get(f"/environments/{env}/applications/{app['id']}"), 200)


def test_unknown_and_foreign_ids_are_404(admin, env):
    res = create_resource(admin, env)
    other_env = create_env(admin)["id"]
    foreign = create_resource(admin, other_env)
    foreign_scope = create_scope(admin, other_env, foreign["id"], "f:read")
    expect_not_found(admin.get(res_path(env, "5f0e5d39-2b4a-4a8b-8c0d-0e1f2a3b4c5d")))
    expect_not_found(admin.get(res_path(env, "orders")))
    expect_not_found(admin.get(res_path(env, foreign["id"])))
    expect_not_found(admin.put(res_path(env, foreign["id"]), {"name": "x"}))
    expect_not_found(admin.delete(res_path(env, foreign["id"])))
    expect_not_found(admin.get(scopes_path(env, foreign["id"])))
    expect_not_found(admin.post(scopes_path(env, foreign["id"]), {"name": "x"}))
    # A scope of another resource is not found under this one.
    expect_not_found(admin.get(scopes_path(env, res["id"]) + "/" + foreign_scope["id"]))
    expect_not_found(admin.get(scopes_path(env, res["id"]) + "/not-a-uuid"))
    assert expect(admin.get(res_path(other_env, foreign["id"])), 200) == foreign


def test_builtin_resources_cannot_be_changed_or_deleted(admin, env):
    builtin = [r for r in admin.items(resources_path(env), "resources") if r["type"] != "CUSTOM"]
    assert {r["type"] for r in builtin} == {"OPENID_CONNECT", "PINGONE_API"}, builtin
    for res in builtin:
        expect_error(admin.put(res_path(env, res["id"]), {"name": uniq("mine")}), 400,
                     "INVALID_DATA", "INVALID_VALUE", "type")
        expect_error(admin.delete(res_path(env, res["id"])), 400, "INVALID_DATA",
                     "INVALID_VALUE", "type")
        assert expect(admin.get(res_path(env, res["id"])), 200) == res
        # Their scopes cannot be added to, changed or deleted either.
        scopes = admin.items(scopes_path(env, res["id"]), "scopes")
        expect_error(admin.post(scopes_path(env, res["id"]), {"name": "extra"}), 400,
                     "INVALID_DATA", "INVALID_VALUE", "resource")
        for scope in scopes[:1]:
            path = scopes_path(env, res["id"]) + "/" + scope["id"]
            expect_error(admin.put(path, {"name": "renamed"}), 400, "INVALID_DATA",
                         "INVALID_VALUE", "resource")
            expect_error(admin.delete(path), 400, "INVALID_DATA", "INVALID_VALUE", "resource")
        assert admin.items(scopes_path(env, res["id"]), "scopes") == scopes
        # They have no secret.
        expect_not_found(admin.get(res_path(env, res["id"]) + "/secret"))


def test_builtin_resources_cannot_be_created(admin, env):
    for res_type in ("OPENID_CONNECT", "PINGONE_API"):
        expect_error(admin.post(resources_path(env), {"name": uniq("r"), "type": res_type}), 400,
                     "INVALID_DATA", "INVALID_VALUE", "type")
    assert admin.create(resources_path(env), {"name": uniq("r"), "type": "CUSTOM"})["type"] == \
        "CUSTOM"


def test_audience_of_the_management_api_is_refused(admin, env, mgmt_server):
    """A custom resource must not mint tokens whose audience opens /v1."""
    expect_error(admin.post(resources_path(env), {"name": uniq("r"),
                                                  "audience": mgmt_server.base_url}),
                 400, "INVALID_DATA", "INVALID_VALUE", "audience")
    expect_error(admin.post(resources_path(env), {"name": mgmt_server.base_url}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "audience")


def test_unknown_fields_are_ignored(admin, env):
    res = admin.create(resources_path(env), {"name": uniq("r"), "applicationPermissions": [1],
                                             "secret": "mine"})
    assert "applicationPermissions" not in res
    assert "secret" not in res


# -- scopes ----------------------------------------------------------------------------------


def check_scope(scope, res_id):
    assert_uuid(scope["id"])
    assert isinstance(scope["name"], str)
    assert scope["resource"] == {"id": res_id}, scope


def test_scope_create_get_list(admin, env, mgmt_server):
    res = create_resource(admin, env)
    resp = admin.post(scopes_path(env, res["id"]), {"name": "orders:read",
                                                    "description": "read orders"})
    scope = expect(resp, 201)
    check_scope(scope, res["id"])
    assert scope["name"] == "orders:read" and scope["description"] == "read orders"
    assert resp.headers["Location"] == (f"{mgmt_server.base_url}/v1/environments/{env}/resources/"
                                        f"{res['id']}/scopes/{scope['id']}")
    check_created(admin, scope, resp.headers["Location"])
    more = [create_scope(admin, env, res["id"], n)["id"] for n in ("orders:write", "a/b!#~")]
    ids = check_paging(admin, scopes_path(env, res["id"]), "scopes", [scope["id"]] + more)
    assert sorted(ids) == sorted([scope["id"]] + more)


@pytest.mark.parametrize("name", ["openid", "p1:read", "p1:", "has space", "quo\"te",
                                  "back\\slash", "na\u00efve", "tab\tbed"])
def test_scope_name_refused(admin, env, name):
    res = create_resource(admin, env)
    expect_error(admin.post(scopes_path(env, res["id"]), {"name": name}), 400, "INVALID_DATA",
                 "INVALID_VALUE", "name")
    assert admin.items(scopes_path(env, res["id"]), "scopes") == []


def test_scope_name_required_and_typed(admin, env):
    res = create_resource(admin, env)
    expect_error(admin.post(scopes_path(env, res["id"]), {"description": "d"}), 400,
                 "INVALID_DATA", "REQUIRED_VALUE", "name")
    expect_error(admin.post(scopes_path(env, res["id"]), {"name": ["a"]}), 400, "INVALID_DATA",
                 "INVALID_VALUE", "name")


def test_scope_duplicate_name(admin, env):
    res = create_resource(admin, env)
    first = create_scope(admin, env, res["id"], "dup")
    expect_error(admin.post(scopes_path(env, res["id"]), {"name": "dup"}), 400, "INVALID_DATA",
                 "UNIQUENESS_VIOLATION", "name")
    other = create_scope(admin, env, res["id"], "other")
    expect_error(admin.put(scopes_path(env, res["id"]) + "/" + other["id"], {"name": "dup"}), 400,
                 "INVALID_DATA", "UNIQUENESS_VIOLATION", "name")
    # Unique per resource only.
    create_scope(admin, env, create_resource(admin, env)["id"], "dup")
    assert admin.ids(scopes_path(env, res["id"]), "scopes") == [first["id"], other["id"]]


def test_scope_put_replaces_and_delete(admin, env):
    res = create_resource(admin, env)
    scope = create_scope(admin, env, res["id"], "s:read", description="old")
    path = scopes_path(env, res["id"]) + "/" + scope["id"]
    got = expect(admin.put(path, {"name": "s:view"}), 200)
    assert got["id"] == scope["id"] and got["name"] == "s:view"
    assert got.get("description", "") == "", got
    assert got["resource"] == {"id": res["id"]}
    assert expect(admin.get(path), 200) == got
    expect_error(admin.put(path, {"name": "openid"}), 400, "INVALID_DATA", "INVALID_VALUE", "name")
    expect(admin.delete(path), 204)
    expect_not_found(admin.get(path))
    expect_not_found(admin.delete(path))


# -- resource secret -------------------------------------------------------------------------


def test_resource_secret_get_and_rotate(admin, env):
    res = create_resource(admin, env)
    path = res_path(env, res["id"]) + "/secret"
    first = expect(admin.get(path), 200)
    assert isinstance(first["secret"], str) and first["secret"], first
    assert first["secret"] not in list(walk_strings(expect(admin.get(res_path(env, res["id"])),
                                                           200)))
    assert first["secret"] not in admin.get(resources_path(env)).text
    rotated = expect(admin.call("POST", path), 200)
    assert isinstance(rotated["secret"], str) and rotated["secret"] != first["secret"], rotated
    assert expect(admin.get(path), 200)["secret"] == rotated["secret"]
    expect_not_found(admin.get(res_path(env, "5f0e5d39-2b4a-4a8b-8c0d-0e1f2a3b4c5d") + "/secret"))
