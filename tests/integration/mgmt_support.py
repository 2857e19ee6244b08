"""Helpers shared by the management-API integration tests (tests/integration/test_mgmt_*.py).

Every object these tests use is created through /v1 itself, starting from the admin credentials
`tollgate init` prints (SPEC §8); nothing is seeded through the storage API. `Api` wraps one
caller (a bearer token of one application) and checks, on every answer, the wire rules of SPEC §6
that hold for all of them: a body is `Content-Type: application/json` holding exactly one JSON
value, and 204 has no body."""

import base64
import http.client
import json
import re
import socket
import urllib.parse
import uuid

import pytest
import requests

from tollgate_server import UUID_RE, basic, jwt_parts, serving

# SPEC §6: RFC 3339 in UTC with upper-case T and Z.
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
# SPEC §6: 64 characters from [A-Za-z0-9-._~].
SECRET_RE = re.compile(r"^[A-Za-z0-9\-._~]{64}$")

ORG_ADMIN = "Organization Admin"
ENV_ADMIN = "Environment Admin"
APP_DEVELOPER = "Client Application Developer"
READ_ONLY = "Configuration Read Only"

JSON_TYPE = "application/json"


def uniq(prefix):
    """A name no other test uses (names are unique per environment or resource)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def media_type(resp):
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def check_wire(resp):
    """SPEC §6: every /v1 answer with a body is application/json holding exactly one JSON value;
    204 has no body; SPEC §1: a Correlation-Id on every answer. Returns the parsed body (None
    when there is none)."""
    # SPEC §1: every response carries a Correlation-Id.
    assert UUID_RE.match(resp.headers.get("Correlation-Id", "")), resp.headers
    if resp.status_code == 204:
        assert resp.content == b"", (resp.status_code, resp.content)
        return None
    if not resp.content:
        return None
    assert media_type(resp) == JSON_TYPE, (resp.status_code, resp.headers, resp.text[:300])
    return json.loads(resp.text)  # json.loads refuses trailing data: exactly one value


class Api:
    """One management-API caller: the bearer token of application `client_id` of `env_id`
    (default: the admin application of `tollgate init`)."""

    def __init__(self, server, client_id=None, secret=None, env_id=None, method="basic"):
        self.server = server
        self.env_id = env_id or server.admin["environmentId"]
        self.client_id = client_id or server.admin["clientId"]
        self.secret = secret or server.admin["clientSecret"]
        self.method = method
        self.session = requests.Session()
        self.token = None
        self.refresh()

    def refresh(self):
        resp = token_request(self.server, self.env_id, self.client_id, self.secret, self.method)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        self.token = resp.json()["access_token"]
        return self.token

    def url(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.server.base_url + "/v1" + path

    def call(self, method, path, body=None, *, data=None, headers=None, token=None, auth=True):
        """`body` is sent as JSON; `data` as raw bytes (with the caller's headers)."""
        h = {}
        if auth:
            h["Authorization"] = "Bearer " + (token or self.token)
        if body is not None:
            h["Content-Type"] = JSON_TYPE
            data = json.dumps(body).encode()
        h.update(headers or {})
        resp = self.session.request(method, self.url(path), data=data, headers=h, timeout=60)
        check_wire(resp)
        return resp

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    # -- shortcuts that expect success ------------------------------------------------------

    def ok(self, method, path, body=None, status=200):
        resp = self.call(method, path, body)
        return expect(resp, status)

    def create(self, path, body):
        """POST that must answer 201 with a Location naming the created object."""
        resp = self.post(path, body)
        obj = expect(resp, 201)
        loc = resp.headers.get("Location")
        assert loc == self.url(path) + "/" + obj["id"], (loc, path, obj)
        return obj

    def items(self, path, collection):
        body = expect(self.get(path), 200)
        return body["_embedded"][collection]

    def ids(self, path, collection):
        return [x["id"] for x in self.items(path, collection)]


# -- assertions ------------------------------------------------------------------------------


def expect(resp, status):
    assert resp.status_code == status, (resp.request.method, resp.request.url, resp.status_code,
                                        resp.text[:2000])
    return check_wire(resp)


def expect_error(resp, status, code, detail=None, target=None):
    """SPEC §6 error shape {"id","code","message","details":[{"code","target","message"}]}.
    `detail`/`target`: one entry of `details` must carry exactly these."""
    body = expect(resp, status)
    assert isinstance(body, dict), body
    assert UUID_RE.match(body.get("id", "")), body
    assert body["code"] == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    details = body.get("details", [])
    assert isinstance(details, list), body
    for d in details:
        assert isinstance(d.get("code"), str) and isinstance(d.get("message"), str), body
    if detail is not None:
        matching = [d for d in details
                    if d["code"] == detail and (target is None or d.get("target") == target)]
        assert matching, (f"no detail {detail} target {target}", body)
    return body


def expect_forbidden(resp):
    body = expect_error(resp, 403, "ACCESS_FAILED", "INSUFFICIENT_PERMISSIONS")
    return body


def expect_unauthorized(resp):
    body = expect_error(resp, 401, "ACCESS_FAILED")
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer"), resp.headers
    return body


def expect_not_found(resp):
    return expect_error(resp, 404, "NOT_FOUND")


def assert_timestamp(value):
    assert isinstance(value, str) and TIMESTAMP_RE.match(value), value


def assert_ref(value, expected_id=None):
    """SPEC §6: references are objects {"id": ...}, never bare IDs."""
    assert isinstance(value, dict), value
    assert isinstance(value.get("id"), str), value
    if expected_id is not None:
        assert value["id"] == expected_id, (value, expected_id)


def assert_uuid(value):
    assert isinstance(value, str) and UUID_RE.match(value), value


def assert_int(value):
    """SPEC §6: integers are JSON numbers within 32 bits (never strings or booleans)."""
    assert type(value) is int and -2**31 <= value < 2**31, value


def assert_list_shape(body, collection):
    assert isinstance(body, dict), body
    assert isinstance(body["_embedded"][collection], list), body
    assert_int(body["count"])
    assert_int(body["size"])
    assert body["size"] == len(body["_embedded"][collection]), body
    assert body["count"] >= body["size"], body
    links = body.get("_links")
    if links is not None:
        for name, link in links.items():
            assert isinstance(link, dict) and isinstance(link.get("href"), str), (name, link)
            assert link["href"].startswith("http"), link


def check_paging(api, path, collection, expected_ids=None):
    """The list's shape and its ?limit= paging (SPEC §6): `_links.next` only when another page
    exists, `count` the total and `size` the page's items. Returns the IDs, in list order."""
    full = expect(api.get(path), 200)
    assert_list_shape(full, collection)
    ids = [x["id"] for x in full["_embedded"][collection]]
    assert full["count"] == len(ids), full
    assert "next" not in full.get("_links", {}), full
    assert len(ids) == len(set(ids)), ids
    if expected_ids is not None:
        assert set(expected_ids) <= set(ids), (expected_ids, ids)
    total = len(ids)
    assert total >= 2, f"{path}: paging needs at least two items"

    # One item per page, following _links.next to the end.
    seen = []
    page = expect(api.get(path + "?limit=1"), 200)
    hops = 0
    while True:
        assert_list_shape(page, collection)
        assert page["count"] == total, page
        assert page["size"] == 1, page
        seen.extend(x["id"] for x in page["_embedded"][collection])
        nxt = page.get("_links", {}).get("next")
        if len(seen) < total:
            assert nxt is not None, (seen, page)
            assert nxt["href"].startswith(api.server.base_url + "/v1/"), nxt
            page = expect(api.get(nxt["href"]), 200)
        else:
            assert nxt is None, page
            break
        hops += 1
        assert hops <= total, "paging does not end"
    assert seen == ids, (seen, ids)

    # A page holding exactly the rest has no next; one item short has.
    exact = expect(api.get(f"{path}?limit={total}"), 200)
    assert exact["size"] == total and "next" not in exact.get("_links", {}), exact
    short = expect(api.get(f"{path}?limit={total - 1}"), 200)
    assert short["size"] == total - 1 and short["count"] == total, short
    assert "next" in short["_links"], short
    rest = expect(api.get(short["_links"]["next"]["href"]), 200)
    assert [x["id"] for x in rest["_embedded"][collection]] == ids[total - 1:], rest
    assert rest["size"] == 1 and rest["count"] == total, rest
    assert "next" not in rest.get("_links", {}), rest
    return ids


def check_created(api, resp_obj, location_path):
    """The created object GETs back equal from its Location."""
    got = expect(api.get(location_path), 200)
    assert got == resp_obj, (got, resp_obj)
    return got


def walk_strings(value):
    """Every string (keys and values) in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from walk_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_strings(v)
    elif isinstance(value, str):
        yield value


# -- request bodies and builders ------------------------------------------------------------


def app_body(name=None, type="SERVICE", grant_types=("CLIENT_CREDENTIALS",), **extra):
    body = {"name": name or uniq("app"), "enabled": True, "protocol": "OPENID_CONNECT",
            "type": type, "grantTypes": list(grant_types)}
    body.update(extra)
    return body


def env_path(env_id):
    return f"/environments/{env_id}"


def apps_path(env_id):
    return f"/environments/{env_id}/applications"


def app_path(env_id, app_id):
    return f"/environments/{env_id}/applications/{app_id}"


def resources_path(env_id):
    return f"/environments/{env_id}/resources"


def create_env(api, name=None, **extra):
    body = {"name": name or uniq("env"), "type": "SANDBOX"}
    body.update(extra)
    return api.create("/environments", body)


def create_app(api, env_id, name=None, **extra):
    """Returns (application, secret)."""
    body = app_body(name, **extra)
    app = api.create(apps_path(env_id), body)
    secret = expect(api.get(app_path(env_id, app["id"]) + "/secret"), 200)["secret"]
    return app, secret


def create_resource(api, env_id, name=None, **extra):
    body = {"name": name or uniq("res")}
    body.update(extra)
    return api.create(resources_path(env_id), body)


def create_scope(api, env_id, resource_id, name, **extra):
    body = {"name": name}
    body.update(extra)
    return api.create(f"{resources_path(env_id)}/{resource_id}/scopes", body)


def create_grant(api, env_id, app_id, resource_id, scope_ids):
    return api.create(app_path(env_id, app_id) + "/grants",
                      {"resource": {"id": resource_id}, "scopes": [{"id": s} for s in scope_ids]})


def role_ids(api):
    return {r["name"]: r["id"] for r in api.items("/roles", "roles")}


def assign_role(api, env_id, app_id, role_name, scope_id, scope_type="ENVIRONMENT"):
    role = role_ids(api)[role_name]
    return api.create(app_path(env_id, app_id) + "/roleAssignments",
                      {"role": {"id": role}, "scope": {"id": scope_id, "type": scope_type}})


def create_worker(api, env_id, roles=(), name=None):
    """A WORKER application in `env_id` holding `roles` [(role name, environment id), ...];
    returns (application, secret, Api for it)."""
    app, secret = create_app(api, env_id, name or uniq("worker"), type="WORKER")
    for role_name, scope_env in roles:
        assign_role(api, env_id, app["id"], role_name, scope_env)
    caller = Api(api.server, app["id"], secret, env_id) if roles else None
    return app, secret, caller


def create_service_with_resource(api, env_id, scopes=("read", "write"), **res_extra):
    """A CUSTOM resource with `scopes`, and a SERVICE app granted all of them.
    Returns (resource, {scope name: scope}, app, secret, grant)."""
    res = create_resource(api, env_id, **res_extra)
    made = {n: create_scope(api, env_id, res["id"], n) for n in scopes}
    app, secret = create_app(api, env_id)
    grant = create_grant(api, env_id, app["id"], res["id"], [s["id"] for s in made.values()])
    return res, made, app, secret, grant


# -- the token endpoint ---------------------------------------------------------------------


def token_request(server, env_id, client_id, secret, method="basic", **params):
    form = {"grant_type": "client_credentials"}
    form.update({k: v for k, v in params.items() if v is not None})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if method == "basic":
        headers["Authorization"] = basic(client_id, secret)
    else:
        form["client_id"] = client_id
        form["client_secret"] = secret
    return requests.post(server.token_url(env_id), data=form, headers=headers, timeout=30)


def token_claims(resp):
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return jwt_parts(resp.json()["access_token"])


def oauth_error(resp, status, error):
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert body["error"] == error, body
    return body


def jwks(server, env_id):
    resp = requests.get(f"{server.base_url}/{env_id}/as/jwks", timeout=30)
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return resp.json()


# -- raw HTTP, for what requests cannot send ------------------------------------------------


def raw_exchange(base_url, data, timeout=30):
    """Sends `data` (a whole request, bytes) on a new connection and reads one response.
    Returns (status, headers dict with lower-case names, body bytes)."""
    u = urllib.parse.urlsplit(base_url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as sock:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- fixtures (import them into a test module to get one server per module) -----------------


@pytest.fixture(scope="module")
def mgmt_server():
    with serving() as server:
        yield server


@pytest.fixture(scope="module")
def admin(mgmt_server):
    return Api(mgmt_server)
