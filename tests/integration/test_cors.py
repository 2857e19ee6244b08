"""PingOne's corsSettings of an application, and CORS on the token, introspection and revocation
endpoints, through the real binary with requests (the browser itself, Chromium running the
reference page's jQuery example, is tests/blackbox/test_browser_cors.py): the settings are
validated and stored as browsers serialize origins; a preflight from an origin that an enabled
application lists passes, any other is 403; answers to a listed origin carry
Access-Control-Allow-Origin (errors too, so a page can read them); JWKS and discovery are
readable by any page; on PostgreSQL a setting written on one node opens the other."""

import time

import pytest
import requests

from mgmt_support import (Api, admin, app_body, app_path, create_app, create_env,  # noqa: F401
                          create_service_with_resource, expect, expect_error, mgmt_server,
                          token_request)
from pg_support import Deployment
from tollgate_server import basic

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAGE = "https://app.example.test"


def specific(*origins):
    return {"behavior": "ALLOW_SPECIFIC_ORIGINS", "origins": list(origins)}


def put_cors(api, env, app, cors):
    body = {k: app[k] for k in ("name", "enabled", "protocol", "type", "grantTypes",
                                "tokenEndpointAuthMethod")}
    if cors is not None:
        body["corsSettings"] = cors
    return api.put(app_path(env, app["id"]), body)


def preflight(server, env, origin, endpoint="token", method="POST", headers="authorization"):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(f"{server.base_url}/{env}/as/{endpoint}", headers=h, timeout=30)


def test_settings_are_stored_as_browsers_send_origins(admin):
    env = create_env(admin)["id"]
    app, _ = create_app(admin, env)
    assert "corsSettings" not in app  # PingOne's default: none, and no origin
    resp = put_cors(admin, env, app, specific("HTTPS://App.Example.TEST:443", "http://127.0.0.1:8080",
                                              "http://[::1]:0080", PAGE))
    got = expect(resp, 200)["corsSettings"]
    assert got == specific(PAGE, "http://127.0.0.1:8080", "http://[::1]"), got
    assert expect(admin.get(app_path(env, app["id"])), 200)["corsSettings"] == got
    none = expect(put_cors(admin, env, app, {"behavior": "ALLOW_NO_ORIGINS"}), 200)
    assert none["corsSettings"] == {"behavior": "ALLOW_NO_ORIGINS"}
    # PUT replaces the whole application: without corsSettings it has none.
    assert "corsSettings" not in expect(put_cors(admin, env, app, None), 200)


@pytest.mark.parametrize("sent, stored", [
    ("HTTPS://App.Example.TEST:443", "https://app.example.test"),
    ("HTTP://LOCALHOST:08080", "http://localhost:8080"),
    ("https://h.example.test:", "https://h.example.test"),
    ("https://my_host.example.test", "https://my_host.example.test"),
    ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ("http://192.0.2.1:80", "http://192.0.2.1"),
    ("http://[0:0:0:0:0:0:0:1]", "http://[::1]"),
    ("http://[::FFFF:127.0.0.1]:8080", "http://[::ffff:7f00:1]:8080"),
    ("http://[2001:db8:0:0:1:0:0:1]", "http://[2001:db8::1:0:0:1]"),
    ("http://[2001:0db8:0000:0000:0000:0000:0000:0001]", "http://[2001:db8::1]"),
    ("http://[1:0:0:2:0:0:0:3]", "http://[1:0:0:2::3]"),
    ("http://[1:2:3:4:5:6:7:0]", "http://[1:2:3:4:5:6:7:0]"),
])
def test_origins_are_stored_as_browsers_serialize_them(admin, sent, stored):
    """The WHATWG URL standard's serialization: what a browser puts in `Origin`."""
    env = create_env(admin)["id"]
    app, _ = create_app(admin, env)
    got = expect(put_cors(admin, env, app, specific(sent)), 200)["corsSettings"]
    assert got == specific(stored), got


