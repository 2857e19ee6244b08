"""Who may call /v1 (SPEC §6, docs/management-api.md "Roles and what they reach"): bearer-token
authentication (401 ACCESS_FAILED) and the four roles (403 ACCESS_FAILED with detail
INSUFFICIENT_PERMISSIONS). Workers and their role assignments are created through the API."""

import http.client
import json
import socket
import time
import urllib.parse

import jwt
import pytest

import fixed_keys
import mgmt_support
from mgmt_support import (APP_DEVELOPER, ENV_ADMIN, ORG_ADMIN, READ_ONLY, Api, app_body, app_path,
                          apps_path, assign_role, b64url, create_app, create_env,
                          create_service_with_resource, create_worker, env_path, expect,
                          expect_forbidden, expect_not_found, expect_unauthorized, jwks,
                          resources_path, role_ids, token_claims, token_request, uniq)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin

UNKNOWN_ENV = "6e0f3c1a-9b7d-4c2e-8f1a-2b3c4d5e6f70"


@pytest.fixture(scope="module")
def envs(admin):
    """Environment E (where the workers hold roles) and F (which they do not reach)."""
    e = create_env(admin, name=uniq("E"))["id"]
    f = create_env(admin, name=uniq("F"))["id"]
    return e, f


@pytest.fixture(scope="module")
def fixtures_in_e(admin, envs):
    """Objects in E the workers act on: a resource with a scope, a SERVICE app with a grant."""
    e, _ = envs
    res, scopes, app, secret, grant = create_service_with_resource(admin, e, scopes=("r:read",))
    return {"resource": res, "scope": scopes["r:read"], "app": app, "grant": grant}


@pytest.fixture(scope="module")
def read_only(admin, envs):
    return create_worker(admin, envs[0], [(READ_ONLY, envs[0])])[2]


@pytest.fixture(scope="module")
def developer(admin, envs):
    return create_worker(admin, envs[0], [(APP_DEVELOPER, envs[0])])[2]


@pytest.fixture(scope="module")
def env_admin(admin, envs):
    return create_worker(admin, envs[0], [(ENV_ADMIN, envs[0])])[2]


def listing(admin, path, collection):
    return admin.ids(path, collection)


# -- authentication --------------------------------------------------------------------------


def test_no_token_is_401(admin, envs):
    for method, path in (("GET", "/environments"), ("GET", "/roles"),
                         ("POST", "/environments"), ("GET", apps_path(envs[0])),
                         ("GET", "/nothing-here")):
        expect_unauthorized(admin.call(method, path, auth=False))


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer abc", "Bearer a.b.c",
                                   "Bearer eyJhbGciOiJub25lIn0.e30.", "Token abc"])
def test_garbage_tokens_are_401(admin, value):
    expect_unauthorized(admin.get("/environments", auth=False,
                                  headers={"Authorization": value}))


def test_client_credentials_instead_of_a_token_are_401(admin, mgmt_server):
    from tollgate_server import basic
    expect_unauthorized(admin.get("/environments", auth=False, headers={
        "Authorization": basic(mgmt_server.admin["clientId"], mgmt_server.admin["clientSecret"])}))


def test_bearer_scheme_is_case_insensitive(admin):
    expect(admin.get("/environments", auth=False,
                     headers={"Authorization": "bearer " + admin.token}), 200)


def test_token_of_a_service_app_is_401(admin, mgmt_server, envs, fixtures_in_e):
    """A SERVICE app's token is for its resource, not for the management API (aud)."""
    e, _ = envs
    _, _, app, secret, _ = create_service_with_resource(admin, e)
    resp = token_request(mgmt_server, e, app["id"], secret)
    _, claims = token_claims(resp)
    assert mgmt_server.base_url not in claims["aud"], claims
    token = resp.json()["access_token"]
    expect_unauthorized(admin.get("/environments", token=token))
    expect_unauthorized(admin.get(apps_path(e), token=token))


