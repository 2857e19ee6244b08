"""/v1/environments and /v1/roles (SPEC §6): create, read, list and paging, PUT, DELETE,
validation, and what a new environment starts with (SPEC §3: a default RSA 2048 key; SPEC §2.4:
the built-in OPENID_CONNECT and PINGONE_API resources)."""

import requests

import mgmt_support
from mgmt_support import (assert_int, assert_list_shape, assert_ref, assert_timestamp, assert_uuid,
                          check_created, check_paging, create_app, create_env, env_path, expect,
                          expect_error, expect_not_found, token_claims, token_request, uniq)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin


def check_environment(env, name=None):
    assert_uuid(env["id"])
    if name is not None:
        assert env["name"] == name
    assert env["type"] in ("PRODUCTION", "SANDBOX"), env
    assert env["region"] in ("NA", "EU", "AP", "CA", "AU", "SG"), env
    assert_ref(env["organization"])
    assert_timestamp(env["createdAt"])
    assert_timestamp(env["updatedAt"])


def test_create_answers_201_with_location_and_full_object(admin, mgmt_server):
    name = uniq("created")
    resp = admin.post("/environments", {"name": name, "description": "staging copy",
                                        "type": "PRODUCTION", "region": "EU"})
    env = expect(resp, 201)
    check_environment(env, name)
    assert env["description"] == "staging copy"
    assert env["type"] == "PRODUCTION"
    assert env["region"] == "EU"
    assert env["organization"] == {"id": mgmt_server.admin["organizationId"]}
    assert resp.headers["Location"] == f"{mgmt_server.base_url}/v1/environments/{env['id']}"
    check_created(admin, env, resp.headers["Location"])


def test_create_defaults_region_na(admin):
    env = create_env(admin)
    assert env["region"] == "NA", env
    assert env.get("description", "") == "", env


def test_get_unknown_and_malformed_environment_ids_are_404(admin):
    expect_not_found(admin.get("/environments/3b0b2d4c-1111-4222-8333-944445555666"))
    expect_not_found(admin.get("/environments/not-a-uuid"))
    expect_not_found(admin.get("/environments/3b0b2d4c11114222833394444555566"))


def test_list_contains_every_environment_and_pages(admin, mgmt_server):
    made = [create_env(admin)["id"] for _ in range(3)]
    ids = check_paging(admin, "/environments", "environments",
                       made + [mgmt_server.admin["environmentId"]])
    body = expect(admin.get("/environments"), 200)
    for env in body["_embedded"]["environments"]:
        check_environment(env)
    assert len(ids) >= 4


def test_list_limit_out_of_range_is_400(admin):
    for bad in ("0", "1001"):
        expect_error(admin.get("/environments?limit=" + bad), 400, "INVALID_DATA",
                     "OUT_OF_RANGE", "limit")
    for bad in ("x", "-1", ""):
        body = expect_error(admin.get("/environments?limit=" + bad), 400, "INVALID_DATA")
        assert [d.get("target") for d in body["details"]] == ["limit"], body


def test_put_replaces_and_resets_absent_optional_fields(admin):
    env = create_env(admin, description="to be reset", region="AU", type="PRODUCTION")
    new_name = uniq("renamed")
    got = expect(admin.put(env_path(env["id"]), {"name": new_name}), 200)
    assert got["id"] == env["id"]
    assert got["name"] == new_name
    assert got.get("description", "") == "", got
    assert got["region"] == "NA", got
    assert got["createdAt"] == env["createdAt"]
    assert got["updatedAt"] >= env["updatedAt"]
    assert_timestamp(got["updatedAt"])
    assert expect(admin.get(env_path(env["id"])), 200) == got


def test_put_ignores_read_only_fields(admin, mgmt_server):
    env = create_env(admin)
    body = dict(env)
    body.update({"id": "00000000-0000-4000-8000-000000000000", "createdAt": "2001-01-01T00:00:00Z",
                 "organization": {"id": "00000000-0000-4000-8000-000000000001"},
                 "_links": {"self": {"href": "http://elsewhere.test/"}},
                 "description": "new text"})
    got = expect(admin.put(env_path(env["id"]), body), 200)
    assert got["id"] == env["id"]
    assert got["createdAt"] == env["createdAt"]
    assert got["organization"] == {"id": mgmt_server.admin["organizationId"]}
    assert got["description"] == "new text"
    expect_not_found(admin.get("/environments/00000000-0000-4000-8000-000000000000"))


def test_delete_answers_204_then_404(admin, mgmt_server):
    env = create_env(admin)
    resp = admin.delete(env_path(env["id"]))
    expect(resp, 204)
    expect_not_found(admin.get(env_path(env["id"])))
    expect_not_found(admin.delete(env_path(env["id"])))
    assert env["id"] not in admin.ids("/environments", "environments")
    # Its auth surface is gone too (SPEC §6: deleting an environment deletes everything in it).
    resp = requests.get(f"{mgmt_server.base_url}/{env['id']}/as/jwks", timeout=30)
    assert resp.status_code == 404, resp.text


