"""/v1/environments/{envID}/applications[/{appID}[/secret]] (SPEC §6): the application object,
its validation, PUT semantics, DELETE, and the secret endpoint's shape and rotation rules."""

import datetime
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import mgmt_support
from mgmt_support import (SECRET_RE, app_body, app_path, apps_path, assert_timestamp, assert_uuid,
                          check_created, check_paging, create_app, create_env, expect,
                          expect_error, expect_not_found, uniq, walk_strings)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin

JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                  "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}

WRITABLE_DEFAULTS = {"description": "", "requestScopesForMultipleResourcesEnabled": False,
                     "includeX5t": False, "responseTypes": [], "redirectUris": []}


def in_rfc3339(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture(scope="module")
def env(admin):
    return create_env(admin)["id"]


def strip_links(body):
    return {k: v for k, v in body.items() if k != "_links"}


def secret_body(api, env_id, app_id):
    return strip_links(expect(api.get(app_path(env_id, app_id) + "/secret"), 200))


def check_application(app, env_id):
    assert_uuid(app["id"])
    assert app["protocol"] == "OPENID_CONNECT", app
    assert isinstance(app["enabled"], bool)
    assert isinstance(app["grantTypes"], list)
    assert isinstance(app["requestScopesForMultipleResourcesEnabled"], bool)
    assert isinstance(app["includeX5t"], bool)
    assert app["environment"] == {"id": env_id}, app
    assert_timestamp(app["createdAt"])
    assert_timestamp(app["updatedAt"])
    for field in ("secret", "clientSecret", "client_secret"):
        assert field not in app, app


def test_create_service_app(admin, env, mgmt_server):
    name = uniq("svc")
    resp = admin.post(apps_path(env), app_body(name, description="billing batch"))
    app = expect(resp, 201)
    check_application(app, env)
    assert app["name"] == name
    assert app["description"] == "billing batch"
    assert app["enabled"] is True
    assert app["type"] == "SERVICE"
    assert app["grantTypes"] == ["CLIENT_CREDENTIALS"]
    assert app["tokenEndpointAuthMethod"] == "CLIENT_SECRET_BASIC"
    assert app["requestScopesForMultipleResourcesEnabled"] is False
    assert app["includeX5t"] is False
    assert resp.headers["Location"] == (f"{mgmt_server.base_url}/v1/environments/{env}"
                                        f"/applications/{app['id']}")
    check_created(admin, app, resp.headers["Location"])


@pytest.mark.parametrize("app_type", ["WORKER", "SERVICE", "WEB_APP"])
def test_confidential_types_default_to_client_secret_basic(admin, env, app_type):
    app = admin.create(apps_path(env), app_body(type=app_type))
    assert app["type"] == app_type
    assert app["tokenEndpointAuthMethod"] == "CLIENT_SECRET_BASIC", app


def test_all_fields_round_trip(admin, env):
    body = app_body(uniq("full"), type="WEB_APP",
                    grant_types=["AUTHORIZATION_CODE", "CLIENT_CREDENTIALS", "REFRESH_TOKEN"],
                    description="d", tokenEndpointAuthMethod="CLIENT_SECRET_POST",
                    responseTypes=["CODE"], redirectUris=["https://app.example.test/cb"],
                    requestScopesForMultipleResourcesEnabled=True, includeX5t=True,
                    includeTyp=True)
    app = admin.create(apps_path(env), body)
    for field in ("name", "description", "type", "grantTypes", "tokenEndpointAuthMethod",
                  "responseTypes", "redirectUris", "requestScopesForMultipleResourcesEnabled",
                  "includeX5t"):
        assert app[field] == body[field], (field, app)
    assert expect(admin.get(app_path(env, app["id"])), 200) == app


def test_one_element_arrays_stay_arrays(admin, env):
    app = admin.create(apps_path(env), app_body(redirectUris=["https://one.example.test/cb"],
                                                responseTypes=["CODE"]))
    assert app["grantTypes"] == ["CLIENT_CREDENTIALS"]
    assert app["redirectUris"] == ["https://one.example.test/cb"]
    assert app["responseTypes"] == ["CODE"]


def test_pingone_defaults_for_unused_fields_are_accepted(admin, env):
    body = app_body(refreshTokenDuration=2592000, refreshTokenRollingDuration=15552000,
                    parRequirement="OPTIONAL", parTimeout=60, pkceEnforcement="OPTIONAL",
                    homePageUrl="https://example.test", assignActorRoles=False,
                    tags=[], signOnPolicyAssignments=None)
    app = admin.create(apps_path(env), body)
    check_application(app, env)
    assert "refreshTokenFlavour" not in app


def test_jwks_is_returned_as_a_string(admin, env):
    for jwks in (JWKS, json.dumps(JWKS)):
        app = admin.create(apps_path(env), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                    jwks=jwks))
        assert app["tokenEndpointAuthMethod"] == "PRIVATE_KEY_JWT"
        assert isinstance(app["jwks"], str), app
        assert json.loads(app["jwks"]) == JWKS
        assert "jwksUrl" not in app or not app["jwksUrl"], app
    app = admin.create(apps_path(env), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                jwksUrl="https://keys.example.test/jwks.json"))
    assert app["jwksUrl"] == "https://keys.example.test/jwks.json"
    assert "jwks" not in app or not app["jwks"], app


