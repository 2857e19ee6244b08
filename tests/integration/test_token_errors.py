"""SPEC 2.1 (request), 2.3 (grant checks), 2.7 (errors) and SPEC 1 (routing, Correlation-Id)
over HTTP: each error with its status, `error` code, description prefix and correlation suffix."""

import urllib.parse
import uuid

import pytest

from integration_support import raw_exchange
from tollgate_server import (DENIED, FORM, UUID_RE, VALIDATION, assert_oauth_error, basic,
                            correlation_suffix, jwt_parts)

GOOD = "grant_type=client_credentials"


def raw_token_request(server, body, extra_headers=b"", env_id=None, auth=None):
    """A whole HTTP/1.1 token request as bytes, with Content-Length."""
    path = f"/{env_id or server.env_id}/as/token".encode()
    host = server.base_url.split("//", 1)[1].encode()
    head = (b"POST " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n")
    if auth:
        head += b"Authorization: " + auth.encode() + b"\r\n"
    return head + extra_headers + b"Connection: close\r\n\r\n" + body


# --- SPEC 2.1: content type --------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    None, "application/json", "text/plain", "multipart/form-data; boundary=x",
    "application/x-www-form-urlencodedx",
])
def test_wrong_content_type(client, content_type):
    cid, secret = client.creds("one")
    headers = {"Authorization": basic(cid, secret)}
    if content_type is None:
        resp = client.session.post(client.server.token_url(), data=GOOD.encode(),
                                   headers=headers, timeout=10)
        assert "Content-Type" not in resp.request.headers
    else:
        headers["Content-Type"] = content_type
        resp = client.session.post(client.server.token_url(), data=GOOD, headers=headers,
                                   timeout=10)
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


# --- SPEC 2.1: form syntax ---------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    GOOD + "&scope=%zz",
    GOOD + "&scope=orders:read%4",
    GOOD + "&scope=%",
    GOOD + "&scope=%g1",
    "grant_type=client%_credentials",
    GOOD + "&sc%ope=x",
], ids=["bad-hex", "short-escape", "lone-percent", "non-hex", "bad-in-value", "bad-in-name"])
def test_malformed_escapes(client, body):
    resp = client.post(body, headers={"Authorization": basic(*client.creds("one"))})
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


@pytest.mark.parametrize("extra", [
    "scope=orders:read%00",
    "foo=a%00b",
    "fo%00o=bar",
], ids=["nul-in-scope", "nul-in-unknown-param", "nul-in-name"])
def test_escaped_nul(client, extra):
    assert_oauth_error(client.token("one", extra), 400, "invalid_request", VALIDATION)


def test_raw_nul_byte(client, main_server):
    body = b"grant_type=client_credentials&scope=orders:read\x00"
    resp = raw_exchange(main_server.base_url,
                        raw_token_request(main_server, body, auth=basic(*client.creds("one"))))
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


@pytest.mark.parametrize("extra", [
    "scope=%FF", "scope=%C3", "scope=%C0%AF", "scope=%ED%A0%80", "scope=%F4%90%80%80",
    "foo=%80",
], ids=["ff", "truncated", "overlong", "surrogate", "above-10ffff", "unknown-param"])
def test_invalid_utf8(client, extra):
    assert_oauth_error(client.token("one", extra), 400, "invalid_request", VALIDATION)


def test_raw_invalid_utf8_byte(client, main_server):
    body = b"grant_type=client_credentials&scope=orders:read\xff"
    resp = raw_exchange(main_server.base_url,
                        raw_token_request(main_server, body, auth=basic(*client.creds("one"))))
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


def test_valid_utf8_in_unknown_parameter_is_fine(client):
    resp = client.token("one", "note=caf%C3%A9+%F0%9F%98%80")
    assert resp.status_code == 200, resp.text


# --- SPEC 2.1: duplicates ----------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    GOOD + "&grant_type=client_credentials",
    GOOD + "&grant%5Ftype=client_credentials",
    GOOD + "&scope=orders:read&scope=orders:read",
    GOOD + "&scope=orders:read&scope=orders:write",
    GOOD + "&scope=&scope=orders:read",
], ids=["grant_type-same", "grant_type-escaped-name", "scope-same", "scope-different", "scope-one-empty"])
def test_duplicate_parameters(client, body):
    resp = client.post(body, headers={"Authorization": basic(*client.creds("one"))})
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


def test_duplicate_client_id_in_body(client):
    cid, secret = client.creds("post")
    resp = client.post(f"{GOOD}&client_id={cid}&client_id={cid}&client_secret={secret}")
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "invalid_request"


def test_resource_may_repeat(client):
    resp = client.token("multi_on", "resource=https%3A%2F%2Forders.example.test"
                                    "&resource=https%3A%2F%2Fbilling.example.test")
    assert resp.status_code == 200, resp.text


# --- SPEC 2.1: limits --------------------------------------------------------------------------

def many_fields(n):
    """GOOD plus distinct tiny parameters, n pairs in all."""
    return GOOD + "".join(f"&{i:x}" for i in range(n - 1))


