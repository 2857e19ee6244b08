"""Management writes as the token endpoint of the same node sees them on the very next request
(SPEC §7, §2.4, §6): grants and scopes, lifetimes and audiences, secret rotation, disabling and
deleting applications, cascading deletes of resources and environments."""

import datetime

import pytest
import requests

import mgmt_support
from mgmt_support import (APP_DEVELOPER, ENV_ADMIN, READ_ONLY, TIMESTAMP_RE, app_body, app_path,
                          apps_path, assign_role, create_app, create_env, create_grant,
                          create_resource, create_scope, create_service_with_resource,
                          create_worker, env_path, expect, expect_error, expect_forbidden,
                          expect_not_found, expect_unauthorized, oauth_error, resources_path,
                          token_claims, token_request, uniq)
from test_introspection_revocation import introspect

# One server per module (module-scoped fixtures).
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin


def in_rfc3339(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def env(admin):
    return create_env(admin)["id"]


def issuer(server, env_id):
    return f"{server.base_url}/{env_id}/as"


def test_new_resource_scopes_app_and_grant_give_a_token(admin, mgmt_server, env):
    aud = f"https://{uniq('orders')}.example.test"
    res, scopes, app, secret, _ = create_service_with_resource(
        admin, env, scopes=("orders:read", "orders:write"), audience=aud,
        accessTokenValiditySeconds=900)
    resp = token_request(mgmt_server, env, app["id"], secret)
    header, claims = token_claims(resp)
    assert claims["aud"] == [aud], claims
    assert set(claims["scope"].split()) == {"orders:read", "orders:write"}, claims
    assert claims["iss"] == issuer(mgmt_server, env)
    assert claims["client_id"] == app["id"] and claims["sub"] == app["id"]
    assert claims["env"] == env
    assert claims["exp"] - claims["iat"] == 900
    assert resp.json()["expires_in"] == 900
    assert set(resp.json()["scope"].split()) == {"orders:read", "orders:write"}
    # CLIENT_SECRET_POST would be the wrong method for this app (default BASIC).
    oauth_error(token_request(mgmt_server, env, app["id"], secret, method="post"), 401,
                "invalid_client")
    # A requested scope narrows the token.
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret,
                                           scope="orders:write"))
    assert claims["scope"] == "orders:write"


def test_post_method_app_authenticates_in_the_body(admin, mgmt_server, env):
    res = create_resource(admin, env)
    scope = create_scope(admin, env, res["id"], "p:read")
    app, secret = create_app(admin, env, tokenEndpointAuthMethod="CLIENT_SECRET_POST")
    create_grant(admin, env, app["id"], res["id"], [scope["id"]])
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret, method="post"))
    assert claims["scope"] == "p:read"
    oauth_error(token_request(mgmt_server, env, app["id"], secret), 401, "invalid_client")


def test_grant_changes_apply_at_once(admin, mgmt_server, env):
    res, scopes, app, secret, grant = create_service_with_resource(admin, env,
                                                                   scopes=("a", "b", "c"))
    grant_path = app_path(env, app["id"]) + "/grants/" + grant["id"]
    expect(admin.put(grant_path, {"resource": {"id": res["id"]},
                                  "scopes": [{"id": scopes["b"]["id"]}]}), 200)
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert claims["scope"] == "b", claims
    oauth_error(token_request(mgmt_server, env, app["id"], secret, scope="a"), 400,
                "invalid_scope")
    # A new scope of the resource is not granted until a grant names it.
    create_scope(admin, env, res["id"], "d")
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert claims["scope"] == "b", claims
    # Deleting a granted scope removes it from the next token.
    expect(admin.put(grant_path, {"resource": {"id": res["id"]},
                                  "scopes": [{"id": scopes["b"]["id"]},
                                             {"id": scopes["c"]["id"]}]}), 200)
    expect(admin.delete(f"{resources_path(env)}/{res['id']}/scopes/{scopes['b']['id']}"), 204)
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert claims["scope"] == "c", claims
    # Deleting the grant leaves the app with no custom resource.
    expect(admin.delete(grant_path), 204)
    body = oauth_error(token_request(mgmt_server, env, app["id"], secret), 400, "invalid_scope")
    assert "At least one scope must be granted" in body["error_description"], body


