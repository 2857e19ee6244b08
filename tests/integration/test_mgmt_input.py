"""Bad input on /v1 (SPEC §6): malformed JSON, non-object JSON, wrong media type, bodies over
1 MiB, invalid UTF-8, and malformed paths. After every refusal nothing has been written."""

import json
import urllib.parse

import pytest

import mgmt_support
from mgmt_support import (app_body, app_path, apps_path, check_wire, create_app, create_env,
                          expect, expect_error, expect_not_found, raw_exchange, uniq)

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin

LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def env(admin):
    return create_env(admin)["id"]


@pytest.fixture(scope="module")
def existing(admin, env):
    """An application whose PUTs are refused below; it must never change."""
    return create_app(admin, env)[0]


def snapshot(admin, env):
    """Everything a refused write could have touched."""
    return (admin.get("/environments").json()["_embedded"]["environments"],
            admin.get(apps_path(env)).json()["_embedded"]["applications"])


def send(admin, method, path, data, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return admin.call(method, path, data=data, headers=headers)


MALFORMED = [b"{", b'{"name": ', b"{'name': 'x'}", b'{"name": "x",}', b"", b"   ",
             b'{"name": "x"} {"name": "y"}', b'{"name": "x"} trailing', b"NaN", b"{name: 1}",
             b'{"enabled": tru}']
NOT_OBJECTS = [b"[]", b'["name"]', b'"app"', b"42", b"null", b"true"]


@pytest.mark.parametrize("data", MALFORMED + NOT_OBJECTS)
def test_malformed_or_non_object_json_is_invalid_request(admin, env, existing, data):
    before = snapshot(admin, env)
    expect_error(send(admin, "POST", apps_path(env), data), 400, "INVALID_REQUEST")
    expect_error(send(admin, "PUT", app_path(env, existing["id"]), data), 400, "INVALID_REQUEST")
    expect_error(send(admin, "POST", "/environments", data), 400, "INVALID_REQUEST")
    assert snapshot(admin, env) == before


def test_invalid_utf8_is_invalid_request(admin, env, existing):
    before = snapshot(admin, env)
    body = json.dumps(app_body("x")).encode().replace(b'"x"', b'"\xff\xfe"')
    expect_error(send(admin, "POST", apps_path(env), body), 400, "INVALID_REQUEST")
    expect_error(send(admin, "PUT", app_path(env, existing["id"]), body), 400, "INVALID_REQUEST")
    assert snapshot(admin, env) == before


def test_deeply_nested_json_is_refused_cleanly(admin, env):
    before = snapshot(admin, env)
    body = b'{"name": "deep", "extra": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    expect_error(send(admin, "POST", apps_path(env), body), 400, "INVALID_REQUEST")
    assert snapshot(admin, env) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", "json", None])
def test_wrong_media_type_is_415(admin, env, existing, content_type):
    before = snapshot(admin, env)
    data = json.dumps(app_body(uniq("media"))).encode()
    expect_error(send(admin, "POST", apps_path(env), data, content_type), 415, "INVALID_REQUEST")
    expect_error(send(admin, "PUT", app_path(env, existing["id"]), data, content_type), 415,
                 "INVALID_REQUEST")
    expect_error(send(admin, "POST", "/environments",
                      json.dumps({"name": uniq("e")}).encode(), content_type),
                 415, "INVALID_REQUEST")
    assert snapshot(admin, env) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "Application/JSON", "application/json;charset=UTF-8"])
def test_json_media_type_with_parameters_is_accepted(admin, env, content_type):
    data = json.dumps(app_body(uniq("ct"))).encode()
    expect(send(admin, "POST", apps_path(env), data, content_type), 201)


def raw_request(admin, method, path, body_len, body=b""):
    u = urllib.parse.urlsplit(admin.server.base_url)
    head = (f"{method} /v1{path} HTTP/1.1\r\nHost: {u.netloc}\r\n"
            f"Authorization: Bearer {admin.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_len}\r\nConnection: close\r\n\r\n").encode()
    return raw_exchange(admin.server.base_url, head + body)


def test_body_over_one_mib_is_413(admin, env, existing):
    before = snapshot(admin, env)
    for method, path in (("POST", apps_path(env)), ("PUT", app_path(env, existing["id"])),
                         ("POST", "/environments")):
        # Announced length over the limit: answered without reading the body.
        status, headers, body = raw_request(admin, method, path, LIMIT + 1)
        assert status == 413, (status, body)
        assert headers["content-type"].split(";")[0] == "application/json", headers
        err = json.loads(body)
        assert err["code"] == "REQUEST_TOO_LARGE", err
        assert isinstance(err["message"], str) and err["id"], err
    assert snapshot(admin, env) == before


def test_body_over_one_mib_sent_in_full_is_413(admin, env):
    before = snapshot(admin, env)
    data = json.dumps(app_body(uniq("big"), description="x" * LIMIT)).encode()
    assert len(data) > LIMIT
    resp = send(admin, "POST", apps_path(env), data)
    assert resp.status_code == 413, resp.text[:300]
    assert json.loads(resp.text)["code"] == "REQUEST_TOO_LARGE"
    assert snapshot(admin, env) == before