def test_64_parameters_are_accepted(client):
    resp = client.post(many_fields(64), headers={"Authorization": basic(*client.creds("one"))})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("n", [65, 3000], ids=["65", "3000-in-16-KiB"])
def test_more_than_64_parameters_are_refused(client, n):
    """An unauthenticated body of thousands of distinct tiny names (issue: 22 ms of an I/O
    thread each, with a quadratic duplicate check) is refused after 64 pairs."""
    body = many_fields(n)
    assert len(body) <= 16 * 1024
    resp = client.post(body, headers={"Authorization": basic(*client.creds("one"))})
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)
    assert "too many parameters" in resp.json()["error_description"]
    # Empty pairs are not parameters.
    resp = client.post(GOOD + "&" * 5000, headers={"Authorization": basic(*client.creds("one"))})
    assert resp.status_code == 200, resp.text

def test_scope_longer_than_4_kib(client):
    scope = ("orders:read " * 400)[:4097]
    assert len(scope) == 4097
    resp = client.token("one", "scope=" + scope.replace(" ", "+"))
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


def test_scope_of_exactly_4_kib_is_accepted(client):
    scope = "orders:read" + " " * (4096 - len("orders:read"))
    assert len(scope) == 4096
    resp = client.token("one", "scope=" + scope.replace(" ", "+"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "orders:read"


def assert_framing_error(resp, status):
    """413/431: the status, a Correlation-Id, and if the body is an OAuth error, its suffix."""
    assert resp.status_code == status, resp.text
    cid = resp.headers.get("Correlation-Id")
    assert cid
    if resp.text and resp.text.lstrip().startswith("{"):
        body = resp.json()
        if "error_description" in body:
            assert body["error_description"].endswith(f" (Correlation ID: {cid})"), (body, cid)


def padded_body(total):
    body = GOOD + "&pad="
    return body + "x" * (total - len(body))


def test_body_of_16_kib_is_accepted(client):
    body = padded_body(16 * 1024)
    assert len(body) == 16384
    resp = client.post(body, headers={"Authorization": basic(*client.creds("one"))})
    assert resp.status_code == 200, resp.text


def test_body_over_16_kib_is_413(client, main_server):
    body = padded_body(16 * 1024 + 1).encode()
    resp = raw_exchange(main_server.base_url,
                        raw_token_request(main_server, body, auth=basic(*client.creds("one"))))
    assert_framing_error(resp, 413)


def test_chunked_body_over_16_kib_is_413(client, main_server):
    host = main_server.base_url.split("//", 1)[1]
    body = padded_body(20 * 1024).encode()
    chunks = b"".join(b"%x\r\n" % len(body[i:i + 4096]) + body[i:i + 4096] + b"\r\n"
                      for i in range(0, len(body), 4096)) + b"0\r\n\r\n"
    req = (f"POST /{main_server.env_id}/as/token HTTP/1.1\r\nHost: {host}\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
           f"Authorization: {basic(*client.creds('one'))}\r\n"
           "Connection: close\r\n\r\n").encode() + chunks
    resp = raw_exchange(main_server.base_url, req)
    assert_framing_error(resp, 413)


def test_headers_over_8_kib_are_431(client, main_server):
    body = GOOD.encode()
    pad = b"X-Pad: " + b"a" * (9 * 1024) + b"\r\n"
    resp = raw_exchange(main_server.base_url,
                        raw_token_request(main_server, body, pad, auth=basic(*client.creds("one"))))
    assert_framing_error(resp, 431)


def test_many_small_headers_over_8_kib_are_431(client, main_server):
    pad = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"b" * 90) for i in range(100))
    assert len(pad) > 8 * 1024
    resp = raw_exchange(main_server.base_url,
                        raw_token_request(main_server, GOOD.encode(), pad,
                                          auth=basic(*client.creds("one"))))
    assert_framing_error(resp, 431)


def test_headers_under_8_kib_are_fine(client, main_server):
    pad = b"X-Pad: " + b"a" * (6 * 1024) + b"\r\n"
    resp = raw_exchange(main_server.base_url,
                        raw_token_request(main_server, GOOD.encode(), pad,
                                          auth=basic(*client.creds("one"))))
    assert resp.status_code == 200, resp.text


# --- SPEC 2.3: grant_type, before client authentication ----------------------------------------

WRONG_BASIC = {"Authorization": basic(str(uuid.uuid4()), "wrong-secret")}


@pytest.mark.parametrize("body,headers", [
    ("scope=orders:read", WRONG_BASIC),
    ("grant_type=", WRONG_BASIC),
    ("scope=orders:read", {}),
    ("client_id=nobody&client_secret=nothing", {}),
], ids=["absent-wrong-basic", "empty-wrong-basic", "absent-no-auth", "absent-wrong-post"])
def test_missing_grant_type_before_client_auth(client, body, headers):
    resp = client.post(body, headers=headers)
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)
    assert "WWW-Authenticate" not in resp.headers