def test_resource_changes_apply_at_once(admin, mgmt_server, env):
    res, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("x:read",))
    new_aud = f"https://{uniq('moved')}.example.test"
    expect(admin.put(f"{resources_path(env)}/{res['id']}",
                     {"name": res["name"], "audience": new_aud,
                      "accessTokenValiditySeconds": 300}), 200)
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert claims["aud"] == [new_aud], claims
    assert claims["exp"] - claims["iat"] == 300, claims
    # PUT without the optional fields resets them: audience = name, lifetime 3600.
    expect(admin.put(f"{resources_path(env)}/{res['id']}", {"name": res["name"]}), 200)
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert claims["aud"] == [res["name"]], claims
    assert claims["exp"] - claims["iat"] == 3600, claims


def test_multiple_resources_flag_applies_at_once(admin, mgmt_server, env):
    r1, s1, app, secret, _ = create_service_with_resource(admin, env, scopes=("m1",),
                                                          accessTokenValiditySeconds=600)
    r2 = create_resource(admin, env, accessTokenValiditySeconds=1200)
    s2 = create_scope(admin, env, r2["id"], "m2")
    create_grant(admin, env, app["id"], r2["id"], [s2["id"]])
    body = oauth_error(token_request(mgmt_server, env, app["id"], secret), 400, "invalid_scope")
    assert "May not request scopes for multiple resources" in body["error_description"], body
    expect(admin.put(app_path(env, app["id"]),
                     app_body(app["name"], requestScopesForMultipleResourcesEnabled=True)), 200)
    _, claims = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert sorted(claims["aud"]) == sorted([r1["audience"], r2["audience"]]), claims
    assert set(claims["scope"].split()) == {"m1", "m2"}
    assert claims["exp"] - claims["iat"] == 600
    # PUT without the flag turns it off again.
    expect(admin.put(app_path(env, app["id"]), app_body(app["name"])), 200)
    oauth_error(token_request(mgmt_server, env, app["id"], secret), 400, "invalid_scope")


def test_include_x5t_applies_at_once(admin, mgmt_server, env):
    _, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("t",))
    header, _ = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert "x5t" not in header and header["typ"] == "at+jwt", header
    expect(admin.put(app_path(env, app["id"]), app_body(app["name"], includeX5t=True)), 200)
    header, _ = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert isinstance(header.get("x5t"), str) and header["x5t"], header
    # includeTyp is accepted, but typ is always sent (SPEC §6, §2.6).
    expect(admin.put(app_path(env, app["id"]), app_body(app["name"], includeTyp=False)), 200)
    header, _ = token_claims(token_request(mgmt_server, env, app["id"], secret))
    assert header["typ"] == "at+jwt" and "x5t" not in header, header


def test_secret_rotation_with_previous_keeps_the_old_secret(admin, mgmt_server, env):
    _, _, app, old, _ = create_service_with_resource(admin, env, scopes=("s",))
    secret_path = app_path(env, app["id"]) + "/secret"
    rotated = expect(admin.post(secret_path, {"previous": {"expiresAt": in_rfc3339(3600)}}), 200)
    new = rotated["secret"]
    assert rotated["previous"]["secret"] == old
    token_claims(token_request(mgmt_server, env, app["id"], new))
    token_claims(token_request(mgmt_server, env, app["id"], old))
    # DELETE /secret drops the previous one at once.
    expect(admin.delete(secret_path), 204)
    oauth_error(token_request(mgmt_server, env, app["id"], old), 401, "invalid_client")
    token_claims(token_request(mgmt_server, env, app["id"], new))


def test_secret_rotation_without_body_kills_the_old_secrets_at_once(admin, mgmt_server, env):
    _, _, app, first, _ = create_service_with_resource(admin, env, scopes=("s",))
    secret_path = app_path(env, app["id"]) + "/secret"
    second = expect(admin.post(secret_path, {"previous": {"expiresAt": in_rfc3339(3600)}}),
                    200)["secret"]
    token_claims(token_request(mgmt_server, env, app["id"], first))
    third = expect(admin.call("POST", secret_path), 200)["secret"]
    # Both the replaced secret and the earlier previous one stop working at once.
    oauth_error(token_request(mgmt_server, env, app["id"], second), 401, "invalid_client")
    oauth_error(token_request(mgmt_server, env, app["id"], first), 401, "invalid_client")
    token_claims(token_request(mgmt_server, env, app["id"], third))