@pytest.mark.parametrize("cors, target", [
    ("ALLOW_SPECIFIC_ORIGINS", "corsSettings"),
    ({"behavior": "SOME_ORIGINS"}, "corsSettings.behavior"),
    ({"origins": [PAGE]}, "corsSettings.behavior"),
    ({"behavior": "ALLOW_SPECIFIC_ORIGINS"}, "corsSettings.origins"),
    ({"behavior": "ALLOW_SPECIFIC_ORIGINS", "origins": []}, "corsSettings.origins"),
    ({"behavior": "ALLOW_NO_ORIGINS", "origins": [PAGE]}, "corsSettings.origins"),
    (specific("https://app.example.test/"), "corsSettings.origins"),
    (specific("https://app.example.test/path"), "corsSettings.origins"),
    (specific("https://*.example.test"), "corsSettings.origins"),
    (specific("ftp://app.example.test"), "corsSettings.origins"),
    (specific("https://user@app.example.test"), "corsSettings.origins"),
    (specific("https://app.example.test:65536"), "corsSettings.origins"),
    (specific("https://app.example.test?x"), "corsSettings.origins"),
    (specific("null"), "corsSettings.origins"),
    (specific("http://127.1"), "corsSettings.origins"),
    (specific("http://0x7f.0.0.1"), "corsSettings.origins"),
    (specific("http://2130706433"), "corsSettings.origins"),
    (specific("http://010.0.0.1"), "corsSettings.origins"),
    (specific("http://256.0.0.1"), "corsSettings.origins"),
    (specific("http://[:::::]"), "corsSettings.origins"),
    (specific("http://[1.2.3.4]"), "corsSettings.origins"),
    (specific("http://[::1%25eth0]"), "corsSettings.origins"),
    (specific("https://b\u00fccher.example"), "corsSettings.origins"),
    ({"behavior": "ALLOW_SPECIFIC_ORIGINS", "origins": "https://a.example"},
     "corsSettings.origins"),
    ({"behavior": "ALLOW_SPECIFIC_ORIGINS", "origins": [1]}, "corsSettings.origins"),
    (specific("https://" + "a" * 300 + ".test"), "corsSettings.origins"),
    (specific(*[f"https://a{i}.example.test" for i in range(101)]), "corsSettings.origins"),
])
def test_bad_settings_are_400_naming_the_field(admin, cors, target):
    env = create_env(admin)["id"]
    app, _ = create_app(admin, env)
    expect_error(put_cors(admin, env, app, cors), 400, "INVALID_DATA", target=target)
    assert "corsSettings" not in expect(admin.get(app_path(env, app["id"])), 200)


def service_with_page(admin, cors=specific(PAGE)):
    env = create_env(admin)["id"]
    _, _, app, secret, _ = create_service_with_resource(admin, env)
    expect(put_cors(admin, env, app, cors), 200)
    return env, app, secret


def test_a_listed_origin_passes_the_preflight_of_each_endpoint(admin, mgmt_server):
    env, _, _ = service_with_page(admin)
    for endpoint in ("token", "introspect", "revoke"):
        resp = preflight(mgmt_server, env, PAGE, endpoint)
        assert resp.status_code == 204, (endpoint, resp.status_code, resp.text)
        h = resp.headers
        assert h["Access-Control-Allow-Origin"] == PAGE
        assert h["Access-Control-Allow-Methods"] == "POST"
        allowed = [x.strip().lower() for x in h["Access-Control-Allow-Headers"].split(",")]
        assert "authorization" in allowed and "content-type" in allowed
        assert int(h["Access-Control-Max-Age"]) > 0
        assert h["Vary"] == "Origin"
        assert "Access-Control-Allow-Credentials" not in h
        assert resp.content == b"" and "Content-Length" not in h


