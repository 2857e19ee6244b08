"""SPEC §4 introspection (RFC 7662) and §5 revocation (RFC 7009) through the real binary: callers
authenticated as an application or as a resource, `active:false` for every invalid case, the
resource caller only sees tokens addressed to it, revocation by jti until exp, surviving a
restart, and honoured by the management API."""

import requests

from mgmt_support import (Api, admin, create_env, create_resource, create_service_with_resource,  # noqa: F401
                          expect, mgmt_server, token_request, uniq)
from tollgate_server import basic

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def introspect(server, env_id, token, client_id, secret, method="basic", url=None):
    data = {"token": token}
    headers = dict(FORM)
    if method == "basic":
        headers["Authorization"] = basic(client_id, secret)
    elif method == "post":
        data.update(client_id=client_id, client_secret=secret)
    else:
        data["client_id"] = client_id
    return requests.post(url or f"{server.base_url}/{env_id}/as/introspect", data=data,
                         headers=headers, timeout=30)


def revoke(server, env_id, token, client_id, secret):
    return requests.post(f"{server.base_url}/{env_id}/as/revoke", data={"token": token},
                         headers={**FORM, "Authorization": basic(client_id, secret)}, timeout=30)


def token(server, env_id, client_id, secret, **params):
    resp = token_request(server, env_id, client_id, secret, **params)
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def setup_service(admin, env_id, **res_extra):  # noqa: F811
    res, scopes, app, secret, _ = create_service_with_resource(admin, env_id, **res_extra)
    res_secret = expect(admin.get(f"/environments/{env_id}/resources/{res['id']}/secret"), 200)["secret"]
    return res, app, secret, res_secret