def test_second_rotation_drops_the_older_previous(admin, mgmt_server, env):
    _, _, app, first, _ = create_service_with_resource(admin, env, scopes=("s",))
    secret_path = app_path(env, app["id"]) + "/secret"
    second = expect(admin.post(secret_path, {"previous": {"expiresAt": in_rfc3339(3600)}}),
                    200)["secret"]
    third = expect(admin.post(secret_path, {"previous": {"expiresAt": in_rfc3339(3600)}}),
                   200)["secret"]
    token_claims(token_request(mgmt_server, env, app["id"], third))
    token_claims(token_request(mgmt_server, env, app["id"], second))
    oauth_error(token_request(mgmt_server, env, app["id"], first), 401, "invalid_client")


def test_disabling_an_app_refuses_its_next_token(admin, mgmt_server, env):
    _, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("s",))
    token_claims(token_request(mgmt_server, env, app["id"], secret))
    expect(admin.put(app_path(env, app["id"]), app_body(app["name"], enabled=False)), 200)
    oauth_error(token_request(mgmt_server, env, app["id"], secret), 401, "invalid_client")
    expect(admin.put(app_path(env, app["id"]), app_body(app["name"], enabled=True)), 200)
    token_claims(token_request(mgmt_server, env, app["id"], secret))


def test_removing_client_credentials_gives_unauthorized_client(admin, mgmt_server, env):
    _, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("s",))
    expect(admin.put(app_path(env, app["id"]),
                     app_body(app["name"], grant_types=["AUTHORIZATION_CODE"],
                              type="WEB_APP")), 200)
    oauth_error(token_request(mgmt_server, env, app["id"], secret), 400, "unauthorized_client")


def test_changing_the_auth_method_applies_at_once(admin, mgmt_server, env):
    _, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("s",))
    expect(admin.put(app_path(env, app["id"]),
                     app_body(app["name"], tokenEndpointAuthMethod="CLIENT_SECRET_POST")), 200)
    body = oauth_error(token_request(mgmt_server, env, app["id"], secret), 401, "invalid_client")
    assert "Unsupported authentication method" in body["error_description"], body
    token_claims(token_request(mgmt_server, env, app["id"], secret, method="post"))


def test_deleting_an_app_refuses_its_next_token(admin, mgmt_server, env):
    _, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("s",))
    expect(admin.delete(app_path(env, app["id"])), 204)
    oauth_error(token_request(mgmt_server, env, app["id"], secret), 401, "invalid_client")


def test_deleting_a_resource_cascades_to_the_token(admin, mgmt_server, env):
    res, scopes, app, secret, grant = create_service_with_resource(admin, env,
                                                                   scopes=("c:read", "c:write"))
    token_claims(token_request(mgmt_server, env, app["id"], secret))
    expect(admin.delete(f"{resources_path(env)}/{res['id']}"), 204)
    for s in scopes.values():
        expect_not_found(admin.get(f"{resources_path(env)}/{res['id']}/scopes/{s['id']}"))
    expect_not_found(admin.get(app_path(env, app["id"]) + "/grants/" + grant["id"]))
    oauth_error(token_request(mgmt_server, env, app["id"], secret), 400, "invalid_scope")
    oauth_error(token_request(mgmt_server, env, app["id"], secret, scope="c:read"), 400,
                "invalid_scope")


def test_worker_created_through_the_api_gets_a_management_token(admin, mgmt_server, env):
    worker, secret = create_app(admin, env, type="WORKER")
    oauth_error(token_request(mgmt_server, env, worker["id"], secret), 400, "unauthorized_client")
    assign_role(admin, env, worker["id"], ENV_ADMIN, env)
    resp = token_request(mgmt_server, env, worker["id"], secret)
    _, claims = token_claims(resp)
    assert claims["aud"] == [mgmt_server.base_url], claims
    assert "scope" not in claims and "scope" not in resp.json(), claims
    assert claims["exp"] - claims["iat"] == 3600