def test_body_of_exactly_one_mib_is_accepted(admin, env):
    name = uniq("onemib")
    data = json.dumps(app_body(name, description="d")).encode()
    data = data[:-1] + b" " * (LIMIT - len(data)) + b"}"
    assert len(data) == LIMIT
    app = expect(send(admin, "POST", apps_path(env), data), 201)
    assert app["name"] == name


def test_validation_failure_writes_nothing(admin, env, existing):
    before = snapshot(admin, env)
    # Everything valid but one field: nothing is created, nothing is changed.
    expect_error(admin.post(apps_path(env), app_body(uniq("v"), includeX5t="yes")), 400,
                 "INVALID_DATA", "INVALID_VALUE", "includeX5t")
    expect_error(admin.put(app_path(env, existing["id"]),
                           app_body(uniq("v"), description="changed", type="ROBOT")),
                 400, "INVALID_DATA", "INVALID_VALUE", "type")
    assert snapshot(admin, env) == before


def test_unknown_fields_are_ignored(admin, env):
    body = app_body(uniq("unknown"), somethingNew={"nested": [1, 2]}, id="not-mine",
                    createdAt="yesterday", environment={"id": "elsewhere"})
    app = admin.create(apps_path(env), body)
    assert "somethingNew" not in app
    assert app["id"] != "not-mine" and app["environment"] == {"id": env}


@pytest.mark.parametrize("path", [
    "/environments/{env}x",
    "/environments/not-a-uuid",
    "/environments/{env}/applications/not-a-uuid",
    "/environments/{env}/applications/{app}/grants/not-a-uuid",
    "/environments/{env}/applications/{app}/roleAssignments/not-a-uuid",
    "/environments/{env}/applications/{app}/unknown",
    "/environments/{env}/resources/not-a-uuid",
    "/environments/{env}/keys/not-a-uuid",
    "/environments/{env}/unknown",
    "/environments/",
    "/environments//applications",
    "/nothing",
    "/roles/not-a-uuid",
])
def test_malformed_paths_are_404(admin, env, existing, path):
    path = path.format(env=env, app=existing["id"])
    expect_not_found(admin.get(path))
    if not path.startswith("/roles"):
        expect_not_found(admin.delete(path))


def test_bare_v1_is_404(admin):
    resp = admin.call("GET", "http://" + urllib.parse.urlsplit(admin.server.base_url).netloc
                      + "/v1")
    expect_not_found(resp)


def test_errors_are_single_json_objects(admin, env):
    resp = send(admin, "POST", apps_path(env), b"{")
    body = check_wire(resp)
    assert isinstance(body, dict) and set(body) <= {"id", "code", "message", "details"}, body


def test_links_follow_the_request_host(admin, env):
    """SPEC §6: Location and _links are built from the request's own scheme and host."""
    host = "tollgate.example.test:8443"
    resp = admin.post(apps_path(env), app_body(uniq("host")), headers={"Host": host})
    app = expect(resp, 201)
    expected = f"http://{host}/v1/environments/{env}/applications/{app['id']}"
    assert resp.headers["Location"] == expected, resp.headers
    assert app["_links"]["self"]["href"] == expected, app["_links"]
    listed = expect(admin.get(apps_path(env) + "?limit=1", headers={"Host": host}), 200)
    for link in listed["_links"].values():
        assert link["href"].startswith(f"http://{host}/v1/environments/{env}/applications"), link


def test_malformed_host_falls_back_to_the_api_url(admin, env, mgmt_server):
    u = urllib.parse.urlsplit(mgmt_server.base_url)
    head = (f"GET /v1/environments/{env} HTTP/1.1\r\nHost: evil.test/<script>\r\n"
            f"Authorization: Bearer {admin.token}\r\nConnection: close\r\n\r\n").encode()
    status, headers, body = raw_exchange(mgmt_server.base_url, head)
    if status == 200:
        href = json.loads(body)["_links"]["self"]["href"]
        assert href == f"http://{u.netloc}/v1/environments/{env}", href
    else:
        assert status == 400, (status, body)


def test_limit_bounds_and_bad_cursor(admin, env):
    create_app(admin, env)
    full = expect(admin.get(apps_path(env)), 200)
    top = expect(admin.get(apps_path(env) + "?limit=1000"), 200)
    assert top["_embedded"] == full["_embedded"] and top["count"] == full["count"]
    expect_error(admin.get(apps_path(env) + "?limit=1001"), 400, "INVALID_DATA", "OUT_OF_RANGE",
                 "limit")
    body = expect_error(admin.get(apps_path(env) + "?cursor=not-a-cursor!"), 400, "INVALID_DATA")
    assert [d.get("target") for d in body["details"]] == ["cursor"], body