def test_other_preflights_are_403_without_cors_headers(admin, mgmt_server):
    env, _, _ = service_with_page(admin)
    bare = create_env(admin)["id"]  # no application lists anything
    for e, origin, method in [(env, "https://evil.example.test", "POST"),
                              (env, "https://app.example.test:8443", "POST"),
                              (env, PAGE, "PUT"),
                              (bare, PAGE, "POST")]:
        resp = preflight(mgmt_server, e, origin, method=method)
        assert resp.status_code == 403, (origin, method, resp.status_code)
        assert not any(k.lower().startswith("access-control-") for k in resp.headers)
    # An OPTIONS that is no preflight is a method the endpoint does not take.
    resp = requests.options(mgmt_server.token_url(env), timeout=30)
    assert resp.status_code == 405 and resp.headers["Allow"] == "POST"


def test_a_disabled_application_opens_nothing(admin, mgmt_server):
    env, app, _ = service_with_page(admin)
    body = {k: app[k] for k in ("name", "protocol", "type", "grantTypes",
                                "tokenEndpointAuthMethod")}
    expect(admin.put(app_path(env, app["id"]), {**body, "enabled": False,
                                                 "corsSettings": specific(PAGE)}), 200)
    assert preflight(mgmt_server, env, PAGE).status_code == 403


def test_answers_to_a_listed_origin_can_be_read(admin, mgmt_server):
    env, app, secret = service_with_page(admin)
    page = {"Origin": PAGE}
    ok = requests.post(mgmt_server.token_url(env), data={"grant_type": "client_credentials"},
                       headers={**FORM, **page, "Authorization": basic(app["id"], secret)},
                       timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.headers["Access-Control-Allow-Origin"] == PAGE
    exposed = [x.strip() for x in ok.headers["Access-Control-Expose-Headers"].split(",")]
    assert "Correlation-Id" in exposed and "WWW-Authenticate" in exposed
    assert ok.headers["Vary"] == "Origin"
    token = ok.json()["access_token"]
    # An error too: the page can tell a wrong secret from a network failure.
    wrong = requests.post(mgmt_server.token_url(env), data={"grant_type": "client_credentials"},
                          headers={**FORM, **page, "Authorization": basic(app["id"], "x")},
                          timeout=30)
    assert wrong.status_code == 401 and wrong.headers["Access-Control-Allow-Origin"] == PAGE
    for endpoint in ("introspect", "revoke"):
        resp = requests.post(f"{mgmt_server.base_url}/{env}/as/{endpoint}", data={"token": token},
                             headers={**FORM, **page, "Authorization": basic(app["id"], secret)},
                             timeout=30)
        assert resp.status_code == 200, (endpoint, resp.text)
        assert resp.headers["Access-Control-Allow-Origin"] == PAGE, endpoint
    # Another origin, or no origin (not a browser): no permission to read.
    for headers in ({"Origin": "https://evil.example.test"}, {}):
        resp = token_request(mgmt_server, env, app["id"], secret) if not headers else \
            requests.post(mgmt_server.token_url(env), data={"grant_type": "client_credentials"},
                          headers={**FORM, **headers, "Authorization": basic(app["id"], secret)},
                          timeout=30)
        assert resp.status_code == 200
        assert "Access-Control-Allow-Origin" not in resp.headers


def test_public_documents_are_readable_by_any_page(admin, mgmt_server):
    env = create_env(admin)["id"]
    for path in ("jwks", ".well-known/openid-configuration",
                 ".well-known/oauth-authorization-server"):
        resp = requests.get(f"{mgmt_server.base_url}/{env}/as/{path}",
                            headers={"Origin": "https://anyone.example.test"}, timeout=30)
        assert resp.status_code == 200, path
        assert resp.headers["Access-Control-Allow-Origin"] == "*", path


def test_a_setting_written_on_one_node_opens_the_other(pg):
    d = Deployment(pg)
    try:
        a = d.node()
        b = d.node()
        admin_a = Api(a)
        env, _, _ = service_with_page(admin_a)
        deadline = time.monotonic() + 30
        while preflight(b, env, PAGE).status_code != 204:
            assert time.monotonic() < deadline, "node B never allowed the origin"
            time.sleep(0.05)
    finally:
        codes = d.close()
    assert codes == [0, 0]