def test_a_worker_turned_service_gets_no_management_token(admin, mgmt_server, env):
    worker, secret = create_app(admin, env, type="WORKER")
    assign_role(admin, env, worker["id"], ENV_ADMIN, env)
    token_claims(token_request(mgmt_server, env, worker["id"], secret))
    expect(admin.put(app_path(env, worker["id"]), app_body(worker["name"], type="SERVICE")), 200)
    oauth_error(token_request(mgmt_server, env, worker["id"], secret), 400, "invalid_scope")


def test_deleting_an_environment_removes_everything_in_it(admin, mgmt_server):
    e = create_env(admin)["id"]
    res, scopes, app, secret, _ = create_service_with_resource(admin, e, scopes=("z",))
    worker, wsecret = create_app(admin, e, type="WORKER")
    assign_role(admin, e, worker["id"], ENV_ADMIN, e)
    token_claims(token_request(mgmt_server, e, app["id"], secret))
    worker_token = token_request(mgmt_server, e, worker["id"], wsecret).json()["access_token"]
    expect(admin.get(apps_path(e), token=worker_token), 200)

    expect(admin.delete(env_path(e)), 204)
    # The auth surface of the environment is gone...
    resp = token_request(mgmt_server, e, app["id"], secret)
    assert resp.status_code == 404, resp.text
    assert resp.headers["Content-Type"].split(";")[0] == "application/json"
    assert resp.json()["code"] == "NOT_FOUND", resp.text
    for suffix in ("jwks", ".well-known/openid-configuration"):
        r = requests.get(f"{mgmt_server.base_url}/{e}/as/{suffix}", timeout=30)
        assert r.status_code == 404, (suffix, r.text)
    # ...and so is everything under it in /v1.
    for path in (env_path(e), apps_path(e), app_path(e, app["id"]), resources_path(e),
                 f"{resources_path(e)}/{res['id']}", f"/environments/{e}/keys"):
        expect_not_found(admin.get(path))
    # Its workers' tokens no longer open the management API.
    resp = admin.get("/environments", token=worker_token)
    assert resp.status_code == 401, resp.text
    assert resp.json()["code"] == "ACCESS_FAILED"
    assert e not in admin.ids("/environments", "environments")


def test_configuration_survives_a_restart():
    """SPEC §7: every management write is durable when its response is sent."""
    from mgmt_support import Api
    from tollgate_server import TollgateServer
    server = TollgateServer()
    try:
        server.start()
        api = Api(server)
        e = create_env(api)["id"]
        res, scopes, app, secret, grant = create_service_with_resource(
            api, e, scopes=("d:read",), accessTokenValiditySeconds=600)
        rotated = expect(api.post(app_path(e, app["id"]) + "/secret",
                                  {"previous": {"expiresAt": in_rfc3339(3600)}}), 200)
        key = api.create(f"/environments/{e}/keys", {"algorithm": "EC", "default": True})
        before = {path: expect(api.get(path), 200) for path in (
            env_path(e), app_path(e, app["id"]), f"{resources_path(e)}/{res['id']}",
            app_path(e, app["id"]) + "/grants", app_path(e, app["id"]) + "/secret",
            f"/environments/{e}/keys")}
        assert server.stop() == 0, server.logs()

        server.start()
        api = Api(server)
        for path, body in before.items():
            after = expect(api.get(path), 200)
            assert json_without_links(after) == json_without_links(body), path
        header, claims = token_claims(token_request(server, e, app["id"], rotated["secret"]))
        assert header["kid"] == key["id"] and header["alg"] == "ES256", header
        assert claims["scope"] == "d:read" and claims["exp"] - claims["iat"] == 600
        token_claims(token_request(server, e, app["id"], secret))  # the previous secret too
    finally:
        server.close()


def json_without_links(value):
    """Links carry the port, which changes with the restart."""
    if isinstance(value, dict):
        return {k: json_without_links(v) for k, v in value.items() if k != "_links"}
    if isinstance(value, list):
        return [json_without_links(v) for v in value]
    return value


