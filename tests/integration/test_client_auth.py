"""SPEC 2.2, client authentication, over HTTP: one mechanism per request, Basic with RFC 6749
§2.3.1 form encoding, CLIENT_SECRET_POST, no oracle between unknown / wrong / disabled, the
PingOne method-mismatch answer, WWW-Authenticate only for Basic, previous secrets."""

import base64
import urllib.parse
import uuid

import pytest

from integration_support import ODD_SECRET
from tollgate_server import (DENIED, VALIDATION, assert_oauth_error, basic, basic_raw,
                            correlation_suffix, jwt_parts)

GOOD = "grant_type=client_credentials"
INVALID = "Invalid client credentials"
METHOD = "Unsupported authentication method"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def challenge(server):
    return f'Basic realm="{server.issuer}"'


def form(**params):
    return urllib.parse.urlencode({"grant_type": "client_credentials", **params})


# --- Successes ---------------------------------------------------------------------------------

def test_client_secret_post(client, main_server):
    cid, secret = client.creds("post")
    resp = client.post(form(client_id=cid, client_secret=secret))
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "orders:read"
    _, claims = jwt_parts(resp.json()["access_token"])
    assert claims["client_id"] == cid and claims["sub"] == cid


def test_basic_with_matching_body_client_id(client):
    cid, secret = client.creds("one")
    resp = client.post(form(client_id=cid), headers={"Authorization": basic(cid, secret)})
    assert resp.status_code == 200, resp.text


def test_basic_with_empty_body_client_id(client):
    """SPEC 2.1: an empty client_id counts as absent."""
    cid, secret = client.creds("one")
    resp = client.post(GOOD + "&client_id=", headers={"Authorization": basic(cid, secret)})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "bAsIc"])
def test_basic_scheme_is_case_insensitive(client, scheme):
    cid, secret = client.creds("one")
    value = basic(cid, secret).split(" ", 1)[1]
    resp = client.post(GOOD, headers={"Authorization": f"{scheme} {value}"})
    assert resp.status_code == 200, resp.text


def test_basic_halves_are_form_decoded(client):
    """RFC 6749 §2.3.1: a secret with reserved characters, sent form-encoded, is accepted."""
    cid = client.app("odd")["id"]
    resp = client.post(GOOD, headers={"Authorization": basic(cid, ODD_SECRET)})
    assert resp.status_code == 200, resp.text


def test_basic_fully_percent_encoded_client_id(client):
    cid, secret = client.creds("one")
    encoded_id = "".join(f"%{b:02X}" for b in cid.encode())
    resp = client.post(GOOD, headers={"Authorization": basic_raw(f"{encoded_id}:{secret}")})
    assert resp.status_code == 200, resp.text
    assert jwt_parts(resp.json()["access_token"])[1]["client_id"] == cid


def test_basic_secret_not_form_encoded_is_rejected(client, main_server):
    """The raw secret holds `+` (a space once decoded) and a malformed `%/` escape."""
    cid = client.app("odd")["id"]
    resp = client.post(GOOD, headers={"Authorization": basic_raw(f"{cid}:{ODD_SECRET}")})
    assert_oauth_error(resp, 401, "invalid_client", DENIED)
    assert resp.headers.get("WWW-Authenticate") == challenge(main_server)


def test_previous_secret_is_accepted_before_expiry(client):
    cid, current = client.creds("rotated")
    for secret in ("previous-secret-of-rotated-app", current):
        resp = client.post(GOOD, headers={"Authorization": basic(cid, secret)})
        assert resp.status_code == 200, resp.text


# --- Rule 1: one mechanism ---------------------------------------------------------------------

@pytest.mark.parametrize("body_secret", ["same", "other", "empty"])
def test_basic_plus_body_secret(client, body_secret):
    """Also an empty client_secret: SPEC 2.1 counts it as present."""
    cid, secret = client.creds("one")
    body = form(client_secret={"same": secret, "other": "other", "empty": ""}[body_secret])
    resp = client.post(body, headers={"Authorization": basic(cid, secret)})
    assert_oauth_error(resp, 400, "invalid_request", DENIED)
    assert "WWW-Authenticate" not in resp.headers


def test_basic_plus_client_assertion(client):
    cid, secret = client.creds("one")
    resp = client.post(form(client_assertion_type=JWT_BEARER, client_assertion="a.b.c"),
                       headers={"Authorization": basic(cid, secret)})
    assert_oauth_error(resp, 400, "invalid_request", DENIED)


def test_body_secret_plus_client_assertion(client):
    cid, secret = client.creds("post")
    resp = client.post(form(client_id=cid, client_secret=secret,
                            client_assertion_type=JWT_BEARER, client_assertion="a.b.c"))
    assert_oauth_error(resp, 400, "invalid_request", DENIED)


def test_body_client_id_differs_from_basic(client):
    cid, secret = client.creds("one")
    other = client.app("basic2")["id"]
    resp = client.post(form(client_id=other), headers={"Authorization": basic(cid, secret)})
    assert_oauth_error(resp, 400, "invalid_request", DENIED)