@pytest.mark.parametrize("grant", [
    "password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code", "CLIENT_CREDENTIALS", "client_credentials ",
])
def test_unsupported_grant_type_before_client_auth(client, grant):
    resp = client.post(urllib.parse.urlencode({"grant_type": grant}), headers=WRONG_BASIC)
    assert_oauth_error(resp, 400, "unsupported_grant_type", VALIDATION)
    assert "WWW-Authenticate" not in resp.headers


def test_empty_body(client):
    resp = client.post("", headers={"Authorization": basic(*client.creds("one"))})
    assert_oauth_error(resp, 400, "invalid_request", VALIDATION)


def test_unsupported_grant_type_with_good_credentials(client):
    resp = client.post("grant_type=password&username=a&password=b",
                       headers={"Authorization": basic(*client.creds("one"))})
    assert_oauth_error(resp, 400, "unsupported_grant_type", VALIDATION)


def test_app_without_client_credentials_grant(client):
    resp = client.token("no_cc")
    assert_oauth_error(resp, 400, "unauthorized_client", VALIDATION)


def test_none_app_is_unauthorized_client(client):
    resp = client.post(f"{GOOD}&client_id={client.app('public')['id']}")
    assert_oauth_error(resp, 400, "unauthorized_client", VALIDATION)


# --- SPEC 2.1 / 1: methods, routing ------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_token_endpoint_is_post_only(client, main_server, method):
    resp = client.session.request(method, main_server.token_url(), timeout=10)
    assert resp.status_code == 405, resp.text
    assert resp.headers.get("Allow") == "POST"
    assert resp.headers.get("Correlation-Id")


@pytest.mark.parametrize("path", [
    "/{random}/as/token",
    "/not-a-uuid/as/token",
    "/{env_nodash}/as/token",
    "/{env}x/as/token",
    "/{env}/as/nope",
    "/{env}/as",
    "/{env}/token",
    "/{env}/as/token/extra",
    "/nothing",
    "/",
])
def test_unknown_paths_are_404(client, main_server, path):
    env = main_server.env_id
    p = path.format(random=uuid.uuid4(), env=env, env_nodash=env.replace("-", ""))
    cid, secret = client.creds("one")
    resp = client.session.post(main_server.url(p), data=GOOD,
                               headers={"Authorization": basic(cid, secret), **FORM},
                               timeout=10)
    assert resp.status_code == 404, (p, resp.status_code, resp.text)
    assert resp.headers.get("Correlation-Id")


def test_upper_case_environment_id_is_accepted(client, main_server):
    resp = client.token("one", env_id=main_server.env_id.upper())
    assert resp.status_code == 200, resp.text
    _, claims = jwt_parts(resp.json()["access_token"])
    assert claims["iss"] == main_server.issuer  # the canonical, lower-case id
    assert claims["env"] == main_server.env_id


# --- SPEC 1: Correlation-Id --------------------------------------------------------------------

@pytest.mark.parametrize("header", ["X-Request-Id", "Correlation-Id"])
@pytest.mark.parametrize("value", ["req-123_abc.DEF", "a" * 64, "7"])
def test_well_formed_request_id_is_echoed(client, header, value):
    resp = client.token("bare", headers={header: value})  # an error: the body shows the id too
    assert resp.headers["Correlation-Id"] == value
    body = assert_oauth_error(resp, 400, "invalid_scope", VALIDATION)
    assert body["error_description"].endswith(f" (Correlation ID: {value})")


def test_request_id_is_echoed_on_success(client):
    resp = client.token("one", headers={"X-Request-Id": "success-id-1"})
    assert resp.status_code == 200
    assert resp.headers["Correlation-Id"] == "success-id-1"


@pytest.mark.parametrize("value", ["a" * 65, "has space", "semi;colon", "quote\"d", "slash/x",
                                   "\u00e9t\u00e9".encode().decode("latin-1")])
def test_malformed_request_id_is_replaced(client, value):
    resp = client.token("bare", headers={"X-Request-Id": value})
    cid = resp.headers["Correlation-Id"]
    assert cid != value
    assert UUID_RE.match(cid), cid
    assert_oauth_error(resp, 400, "invalid_scope", VALIDATION)


def test_fresh_correlation_ids_differ(client):
    ids = {client.token("one").headers["Correlation-Id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(UUID_RE.match(i) for i in ids)


@pytest.mark.parametrize("path", ["/healthz", "/nothing", "/{env}/as/jwks",
                                  "/{env}/as/.well-known/openid-configuration"])
def test_every_surface_echoes_request_id(client, main_server, path):
    resp = client.session.get(main_server.url(path.format(env=main_server.env_id)),
                              headers={"X-Request-Id": "surface-id"}, timeout=10)
    assert resp.headers.get("Correlation-Id") == "surface-id", (path, resp.headers)


def test_error_descriptions_use_the_response_correlation_id(client):
    resp = client.post(GOOD, headers=WRONG_BASIC)
    body = assert_oauth_error(resp, 401, "invalid_client", DENIED)
    assert body["error_description"].endswith(correlation_suffix(resp))