def test_validation_errors_name_their_target(admin):
    before = admin.ids("/environments", "environments")
    expect_error(admin.post("/environments", {"type": "SANDBOX"}), 400, "INVALID_DATA",
                 "REQUIRED_VALUE", "name")
    expect_error(admin.post("/environments", {"name": ""}), 400, "INVALID_DATA",
                 "REQUIRED_VALUE", "name")
    expect_error(admin.post("/environments", {"name": 42}), 400, "INVALID_DATA",
                 "INVALID_VALUE", "name")
    expect_error(admin.post("/environments", {"name": uniq("e"), "type": "STAGING"}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "type")
    expect_error(admin.post("/environments", {"name": uniq("e"), "region": "MARS"}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "region")
    expect_error(admin.post("/environments", {"name": uniq("e"), "region": "eu"}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "region")
    expect_error(admin.post("/environments", {"name": uniq("e"), "description": ["x"]}), 400,
                 "INVALID_DATA", "INVALID_VALUE", "description")
    assert admin.ids("/environments", "environments") == before


def test_duplicate_name_is_uniqueness_violation(admin):
    env = create_env(admin)
    before = admin.ids("/environments", "environments")
    expect_error(admin.post("/environments", {"name": env["name"]}), 400, "INVALID_DATA",
                 "UNIQUENESS_VIOLATION", "name")
    assert admin.ids("/environments", "environments") == before
    other = create_env(admin)
    expect_error(admin.put(env_path(other["id"]), {"name": env["name"]}), 400, "INVALID_DATA",
                 "UNIQUENESS_VIOLATION", "name")
    assert expect(admin.get(env_path(other["id"])), 200)["name"] == other["name"]


def test_unknown_fields_are_ignored(admin):
    name = uniq("extra")
    env = expect(admin.post("/environments", {"name": name, "billOfMaterials": {"x": 1},
                                              "license": {"id": "whatever"}}), 201)
    assert "billOfMaterials" not in env
    assert env["name"] == name


def test_new_environment_is_usable_at_once(admin, mgmt_server):
    """A new environment has a signing key and its own auth surface from the next request."""
    env = create_env(admin)
    disc = requests.get(f"{mgmt_server.base_url}/{env['id']}/as/.well-known/openid-configuration",
                        timeout=30)
    assert disc.status_code == 200, disc.text
    assert disc.json()["issuer"] == f"{mgmt_server.base_url}/{env['id']}/as"
    keys = requests.get(f"{mgmt_server.base_url}/{env['id']}/as/jwks", timeout=30).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256", keys
    worker, secret = create_app(admin, env["id"], type="WORKER")
    # A worker without roles is refused (SPEC 2.4), but it authenticates in the new environment.
    resp = token_request(mgmt_server, env["id"], worker["id"], secret)
    assert resp.status_code == 400 and resp.json()["error"] == "unauthorized_client", resp.text


def test_new_environment_has_the_builtin_resources(admin, mgmt_server):
    env = create_env(admin)
    items = admin.items(f"/environments/{env['id']}/resources", "resources")
    by_type = {r["type"]: r for r in items}
    assert set(by_type) == {"OPENID_CONNECT", "PINGONE_API"}, items
    assert by_type["PINGONE_API"]["audience"] == mgmt_server.base_url, by_type
    oidc = by_type["OPENID_CONNECT"]
    names = {s["name"] for s in admin.items(
        f"/environments/{env['id']}/resources/{oidc['id']}/scopes", "scopes")}
    assert names == {"openid", "profile", "email", "address", "phone"}, names


def test_new_environment_has_one_default_rsa_key(admin):
    env = create_env(admin)
    keys = admin.items(f"/environments/{env['id']}/keys", "keys")
    assert len(keys) == 1, keys
    key = keys[0]
    assert key["algorithm"] == "RSA" and key["keyLength"] == 2048 and key["default"] is True, key
    assert key["subjectDN"] == "CN=" + env["name"], key


def test_roles_list_the_four_builtin_roles(admin):
    body = expect(admin.get("/roles"), 200)
    assert_list_shape(body, "roles")
    roles = body["_embedded"]["roles"]
    assert sorted(r["name"] for r in roles) == sorted(
        ["Organization Admin", "Environment Admin", "Client Application Developer",
         "Configuration Read Only"]), roles
    assert body["count"] == 4 and body["size"] == 4
    for role in roles:
        assert_uuid(role["id"])
        assert isinstance(role["permissions"], list), role
        got = expect(admin.get("/roles/" + role["id"]), 200)
        assert got["id"] == role["id"] and got["name"] == role["name"], got
    check_paging(admin, "/roles", "roles")
    expect_not_found(admin.get("/roles/8c4b7a4e-2f0a-4f5e-9a51-0c0a6f1d9999"))
    expect_not_found(admin.get("/roles/admin"))


def test_role_ids_are_fixed_across_deployments(admin, mgmt_server):
    """SPEC §6: the four roles have fixed IDs, so automation can hard-code them."""
    from tollgate_server import TollgateServer
    from mgmt_support import Api, role_ids
    other = TollgateServer()
    try:
        other.start()
        assert role_ids(Api(other)) == role_ids(admin)
    finally:
        other.close()


def test_admin_token_is_a_management_token(mgmt_server):
    resp = token_request(mgmt_server, mgmt_server.env_id, mgmt_server.admin["clientId"],
                         mgmt_server.admin["clientSecret"])
    header, claims = token_claims(resp)
    assert claims["aud"] == [mgmt_server.base_url], claims
    assert "scope" not in claims, claims
    assert resp.json()["expires_in"] == 3600
    assert_int(resp.json()["expires_in"])


def test_method_not_allowed_carries_allow(admin):
    resp = admin.call("PATCH", "/environments", {"name": "x"})
    body = expect_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert body
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET", "POST"}, resp.headers