# -- the bearer token is checked before the body (issue 10 item 9) --------------------------

BIG = 1_000_000  # under the 1 MiB body limit of /v1, so only the token can refuse it early


def send_head(base_url, head, timeout=10):
    """Sends a request head only (no body) on a new connection and reads one response.
    Returns (status, lower-case headers, parsed body, bytes after the response, b"" on EOF)."""
    u = urllib.parse.urlsplit(base_url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = json.loads(resp.read())
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, sock.recv(1)


def post_head(server, authorization, extra=""):
    auth = f"Authorization: {authorization}\r\n" if authorization is not None else ""
    host = urllib.parse.urlsplit(server.base_url).netloc
    return (f"POST /v1/environments HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
            f"\r\nContent-Length: {BIG}\r\n{auth}{extra}\r\n")


def flip_signature(token):
    head, payload, sig = token.split(".")
    raw = bytearray(jwt.utils.base64url_decode(sig))
    raw[-1] ^= 1
    return f"{head}.{payload}.{b64url(bytes(raw))}"


@pytest.mark.parametrize("kind", ["missing", "basic", "garbage", "forged", "exp-changed",
                                  "service"])
def test_v1_refuses_a_bad_token_before_reading_the_body(admin, mgmt_server, envs, kind):
    """Only the head of a 1 MB POST is sent: the 401 must come without the body, and the
    connection closes (the unread body cannot be told from the next request)."""
    if kind == "service":  # signed by this server, but for a resource, not the API (aud)
        _, _, app, secret, _ = create_service_with_resource(admin, envs[0])
        authorization = "Bearer " + token_request(mgmt_server, envs[0], app["id"],
                                                  secret).json()["access_token"]
    else:
        authorization = {
            "missing": None,
            "basic": "Basic YWJjOmRlZg==",
            "garbage": "Bearer garbage",
            "forged": "Bearer " + flip_signature(admin.token),
            "exp-changed": "Bearer " + tamper(admin.token, exp=int(time.time()) + 7200),
        }[kind]
    status, headers, body, after = send_head(mgmt_server.base_url,
                                             post_head(mgmt_server, authorization))
    assert status == 401, (status, body)
    assert body["code"] == "ACCESS_FAILED" and set(body) == {"id", "code", "message"}, body
    assert body["message"] == ("The request could not be completed. The access token is "
                               "missing, invalid or expired."), body
    assert headers.get("www-authenticate") == "Bearer", headers
    assert headers.get("connection") == "close", headers
    assert headers.get("correlation-id"), headers
    assert after == b"", "the server closes the connection after an early answer"


def test_v1_early_refusal_comes_before_100_continue(mgmt_server):
    status, headers, body, after = send_head(
        mgmt_server.base_url, post_head(mgmt_server, "Bearer x.y.z", "Expect: 100-continue\r\n"))
    assert status == 401 and body["code"] == "ACCESS_FAILED", (status, body)
    assert after == b""


def test_v1_with_a_good_token_reads_the_body(admin, mgmt_server):
    """The same head with a valid token: the server waits for the body and then answers it."""
    u = urllib.parse.urlsplit(mgmt_server.base_url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
        sock.sendall(post_head(mgmt_server, "Bearer " + admin.token).encode())
        sock.sendall(b" " * (BIG - 2) + b"[]")  # valid JSON, not an object
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = json.loads(resp.read())
    assert resp.status == 400, body
    assert body["code"] in ("INVALID_DATA", "INVALID_REQUEST"), body


def tamper(token, **changes):
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims.update(changes)
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


def test_tampered_tokens_are_401(admin, mgmt_server, read_only, envs):
    expect(read_only.get(apps_path(envs[0])), 200)
    token = read_only.token
    # Claims changed under the original signature: promote to the admin app, or extend exp.
    expect_unauthorized(admin.get("/environments", token=tamper(
        token, client_id=mgmt_server.admin["clientId"], sub=mgmt_server.admin["clientId"])))
    apps = apps_path(envs[0])
    expect_unauthorized(admin.get(apps, token=tamper(token, exp=int(time.time()) + 7200)))
    # An expired-looking token (exp in the past), with the signature of the original.
    expect_unauthorized(admin.get(apps, token=tamper(token, exp=int(time.time()) - 10)))
    # A signature with one bit flipped.
    head, payload, sig = token.split(".")
    raw = bytearray(jwt.utils.base64url_decode(sig))
    raw[-1] ^= 1
    expect_unauthorized(admin.get(apps, token=f"{head}.{payload}.{b64url(bytes(raw))}"))
    # Unsigned.
    none_token = jwt.encode(jwt.decode(token, options={"verify_signature": False}), key=None,
                            algorithm="none")
    expect_unauthorized(admin.get(apps, token=none_token))


def test_forged_token_with_a_foreign_key_is_401(admin, mgmt_server):
    """Every claim and the kid right, signed by a key the server does not have."""
    real = jwt.decode(admin.token, options={"verify_signature": False})
    header = jwt.get_unverified_header(admin.token)
    key = fixed_keys.load(fixed_keys.RSA_OTHER_PEM)
    forged = jwt.encode(real, key, algorithm="RS256",
                        headers={"kid": header["kid"], "typ": "at+jwt"})
    expect_unauthorized(admin.get("/environments", token=forged))
    # The same claims with HS256 keyed by the public JWK text (alg confusion).
    pub = json.dumps(jwks(mgmt_server, mgmt_server.env_id)["keys"][0])
    confused = jwt.encode(real, pub, algorithm="HS256", headers={"kid": header["kid"]})
    expect_unauthorized(admin.get("/environments", token=confused))


def test_disabled_or_deleted_worker_is_401(admin, envs):
    e, _ = envs
    worker, _, caller = create_worker(admin, e, [(ENV_ADMIN, e)])
    expect(caller.get(apps_path(e)), 200)
    body = dict(app_body(worker["name"], type="WORKER"), enabled=False)
    expect(admin.put(app_path(e, worker["id"]), body), 200)
    expect_unauthorized(caller.get(apps_path(e)))
    body["enabled"] = True
    expect(admin.put(app_path(e, worker["id"]), body), 200)
    expect(caller.get(apps_path(e)), 200)
    expect(admin.delete(app_path(e, worker["id"])), 204)
    expect_unauthorized(caller.get(apps_path(e)))


# -- Configuration Read Only -----------------------------------------------------------------


def test_read_only_can_read_everything_but_secrets(read_only, envs, fixtures_in_e):
    e, _ = envs
    app = fixtures_in_e["app"]
    res = fixtures_in_e["resource"]
    for path in (env_path(e), apps_path(e), app_path(e, app["id"]),
                 app_path(e, app["id"]) + "/grants",
                 app_path(e, app["id"]) + "/grants/" + fixtures_in_e["grant"]["id"],
                 app_path(e, app["id"]) + "/roleAssignments",
                 resources_path(e), f"{resources_path(e)}/{res['id']}",
                 f"{resources_path(e)}/{res['id']}/scopes",
                 f"/environments/{e}/keys", "/roles"):
        expect(read_only.get(path), 200)
    expect_forbidden(read_only.get(app_path(e, app["id"]) + "/secret"))
    expect_forbidden(read_only.get(f"{resources_path(e)}/{res['id']}/secret"))


def test_read_only_cannot_write(admin, read_only, envs, fixtures_in_e):
    e, _ = envs
    app = fixtures_in_e["app"]
    res = fixtures_in_e["resource"]
    before = (listing(admin, apps_path(e), "applications"),
              listing(admin, resources_path(e), "resources"),
              admin.get(app_path(e, app["id"])).json(), admin.get(env_path(e)).json())
    roles = role_ids(admin)
    writes = [
        ("POST", apps_path(e), app_body()),
        ("PUT", app_path(e, app["id"]), app_body(app["name"], description="x")),
        ("DELETE", app_path(e, app["id"]), None),
        ("POST", app_path(e, app["id"]) + "/secret", None),
        ("DELETE", app_path(e, app["id"]) + "/secret", None),
        ("POST", app_path(e, app["id"]) + "/grants",
         {"resource": {"id": res["id"]}, "scopes": [{"id": fixtures_in_e["scope"]["id"]}]}),
        ("DELETE", app_path(e, app["id"]) + "/grants/" + fixtures_in_e["grant"]["id"], None),
        ("POST", resources_path(e), {"name": uniq("r")}),
        ("PUT", f"{resources_path(e)}/{res['id']}", {"name": res["name"]}),
        ("DELETE", f"{resources_path(e)}/{res['id']}", None),
        ("POST", f"{resources_path(e)}/{res['id']}/scopes", {"name": "new:scope"}),
        ("POST", f"{resources_path(e)}/{res['id']}/secret", None),
        ("POST", f"/environments/{e}/keys", {"algorithm": "EC", "keyLength": 256}),
        ("POST", app_path(e, app["id"]) + "/roleAssignments",
         {"role": {"id": roles[READ_ONLY]}, "scope": {"id": e, "type": "ENVIRONMENT"}}),
        ("PUT", env_path(e), {"name": uniq("renamed")}),
        ("DELETE", env_path(e), None),
        ("POST", "/environments", {"name": uniq("new")}),
    ]
    for method, path, body in writes:
        resp = read_only.call(method, path, body)
        assert resp.status_code == 403, (method, path, resp.status_code, resp.text)
        expect_forbidden(resp)
    after = (listing(admin, apps_path(e), "applications"),
             listing(admin, resources_path(e), "resources"),
             admin.get(app_path(e, app["id"])).json(), admin.get(env_path(e)).json())
    assert after == before


def test_read_only_reaches_only_its_environment(admin, read_only, envs):
    e, f = envs
    listed = read_only.ids("/environments", "environments")
    assert listed == [e], listed
    for path in (env_path(f), apps_path(f), resources_path(f), f"/environments/{f}/keys"):
        expect_forbidden(read_only.get(path))
    # No oracle: an environment that does not exist is 403 too, where the admin gets 404.
    expect_forbidden(read_only.get(env_path(UNKNOWN_ENV)))
    expect_forbidden(read_only.get(apps_path(UNKNOWN_ENV)))
    expect_not_found(admin.get(env_path(UNKNOWN_ENV)))


# -- Client Application Developer -------------------------------------------------------------


def test_developer_manages_apps_grants_resources(developer, envs):
    e, _ = envs
    app = developer.create(apps_path(e), app_body())
    secret = expect(developer.get(app_path(e, app["id"]) + "/secret"), 200)["secret"]
    rotated = expect(developer.call("POST", app_path(e, app["id"]) + "/secret"), 200)
    assert rotated["secret"] != secret
    expect(developer.put(app_path(e, app["id"]), app_body(app["name"], description="d")), 200)
    res = developer.create(resources_path(e), {"name": uniq("dev-res")})
    expect(developer.put(f"{resources_path(e)}/{res['id']}",
                         {"name": res["name"], "accessTokenValiditySeconds": 600}), 200)
    scope = developer.create(f"{resources_path(e)}/{res['id']}/scopes", {"name": "dev:read"})
    expect(developer.get(f"{resources_path(e)}/{res['id']}/secret"), 200)
    grant = developer.create(app_path(e, app["id"]) + "/grants",
                             {"resource": {"id": res["id"]}, "scopes": [{"id": scope["id"]}]})
    expect(developer.delete(app_path(e, app["id"]) + "/grants/" + grant["id"]), 204)
    expect(developer.delete(f"{resources_path(e)}/{res['id']}"), 204)
    expect(developer.delete(app_path(e, app["id"])), 204)


def test_developer_cannot_touch_keys_roles_or_environments(admin, developer, envs):
    e, f = envs
    roles = role_ids(admin)
    worker, _ = create_app(admin, e, type="WORKER")
    ra = assign_role(admin, e, worker["id"], READ_ONLY, e)
    keys_before = listing(admin, f"/environments/{e}/keys", "keys")
    key_id = keys_before[0]
    expect(developer.get(f"/environments/{e}/keys"), 200)
    for method, path, body in [
        ("POST", f"/environments/{e}/keys", {"algorithm": "EC", "keyLength": 256}),
        ("PUT", f"/environments/{e}/keys/{key_id}", {"default": True}),
        ("DELETE", f"/environments/{e}/keys/{key_id}", None),
        ("POST", app_path(e, worker["id"]) + "/roleAssignments",
         {"role": {"id": roles[ENV_ADMIN]}, "scope": {"id": e, "type": "ENVIRONMENT"}}),
        ("DELETE", app_path(e, worker["id"]) + "/roleAssignments/" + ra["id"], None),
        ("PUT", env_path(e), {"name": uniq("renamed")}),
        ("DELETE", env_path(e), None),
        ("POST", "/environments", {"name": uniq("new")}),
        ("GET", apps_path(f), None),
        ("POST", apps_path(f), app_body()),
    ]:
        resp = developer.call(method, path, body)
        assert resp.status_code == 403, (method, path, resp.status_code, resp.text)
        expect_forbidden(resp)
    assert listing(admin, f"/environments/{e}/keys", "keys") == keys_before
    assert listing(admin, app_path(e, worker["id"]) + "/roleAssignments",
                   "roleAssignments") == [ra["id"]]


# -- Environment Admin -----------------------------------------------------------------------


def test_environment_admin_inside_its_environment(admin, env_admin, envs, mgmt_server):
    e, _ = envs
    current = admin.get(env_path(e)).json()
    got = expect(env_admin.put(env_path(e), {"name": current["name"], "description": "ops",
                                             "type": current["type"]}), 200)
    assert got["description"] == "ops"
    worker, _ = create_app(env_admin, e, type="WORKER")
    roles = role_ids(env_admin)
    ra = env_admin.create(app_path(e, worker["id"]) + "/roleAssignments",
                          {"role": {"id": roles[READ_ONLY]},
                           "scope": {"id": e, "type": "ENVIRONMENT"}})
    expect(env_admin.delete(app_path(e, worker["id"]) + "/roleAssignments/" + ra["id"]), 204)
    key = env_admin.create(f"/environments/{e}/keys", {"algorithm": "EC", "keyLength": 256})
    assert key["default"] is False
    expect(env_admin.delete(f"/environments/{e}/keys/{key['id']}"), 204)


def test_environment_admin_cannot_create_or_delete_environments(admin, env_admin, envs):
    e, f = envs
    before = listing(admin, "/environments", "environments")
    expect_forbidden(env_admin.post("/environments", {"name": uniq("new")}))
    expect_forbidden(env_admin.delete(env_path(e)))
    assert listing(admin, "/environments", "environments") == before
    assert env_admin.ids("/environments", "environments") == [e]


def test_environment_admin_cannot_grant_beyond_its_reach(admin, env_admin, envs, mgmt_server):
    e, f = envs
    roles = role_ids(admin)
    worker, _ = create_app(admin, e, type="WORKER")
    path = app_path(e, worker["id"]) + "/roleAssignments"
    expect_forbidden(env_admin.post(path, {"role": {"id": roles[ORG_ADMIN]},
                                           "scope": {"id": mgmt_server.admin["organizationId"],
                                                     "type": "ORGANIZATION"}}))
    expect_forbidden(env_admin.post(path, {"role": {"id": roles[ENV_ADMIN]},
                                           "scope": {"id": f, "type": "ENVIRONMENT"}}))
    assert listing(admin, path, "roleAssignments") == []
    # An organization-wide assignment made by the organization admin is out of its reach too.
    org_ra = assign_role(admin, e, worker["id"], ORG_ADMIN, mgmt_server.admin["organizationId"],
                         "ORGANIZATION")
    expect_forbidden(env_admin.delete(path + "/" + org_ra["id"]))
    assert listing(admin, path, "roleAssignments") == [org_ra["id"]]
    expect(admin.delete(path + "/" + org_ra["id"]), 204)


def test_environment_admin_gets_403_on_other_environments(env_admin, envs):
    e, f = envs
    for method, path, body in (("GET", env_path(f), None), ("GET", apps_path(f), None),
                               ("POST", apps_path(f), app_body()),
                               ("PUT", env_path(f), {"name": uniq("x")}),
                               ("GET", env_path(UNKNOWN_ENV), None)):
        expect_forbidden(env_admin.call(method, path, body))


# -- reach and timing ------------------------------------------------------------------------


def test_role_on_another_environment_reaches_only_that_one(admin, envs):
    """A worker of E holding Environment Admin on F manages F and nothing in E."""
    e, f = envs
    _, _, caller = create_worker(admin, e, [(ENV_ADMIN, f)])
    assert caller.ids("/environments", "environments") == [f]
    made = caller.create(apps_path(f), app_body())
    expect(caller.get(app_path(f, made["id"])), 200)
    expect_forbidden(caller.get(apps_path(e)))
    expect_forbidden(caller.get(env_path(e)))


def test_removing_a_role_takes_effect_on_the_next_request(admin, mgmt_server, envs):
    e, _ = envs
    worker, secret, caller = create_worker(admin, e, [(ENV_ADMIN, e)])
    ra_path = app_path(e, worker["id"]) + "/roleAssignments"
    ra_id = admin.ids(ra_path, "roleAssignments")[0]
    expect(caller.get(apps_path(e)), 200)
    expect(admin.delete(ra_path + "/" + ra_id), 204)
    # The token is still well-formed and signed, but reaches nothing any more.
    expect_forbidden(caller.get(apps_path(e)))
    expect_forbidden(caller.post(apps_path(e), app_body()))
    assert expect(caller.get("/environments"), 200)["_embedded"]["environments"] == []
    # And a worker without roles gets no new management token (SPEC 2.4).
    resp = token_request(mgmt_server, e, worker["id"], secret)
    assert resp.status_code == 400 and resp.json()["error"] == "unauthorized_client", resp.text
    # Giving a role back works from the next request too.
    assign_role(admin, e, worker["id"], READ_ONLY, e)
    expect(caller.get(apps_path(e)), 200)
    expect_forbidden(caller.post(apps_path(e), app_body()))


def test_downgrading_a_role_takes_effect_on_the_next_request(admin, envs):
    e, _ = envs
    worker, _, caller = create_worker(admin, e, [(ENV_ADMIN, e), (READ_ONLY, e)])
    ra_path = app_path(e, worker["id"]) + "/roleAssignments"
    roles = role_ids(admin)
    admin_ra = [ra for ra in admin.items(ra_path, "roleAssignments")
                if ra["role"]["id"] == roles[ENV_ADMIN]][0]
    made = caller.create(apps_path(e), app_body())
    expect(admin.delete(ra_path + "/" + admin_ra["id"]), 204)
    expect(caller.get(app_path(e, made["id"])), 200)
    expect_forbidden(caller.delete(app_path(e, made["id"])))
    expect(admin.get(app_path(e, made["id"])), 200)


def test_organization_admin_worker_created_through_the_api(admin, mgmt_server, envs):
    """An Organization Admin role (organization scope) reaches every environment and may create
    and delete environments."""
    admin_env = mgmt_server.admin["environmentId"]
    worker, secret = create_app(admin, admin_env, type="WORKER")
    assign_role(admin, admin_env, worker["id"], ORG_ADMIN, mgmt_server.admin["organizationId"],
                "ORGANIZATION")
    org = Api(mgmt_server, worker["id"], secret, admin_env)
    assert set(envs) <= set(org.ids("/environments", "environments"))
    made = org.create("/environments", {"name": uniq("by-org-worker")})
    expect(org.get(apps_path(envs[1])), 200)
    expect(org.delete(env_path(made["id"])), 204)
    expect_not_found(org.get(env_path(UNKNOWN_ENV)))



# -- no escalation through another application (SPEC §6) -------------------------------------

# Target workers in E, by the role assignments they hold: (role, "E" | "F" | "ORG").
TARGETS = {
    "no role": [],
    "Organization Admin": [(ORG_ADMIN, "ORG")],
    "Environment Admin of E": [(ENV_ADMIN, "E")],
    "Environment Admin of F": [(ENV_ADMIN, "F")],
    "Client Application Developer of E": [(APP_DEVELOPER, "E")],
    "Configuration Read Only of E": [(READ_ONLY, "E")],
}
# Which targets each actor (a worker of E with this role on E) may take over: exactly those
# whose every role assignment it could create itself. Configuration Read Only manages nothing.
MAY_CONTROL = {
    ORG_ADMIN: set(TARGETS),
    ENV_ADMIN: {"no role", "Environment Admin of E", "Client Application Developer of E",
                "Configuration Read Only of E"},
    APP_DEVELOPER: {"no role"},
    READ_ONLY: set(),
}


@pytest.mark.parametrize("actor_role", [ORG_ADMIN, ENV_ADMIN, APP_DEVELOPER, READ_ONLY])
def test_no_escalation_through_another_applications_secret(admin, mgmt_server, envs, actor_role):
    """Reading or rotating a worker's secret, changing its client authentication, updating or
    deleting it is allowed only to an actor that could create every role assignment the worker
    holds; otherwise 403, and nothing changes (a developer must not read an Organization Admin's
    secret and become one)."""
    e, f = envs
    org = mgmt_server.admin["organizationId"]
    scope_of = {"E": (e, "ENVIRONMENT"), "F": (f, "ENVIRONMENT"), "ORG": (org, "ORGANIZATION")}
    worker, worker_secret = create_app(admin, e, type="WORKER")
    actor_scope = scope_of["ORG"] if actor_role == ORG_ADMIN else scope_of["E"]
    assign_role(admin, e, worker["id"], actor_role, *actor_scope)
    actor = Api(mgmt_server, worker["id"], worker_secret, e)
    for target_name, holds in TARGETS.items():
        target, _ = create_app(admin, e, type="WORKER")
        for role, where in holds:
            scope_id, scope_type = scope_of[where]
            assign_role(admin, e, target["id"], role, scope_id, scope_type)
        path = app_path(e, target["id"])
        secret = expect(admin.get(path + "/secret"), 200)["secret"]
        allowed = target_name in MAY_CONTROL[actor_role]
        calls = [
            ("GET", path + "/secret", None, 200),
            ("POST", path + "/secret", None, 200),
            ("DELETE", path + "/secret", None, 204),
            ("PUT", path, app_body(target["name"], type="WORKER",
                                   tokenEndpointAuthMethod="CLIENT_SECRET_POST"), 200),
            ("DELETE", path, None, 204),
        ]
        for method, call_path, body, ok_status in calls:
            resp = actor.call(method, call_path, body)
            why = (actor_role, target_name, method, call_path)
            if allowed:
                assert resp.status_code == ok_status, (why, resp.status_code, resp.text)
            else:
                assert resp.status_code == 403, (why, resp.status_code, resp.text)
                expect_forbidden(resp)
                assert secret not in resp.text
        if not allowed:
            # Nothing changed: the same secret, the same method, the application still there.
            assert expect(admin.get(path + "/secret"), 200)["secret"] == secret
            got = expect(admin.get(path), 200)
            assert got["tokenEndpointAuthMethod"] == "CLIENT_SECRET_BASIC", got
            expect(admin.delete(path), 204)
        else:
            expect_not_found(admin.get(path))