def test_list_shape_and_paging(admin, mgmt_server):
    e = create_env(admin)["id"]
    made = [create_app(admin, e)[0]["id"] for _ in range(3)]
    ids = check_paging(admin, apps_path(e), "applications", made)
    assert sorted(ids) == sorted(made)
    for app in admin.items(apps_path(e), "applications"):
        check_application(app, e)


def test_put_replaces_and_resets_absent_optional_fields(admin, env):
    app, secret = create_app(admin, env, description="old",
                             tokenEndpointAuthMethod="CLIENT_SECRET_POST",
                             requestScopesForMultipleResourcesEnabled=True, includeX5t=True,
                             redirectUris=["https://x.example.test/cb"], responseTypes=["CODE"])
    new_name = uniq("renamed")
    got = expect(admin.put(app_path(env, app["id"]), app_body(new_name, enabled=False)), 200)
    assert got["id"] == app["id"]
    assert got["name"] == new_name
    assert got["enabled"] is False
    assert got["tokenEndpointAuthMethod"] == "CLIENT_SECRET_BASIC", got
    for field, default in WRITABLE_DEFAULTS.items():
        assert got.get(field, default) == default, (field, got)
    assert got["createdAt"] == app["createdAt"]
    assert got["updatedAt"] >= app["updatedAt"]
    assert expect(admin.get(app_path(env, app["id"])), 200) == got
    # PUT does not touch the secret.
    assert expect(admin.get(app_path(env, app["id"]) + "/secret"), 200)["secret"] == secret


def test_put_ignores_read_only_fields(admin, env):
    app, _ = create_app(admin, env)
    body = dict(app)
    body.update({"id": "00000000-0000-4000-8000-000000000000", "createdAt": "2001-01-01T00:00:00Z",
                 "environment": {"id": "00000000-0000-4000-8000-000000000001"},
                 "description": "changed"})
    got = expect(admin.put(app_path(env, app["id"]), body), 200)
    assert got["id"] == app["id"] and got["createdAt"] == app["createdAt"]
    assert got["environment"] == {"id": env}
    assert got["description"] == "changed"


def test_put_needs_the_required_fields(admin, env):
    app, _ = create_app(admin, env)
    body = app_body(app["name"])
    del body["enabled"]
    expect_error(admin.put(app_path(env, app["id"]), body), 400, "INVALID_DATA",
                 "REQUIRED_VALUE", "enabled")
    assert expect(admin.get(app_path(env, app["id"])), 200) == app


def test_delete_answers_204_then_404(admin, env):
    app, _ = create_app(admin, env)
    expect(admin.delete(app_path(env, app["id"])), 204)
    expect_not_found(admin.get(app_path(env, app["id"])))
    expect_not_found(admin.get(app_path(env, app["id"]) + "/secret"))
    expect_not_found(admin.delete(app_path(env, app["id"])))
    expect_not_found(admin.put(app_path(env, app["id"]), app_body()))
    assert app["id"] not in admin.ids(apps_path(env), "applications")