def test_application_introspects_its_token(admin, mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    res, app, secret, _ = setup_service(admin, env)
    t = token(mgmt_server, env, app["id"], secret)
    resp = introspect(mgmt_server, env, t, app["id"], secret)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.json()
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert body["client_id"] == app["id"] == body["sub"]
    assert body["aud"] == [res["audience"]]
    assert body["scope"] == "read write"
    assert body["iss"] == f"{mgmt_server.base_url}/{env}/as"
    assert body["env"] == env
    assert body["org"] == mgmt_server.admin["organizationId"]
    assert body["exp"] - body["iat"] == res["accessTokenValiditySeconds"]
    assert set(body) == {"active", "token_type", "scope", "client_id", "sub", "aud", "iss", "exp",
                         "iat", "jti", "env", "org"}


def test_inactive_for_every_invalid_token(admin, mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    _, app, secret, _ = setup_service(admin, env)
    good = token(mgmt_server, env, app["id"], secret)
    head, payload, sig = good.split(".")
    other_env = create_env(admin)
    _, other_app, other_secret, _ = setup_service(admin, other_env["id"])
    foreign = token(mgmt_server, other_env["id"], other_app["id"], other_secret)
    bad = ["garbage", "a.b.c", good + "x", f"{head}.{payload}.{sig[::-1]}",
           f"{head}.{payload[:-2]}.{sig}", foreign, ""]
    for t in bad:
        resp = introspect(mgmt_server, env, t, app["id"], secret)
        if t == "":
            assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
            continue
        assert resp.status_code == 200, (t, resp.text)
        assert resp.json() == {"active": False}, t


def test_resource_caller_sees_only_its_tokens(admin, mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    res, app, secret, res_secret = setup_service(admin, env)
    other, other_app, other_secret, _ = setup_service(admin, env)
    mine = token(mgmt_server, env, app["id"], secret)
    theirs = token(mgmt_server, env, other_app["id"], other_secret)
    resp = introspect(mgmt_server, env, mine, res["id"], res_secret)
    assert resp.status_code == 200 and resp.json()["active"] is True
    assert resp.json()["aud"] == [res["audience"]]
    assert introspect(mgmt_server, env, theirs, res["id"], res_secret).json() == {"active": False}
    # The resource's method is CLIENT_SECRET_BASIC: POST credentials and a wrong secret fail.
    wrong_method = introspect(mgmt_server, env, mine, res["id"], res_secret, method="post")
    assert wrong_method.status_code == 401
    assert "Unsupported authentication method" in wrong_method.json()["error_description"]
    wrong = introspect(mgmt_server, env, mine, res["id"], "x" * 64)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"] == f'Basic realm="{mgmt_server.base_url}/{env}/as"'


def test_resource_with_post_and_none_methods(admin, mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    res, app, secret, res_secret = setup_service(admin, env,
                                                 introspectEndpointAuthMethod="CLIENT_SECRET_POST")
    t = token(mgmt_server, env, app["id"], secret)
    assert introspect(mgmt_server, env, t, res["id"], res_secret, method="post").json()["active"]
    open_res, open_app, open_secret, _ = setup_service(admin, env, introspectEndpointAuthMethod="NONE")
    t2 = token(mgmt_server, env, open_app["id"], open_secret)
    assert introspect(mgmt_server, env, t2, open_res["id"], None, method="none").json()["active"]


def test_introspection_errors(admin, mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    url = f"{mgmt_server.base_url}/{env}/as/introspect"
    assert requests.get(url, timeout=30).status_code == 405
    assert requests.get(url, timeout=30).headers["Allow"] == "POST"
    no_auth = requests.post(url, data={"token": "x"}, headers=FORM, timeout=30)
    assert no_auth.status_code == 401 and no_auth.json()["error"] == "invalid_client"
    wrong_ct = requests.post(url, json={"token": "x"}, timeout=30,
                             headers={"Authorization": basic(mgmt_server.admin["clientId"],
                                                             mgmt_server.admin["clientSecret"])})
    assert wrong_ct.status_code == 400 and wrong_ct.json()["error"] == "invalid_request"


def test_tokens_of_disabled_or_deleted_clients_are_inactive(admin, mgmt_server):  # noqa: F811
    """SPEC §4: the token endpoint and /v1 refuse a disabled or deleted application; introspection
    must not keep vouching for the tokens it already holds."""
    env = mgmt_server.admin["environmentId"]
    res, app, secret, res_secret = setup_service(admin, env)
    _, witness, witness_secret, _ = setup_service(admin, env)
    held = token(mgmt_server, env, app["id"], secret)
    # A resource caller is not the token's client: it still sees the change.
    assert introspect(mgmt_server, env, held, res["id"], res_secret).json()["active"] is True
    body = expect(admin.get(f"/environments/{env}/applications/{app['id']}"), 200)
    body["enabled"] = False
    expect(admin.put(f"/environments/{env}/applications/{app['id']}", body), 200)
    assert introspect(mgmt_server, env, held, res["id"], res_secret).json() == {"active": False}
    assert introspect(mgmt_server, env, held, witness["id"], witness_secret).json() == {
        "active": False}
    # Enabled again: its unexpired tokens are active again (nothing was revoked).
    body["enabled"] = True
    expect(admin.put(f"/environments/{env}/applications/{app['id']}", body), 200)
    assert introspect(mgmt_server, env, held, res["id"], res_secret).json()["active"] is True
    expect(admin.delete(f"/environments/{env}/applications/{app['id']}"), 204)
    assert introspect(mgmt_server, env, held, res["id"], res_secret).json() == {"active": False}


def test_public_client_may_not_introspect(admin, mgmt_server):  # noqa: F811
    """RFC 7662 §2.1, SPEC §4: an application whose tokenEndpointAuthMethod is NONE presents no
    credentials, so it may not introspect: 401 invalid_client."""
    env = mgmt_server.admin["environmentId"]
    _, app, secret, _ = setup_service(admin, env)
    held = token(mgmt_server, env, app["id"], secret)
    public = admin.create(f"/environments/{env}/applications",
                          {"name": uniq("public"), "enabled": True, "protocol": "OPENID_CONNECT",
                           "type": "SINGLE_PAGE_APP", "grantTypes": ["AUTHORIZATION_CODE"],
                           "tokenEndpointAuthMethod": "NONE"})
    resp = introspect(mgmt_server, env, held, public["id"], None, method="none")
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "invalid_client"
    assert "active" not in resp.text


def test_revocation(admin, mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    _, app, secret, _ = setup_service(admin, env)
    _, other_app, other_secret, _ = setup_service(admin, env)
    t = token(mgmt_server, env, app["id"], secret)
    other = token(mgmt_server, env, other_app["id"], other_secret)
    # Another client's token is not revoked by this client (still 200, RFC 7009 §2.2).
    resp = revoke(mgmt_server, env, other, app["id"], secret)
    assert resp.status_code == 200 and resp.content == b""
    assert introspect(mgmt_server, env, other, other_app["id"], other_secret).json()["active"]
    # Unknown and garbage tokens: 200.
    assert revoke(mgmt_server, env, "garbage", app["id"], secret).status_code == 200
    # Its own token: revoked, then inactive for every caller.
    resp = revoke(mgmt_server, env, t, app["id"], secret)
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["Cache-Control"] == "no-store"
    assert introspect(mgmt_server, env, t, app["id"], secret).json() == {"active": False}
    # Bad client authentication is an error.
    bad = revoke(mgmt_server, env, t, app["id"], "wrong")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    missing = requests.post(f"{mgmt_server.base_url}/{env}/as/revoke", data={},
                            headers={**FORM, "Authorization": basic(app["id"], secret)}, timeout=30)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_revoked_management_token_is_refused_by_v1(mgmt_server):  # noqa: F811
    a = mgmt_server.admin
    worker = Api(mgmt_server)
    assert worker.get("/environments").status_code == 200
    assert revoke(mgmt_server, a["environmentId"], worker.token, a["clientId"],
                  a["clientSecret"]).status_code == 200
    resp = worker.get("/environments")
    assert resp.status_code == 401 and resp.json()["code"] == "ACCESS_FAILED"
    worker.refresh()
    assert worker.get("/environments").status_code == 200


def test_revocation_survives_a_restart():
    from tollgate_server import TollgateServer
    server = TollgateServer()
    try:
        server.start()
        a = server.admin
        env = a["environmentId"]
        t = token(server, env, a["clientId"], a["clientSecret"])
        assert revoke(server, env, t, a["clientId"], a["clientSecret"]).status_code == 200
        assert server.stop() == 0
        server.start()
        assert introspect(server, env, t, a["clientId"], a["clientSecret"]).json() == {"active": False}
        fresh = token(server, env, a["clientId"], a["clientSecret"])
        assert introspect(server, env, fresh, a["clientId"], a["clientSecret"]).json()["active"]
    finally:
        server.close()


def test_discovery_advertises_introspection_and_revocation(mgmt_server):  # noqa: F811
    env = mgmt_server.admin["environmentId"]
    doc = requests.get(f"{mgmt_server.base_url}/{env}/as/.well-known/openid-configuration",
                       timeout=30).json()
    issuer = f"{mgmt_server.base_url}/{env}/as"
    assert doc["introspection_endpoint"] == issuer + "/introspect"
    assert doc["revocation_endpoint"] == issuer + "/revoke"
    methods = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
               "tls_client_auth", "self_signed_tls_client_auth"]
    for endpoint in ("token", "introspection", "revocation"):
        assert doc[f"{endpoint}_endpoint_auth_methods_supported"] == methods
        assert "none" not in doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert {"HS256", "RS256", "PS256", "ES256", "EdDSA"} <= set(
            doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"])