# --- Rules 2, 3, 5, 7: 401 without an oracle ---------------------------------------------------

def test_no_authentication_at_all(client):
    resp = client.post(GOOD)
    assert_oauth_error(resp, 401, "invalid_client", DENIED)
    assert "WWW-Authenticate" not in resp.headers


def test_unknown_wrong_and_disabled_look_identical_with_basic(client, main_server):
    disabled_id, disabled_secret = client.creds("disabled")
    cases = {
        "unknown": basic(str(uuid.uuid4()), "some-secret"),
        "unknown-non-uuid": basic("not-an-app", "some-secret"),
        "wrong-secret": basic(client.app("basic2")["id"], "wrong-secret"),
        "disabled": basic(disabled_id, disabled_secret),
    }
    shapes = set()
    for name, auth in cases.items():
        resp = client.post(GOOD, headers={"Authorization": auth})
        assert_oauth_error(resp, 401, "invalid_client", DENIED, INVALID)
        assert resp.headers.get("WWW-Authenticate") == challenge(main_server), name
        shapes.add(tuple(sorted(h.lower() for h in resp.headers
                                if h.lower() not in ("date", "content-length"))))
    assert len(shapes) == 1, shapes


def test_unknown_wrong_and_disabled_look_identical_with_post(client):
    disabled_id, disabled_secret = client.creds("disabled")  # a BASIC app: rule 3 comes first
    cases = {
        "unknown": form(client_id=str(uuid.uuid4()), client_secret="some-secret"),
        "wrong-secret": form(client_id=client.app("post2")["id"], client_secret="wrong"),
        "empty-secret": form(client_id=client.app("post2")["id"], client_secret=""),
        "disabled": form(client_id=disabled_id, client_secret=disabled_secret),
    }
    for name, body in cases.items():
        resp = client.post(body)
        assert_oauth_error(resp, 401, "invalid_client", DENIED, INVALID)
        assert "WWW-Authenticate" not in resp.headers, name


def test_current_secret_of_another_app_is_rejected(client):
    cid = client.app("basic3")["id"]
    _, other_secret = client.creds("one")
    resp = client.post(GOOD, headers={"Authorization": basic(cid, other_secret)})
    assert_oauth_error(resp, 401, "invalid_client", DENIED, INVALID)


@pytest.mark.parametrize("auth", [
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b":secret-without-id").decode(),
    "Basic " + base64.b64encode(b"id%zz:secret").decode(),
    "Basic " + base64.b64encode(b"id:sec%00ret").decode(),
    "Basic " + base64.b64encode(b"id:\xff\xfe").decode(),
    "Basic",
    "Basic ",
], ids=["not-base64", "no-colon", "empty-id", "bad-escape", "nul", "bad-utf8", "no-value",
        "empty-value"])
def test_malformed_basic_header(client, main_server, auth):
    resp = client.post(GOOD, headers={"Authorization": auth})
    assert_oauth_error(resp, 401, "invalid_client", DENIED)
    assert resp.headers.get("WWW-Authenticate") == challenge(main_server)


# --- Rule 4: the presented mechanism must be the application's ----------------------------------

@pytest.mark.parametrize("right_secret", [True, False])
def test_post_credentials_to_basic_app(client, right_secret):
    cid, secret = client.creds("one")
    resp = client.post(form(client_id=cid, client_secret=secret if right_secret else "nope"))
    assert_oauth_error(resp, 401, "invalid_client", DENIED, METHOD)
    assert "WWW-Authenticate" not in resp.headers


@pytest.mark.parametrize("right_secret", [True, False])
def test_basic_credentials_to_post_app(client, main_server, right_secret):
    cid, secret = client.creds("post")
    resp = client.post(GOOD, headers={"Authorization": basic(cid, secret if right_secret
                                                            else "nope")})
    assert_oauth_error(resp, 401, "invalid_client", DENIED, METHOD)
    assert resp.headers.get("WWW-Authenticate") == challenge(main_server)


def test_client_id_alone_for_basic_app(client):
    resp = client.post(form(client_id=client.app("one")["id"]))
    assert_oauth_error(resp, 401, "invalid_client", DENIED)
    assert "WWW-Authenticate" not in resp.headers


def test_none_app_presenting_a_secret(client):
    """A NONE application authenticating with a secret is a method mismatch (rule 4)."""
    resp = client.post(form(client_id=client.app("public")["id"], client_secret="anything"))
    assert_oauth_error(resp, 401, "invalid_client", DENIED, METHOD)


# --- SPEC 2.3 after authentication -------------------------------------------------------------

def test_none_app_is_never_given_client_credentials(client):
    resp = client.post(form(client_id=client.app("public")["id"]))
    body = assert_oauth_error(resp, 400, "unauthorized_client", VALIDATION)
    assert body["error_description"].endswith(correlation_suffix(resp))


def test_app_without_client_credentials_grant_type(client):
    resp = client.token("no_cc")
    assert_oauth_error(resp, 400, "unauthorized_client", VALIDATION)