REQUIRED = ["name", "enabled", "protocol", "type", "grantTypes"]


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field(admin, env, field):
    body = app_body()
    del body[field]
    expect_error(admin.post(apps_path(env), body), 400, "INVALID_DATA", "REQUIRED_VALUE", field)


def test_empty_body_names_every_required_field(admin, env):
    body = expect_error(admin.post(apps_path(env), {}), 400, "INVALID_DATA")
    required = {d["target"] for d in body["details"] if d["code"] == "REQUIRED_VALUE"}
    assert required == set(REQUIRED), body


@pytest.mark.parametrize("field,value", [
    ("enabled", "true"),
    ("enabled", 1),
    ("name", 7),
    ("description", False),
    ("grantTypes", "CLIENT_CREDENTIALS"),
    ("grantTypes", [1]),
    ("requestScopesForMultipleResourcesEnabled", "false"),
    ("includeX5t", 0),
    ("redirectUris", "https://x.example.test/cb"),
    ("type", ["SERVICE"]),
])
def test_wrong_type_is_invalid_value(admin, env, field, value):
    body = app_body(**{field: value})
    expect_error(admin.post(apps_path(env), body), 400, "INVALID_DATA", "INVALID_VALUE", field)


@pytest.mark.parametrize("field,value", [
    ("type", "DAEMON"),
    ("type", "service"),
    ("protocol", "SAML"),
    ("grantTypes", ["PASSWORD"]),
    ("tokenEndpointAuthMethod", "CLIENT_SECRET"),
    ("tokenEndpointAuthMethod", "client_secret_basic"),
])
def test_unknown_enum_value_is_invalid_value(admin, env, field, value):
    expect_error(admin.post(apps_path(env), app_body(**{field: value})), 400, "INVALID_DATA",
                 "INVALID_VALUE", field)


def test_none_with_client_credentials_is_refused(admin, env):
    before = admin.ids(apps_path(env), "applications")
    expect_error(admin.post(apps_path(env), app_body(tokenEndpointAuthMethod="NONE")), 400,
                 "INVALID_DATA", "INVALID_VALUE", "tokenEndpointAuthMethod")
    # A public type defaults to NONE (PingOne), so it cannot ask for client_credentials either.
    expect_error(admin.post(apps_path(env), app_body(type="SINGLE_PAGE_APP")), 400,
                 "INVALID_DATA", "INVALID_VALUE", "tokenEndpointAuthMethod")
    assert admin.ids(apps_path(env), "applications") == before
    # NONE without client_credentials is fine...
    spa = admin.create(apps_path(env), app_body(type="SINGLE_PAGE_APP",
                                                grant_types=["AUTHORIZATION_CODE"],
                                                tokenEndpointAuthMethod="NONE"))
    # ...but a PUT that adds client_credentials is refused too.
    body = app_body(spa["name"], type="SINGLE_PAGE_APP", tokenEndpointAuthMethod="NONE",
                    grant_types=["AUTHORIZATION_CODE", "CLIENT_CREDENTIALS"])
    expect_error(admin.put(app_path(env, spa["id"]), body), 400, "INVALID_DATA", "INVALID_VALUE",
                 "tokenEndpointAuthMethod")
    assert expect(admin.get(app_path(env, spa["id"])), 200) == spa


@pytest.mark.parametrize("extra", [
    {},
    {"jwks": JWKS, "jwksUrl": "https://keys.example.test/jwks.json"},
])
def test_private_key_jwt_needs_exactly_one_of_jwks_and_jwks_url(admin, env, extra):
    expect_error(admin.post(apps_path(env), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                     **extra)),
                 400, "INVALID_DATA", "INVALID_VALUE", "jwks")