def test_deleting_an_environment_removes_the_roles_that_reach_it(admin, mgmt_server, env):
    """A worker living in `env` whose only role is on the deleted environment loses it."""
    doomed = create_env(admin)["id"]
    worker, secret = create_app(admin, env, type="WORKER")
    assign_role(admin, env, worker["id"], ENV_ADMIN, doomed)
    token = token_request(mgmt_server, env, worker["id"], secret).json()["access_token"]
    expect(admin.get(apps_path(doomed), token=token), 200)
    expect(admin.delete(env_path(doomed)), 204)
    assert admin.items(app_path(env, worker["id"]) + "/roleAssignments", "roleAssignments") == []
    assert expect(admin.get("/environments", token=token), 200)["count"] == 0
    oauth_error(token_request(mgmt_server, env, worker["id"], secret), 400, "unauthorized_client")


def revoke_tokens(api, env_id, app_id, **kw):
    return api.post(app_path(env_id, app_id) + "/revokeTokens", **kw)


def test_revoke_tokens_kills_every_earlier_token_and_no_later_one(admin, mgmt_server, env):
    _, _, app, secret, _ = create_service_with_resource(admin, env, scopes=("s",))
    old = [token_request(mgmt_server, env, app["id"], secret).json()["access_token"]
           for _ in range(3)]
    for t in old:
        assert introspect(mgmt_server, env, t, app["id"], secret).json()["active"] is True
    body = expect(revoke_tokens(admin, env, app["id"]), 200)
    assert body["application"] == {"id": app["id"]}, body
    assert TIMESTAMP_RE.match(body["tokensNotBefore"]), body
    for t in old:
        assert introspect(mgmt_server, env, t, app["id"], secret).json() == {"active": False}
    # A token issued after the answer is live, and the client's credentials still work.
    new = token_request(mgmt_server, env, app["id"], secret).json()["access_token"]
    assert introspect(mgmt_server, env, new, app["id"], secret).json()["active"] is True
    # An empty JSON object is accepted as the body too; the instant only moves forward.
    again = expect(revoke_tokens(admin, env, app["id"], body={}), 200)
    assert again["tokensNotBefore"] > body["tokensNotBefore"], (body, again)
    assert introspect(mgmt_server, env, new, app["id"], secret).json() == {"active": False}


def test_revoke_tokens_of_a_worker_cuts_off_its_management_token(admin, mgmt_server, env):
    worker, secret, caller = create_worker(admin, env, [(ENV_ADMIN, env)])
    expect(caller.get(env_path(env)), 200)
    expect(revoke_tokens(admin, env, worker["id"]), 200)
    expect_unauthorized(caller.get(env_path(env)))
    caller.refresh()
    expect(caller.get(env_path(env)), 200)


def test_revoke_tokens_is_refused_to_who_may_not_control_the_app(admin, mgmt_server, env):
    _, _, developer = create_worker(admin, env, [(APP_DEVELOPER, env)])
    _, _, reader = create_worker(admin, env, [(READ_ONLY, env)])
    target, target_secret, _ = create_worker(admin, env, [(ENV_ADMIN, env)])
    _, _, service, service_secret, _ = create_service_with_resource(admin, env, scopes=("s",))
    token = token_request(mgmt_server, env, target["id"], target_secret).json()["access_token"]
    # A developer controls no application holding roles; a read-only caller controls none.
    expect_forbidden(revoke_tokens(developer, env, target["id"]))
    expect_forbidden(revoke_tokens(reader, env, service["id"]))
    assert introspect(mgmt_server, env, token, target["id"], target_secret).json()["active"]
    expect(revoke_tokens(developer, env, service["id"]), 200)
    # Unknown application, wrong method, a body that is not JSON.
    expect_not_found(revoke_tokens(admin, env, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"))
    resp = admin.get(app_path(env, service["id"]) + "/revokeTokens")
    expect_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert resp.headers["Allow"] == "POST"
    expect_error(revoke_tokens(admin, env, service["id"], data=b"{",
                               headers={"Content-Type": "application/json"}),
                 400, "INVALID_REQUEST")