def test_malformed_jwks_and_jwks_url(admin, env):
    for bad in ("not json", {"keys": []}, {"kty": "RSA"}, 42):
        expect_error(admin.post(apps_path(env), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                         jwks=bad)),
                     400, "INVALID_DATA", "INVALID_VALUE", "jwks")
    expect_error(admin.post(apps_path(env), app_body(tokenEndpointAuthMethod="PRIVATE_KEY_JWT",
                                                     jwksUrl="ftp://keys.example.test/jwks")),
                 400, "INVALID_DATA", "INVALID_VALUE", "jwksUrl")


def test_duplicate_name_is_uniqueness_violation(admin, env):
    app, _ = create_app(admin, env)
    before = admin.ids(apps_path(env), "applications")
    expect_error(admin.post(apps_path(env), app_body(app["name"])), 400, "INVALID_DATA",
                 "UNIQUENESS_VIOLATION", "name")
    assert admin.ids(apps_path(env), "applications") == before
    other, _ = create_app(admin, env)
    expect_error(admin.put(app_path(env, other["id"]), app_body(app["name"])), 400,
                 "INVALID_DATA", "UNIQUENESS_VIOLATION", "name")
    # Names are unique per environment only.
    elsewhere = create_env(admin)["id"]
    admin.create(apps_path(elsewhere), app_body(app["name"]))


def test_unknown_and_foreign_ids_are_404(admin, env):
    app, _ = create_app(admin, env)
    other_env = create_env(admin)["id"]
    foreign, _ = create_app(admin, other_env)
    expect_not_found(admin.get(app_path(env, "7d7c9a52-5a9b-4a8e-9f4c-2f6f0d1a1b2c")))
    expect_not_found(admin.get(app_path(env, foreign["id"])))
    expect_not_found(admin.put(app_path(env, foreign["id"]), app_body(foreign["name"])))
    expect_not_found(admin.delete(app_path(env, foreign["id"])))
    expect_not_found(admin.get(app_path(env, foreign["id"]) + "/secret"))
    expect_not_found(admin.post(app_path(env, foreign["id"]) + "/secret"))
    expect_not_found(admin.get(app_path(env, "not-a-uuid")))
    expect_not_found(admin.get(app_path(env, app["id"]) + "/nothing"))
    # The foreign app is untouched.
    assert expect(admin.get(app_path(other_env, foreign["id"])), 200) == foreign


def test_unknown_fields_are_ignored(admin, env):
    app = admin.create(apps_path(env), app_body(favouriteColour="teal", secret="chosen-by-me"))
    assert "favouriteColour" not in app
    secret = expect(admin.get(app_path(env, app["id"]) + "/secret"), 200)["secret"]
    assert secret != "chosen-by-me"


# -- /secret ---------------------------------------------------------------------------------


def test_secret_shape_and_never_in_the_app_object(admin, env):
    app, secret = create_app(admin, env)
    body = expect(admin.get(app_path(env, app["id"]) + "/secret"), 200)
    assert set(body) - {"_links"} == {"secret"}, body
    assert SECRET_RE.match(secret), secret
    for text in (admin.get(app_path(env, app["id"])).text, admin.get(apps_path(env)).text):
        assert secret not in text
    other, other_secret = create_app(admin, env)
    assert other_secret != secret


def test_rotation_without_body_has_no_previous(admin, env):
    app, secret = create_app(admin, env)
    resp = admin.call("POST", app_path(env, app["id"]) + "/secret")
    body = expect(resp, 200)
    assert SECRET_RE.match(body["secret"]) and body["secret"] != secret, body
    assert "previous" not in body, body
    assert secret_body(admin, env, app["id"]) == strip_links(body)


def test_rotation_with_previous_expiry(admin, env):
    app, secret = create_app(admin, env)
    resp = admin.post(app_path(env, app["id"]) + "/secret",
                      {"previous": {"expiresAt": in_rfc3339(3600)}})
    body = expect(resp, 200)
    assert body["secret"] != secret
    assert body["previous"]["secret"] == secret, body
    assert_timestamp(body["previous"]["expiresAt"])
    assert secret_body(admin, env, app["id"]) == strip_links(body)
    # A second rotation keeps only the secret it replaces.
    second = expect(admin.post(app_path(env, app["id"]) + "/secret",
                               {"previous": {"expiresAt": in_rfc3339(600)}}), 200)
    assert second["previous"]["secret"] == body["secret"], second
    assert secret not in json.dumps(second)
    # DELETE drops the previous secret.
    expect(admin.delete(app_path(env, app["id"]) + "/secret"), 204)
    assert secret_body(admin, env, app["id"]) == {"secret": second["secret"]}


@pytest.mark.parametrize("previous,detail", [
    ({"expiresAt": "tomorrow"}, "INVALID_VALUE"),
    ({"expiresAt": 1893456000}, "INVALID_VALUE"),
])
def test_rotation_with_bad_previous_value(admin, env, previous, detail):
    app, secret = create_app(admin, env)
    expect_error(admin.post(app_path(env, app["id"]) + "/secret", {"previous": previous}), 400,
                 "INVALID_DATA", detail, "previous.expiresAt")
    assert secret_body(admin, env, app["id"]) == {"secret": secret}


@pytest.mark.parametrize("seconds", [10, -60, 31 * 86400])
def test_rotation_previous_expiry_out_of_range(admin, env, seconds):
    app, secret = create_app(admin, env)
    expect_error(admin.post(app_path(env, app["id"]) + "/secret",
                            {"previous": {"expiresAt": in_rfc3339(seconds)}}),
                 400, "INVALID_DATA", "OUT_OF_RANGE", "previous.expiresAt")
    assert secret_body(admin, env, app["id"]) == {"secret": secret}


def test_rotation_previous_expiry_bounds_are_accepted(admin, env):
    app, _ = create_app(admin, env)
    for seconds in (90, 29 * 86400):
        body = expect(admin.post(app_path(env, app["id"]) + "/secret",
                                 {"previous": {"expiresAt": in_rfc3339(seconds)}}), 200)
        assert "previous" in body, body


def test_rotation_body_needs_json_media_type(admin, env):
    app, secret = create_app(admin, env)
    path = app_path(env, app["id"]) + "/secret"
    body = json.dumps({"previous": {"expiresAt": in_rfc3339(3600)}}).encode()
    expect_error(admin.call("POST", path, data=body, headers={"Content-Type": "text/plain"}), 415,
                 "INVALID_REQUEST")
    expect_error(admin.call("POST", path, data=b"{", headers={"Content-Type": "application/json"}),
                 400, "INVALID_REQUEST")
    assert secret_body(admin, env, app["id"]) == {"secret": secret}
    # An empty JSON object rotates like no body at all.
    rotated = expect(admin.post(path, {}), 200)
    assert rotated["secret"] != secret and "previous" not in rotated, rotated


def test_secret_put_is_method_not_allowed(admin, env):
    app, _ = create_app(admin, env)
    resp = admin.put(app_path(env, app["id"]) + "/secret", {"secret": "x" * 64})
    expect_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in resp.headers["Allow"]


def test_no_secret_anywhere_in_list_or_object_strings(admin, env):
    app, secret = create_app(admin, env)
    rotated = expect(admin.post(app_path(env, app["id"]) + "/secret",
                                {"previous": {"expiresAt": in_rfc3339(3600)}}), 200)
    everything = list(walk_strings(expect(admin.get(apps_path(env)), 200)))
    for s in (secret, rotated["secret"]):
        assert s not in everything


def test_concurrent_creates_with_one_name_make_one_app(admin, env):
    name = uniq("race")
    with ThreadPoolExecutor(max_workers=8) as pool:
        resps = list(pool.map(lambda _: admin.post(apps_path(env), app_body(name)), range(8)))
    created = [r for r in resps if r.status_code == 201]
    assert len(created) == 1, [(r.status_code, r.text) for r in resps]
    for r in resps:
        if r.status_code != 201:
            expect_error(r, 400, "INVALID_DATA", "UNIQUENESS_VIOLATION", "name")
    named = [a for a in admin.items(apps_path(env), "applications") if a["name"] == name]
    assert [a["id"] for a in named] == [created[0].json()["id"]]
