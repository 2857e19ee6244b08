"""A realistic deployment configured through /v1 with nothing but the admin credentials that
`tollgate init` prints (SPEC §6, §8), as an operator's automation would do it with Python
requests: two environments, three resources with scopes, five applications (SERVICE apps with
CLIENT_SECRET_BASIC and CLIENT_SECRET_POST, one with requestScopesForMultipleResourcesEnabled, a
WORKER with Environment Admin and a read-only WORKER) and their grants. Then every application
gets a token, verified by PyJWT against its environment's JWKS found through discovery (audience,
scope, issuer, lifetime), and each worker is checked to do what its role allows and nothing
more. The server runs with an explicit api-url, as behind a proxy, so the management-API audience
is not the listen address."""

import uuid

import jwt
import pytest
import requests

from tollgate_server import TollgateServer

API_URL = "https://api.deploy.example.test"
ORDERS = "https://orders.deploy.example.test"
BILLING = "https://billing.deploy.example.test"
INVENTORY = "https://inventory.deploy.example.test"


class Admin:
    """The operator's script: Bearer token from the init credentials, JSON in and out."""

    def __init__(self, base_url, env_id, client_id, secret):
        self.base = base_url
        self.env_id, self.client_id, self.secret = env_id, client_id, secret
        self.http = requests.Session()
        self.token = fetch_token(base_url, env_id, client_id, secret)["access_token"]

    def call(self, method, path, body=None, expect=200):
        resp = self.http.request(method, self.base + "/v1" + path, json=body, timeout=60,
                                 headers={"Authorization": "Bearer " + self.token})
        assert resp.status_code == expect, (method, path, resp.status_code, resp.text)
        if resp.status_code == 204:
            assert resp.content == b""
            return None
        assert resp.headers["Content-Type"].split(";")[0] == "application/json", resp.headers
        return resp.json()

    def create(self, path, body):
        obj = self.call("POST", path, body, expect=201)
        return obj


def fetch_token(base_url, env_id, client_id, secret, method="basic", **form):
    data = {"grant_type": "client_credentials", **form}
    if method == "basic":
        resp = requests.post(f"{base_url}/{env_id}/as/token", data=data,
                             auth=(client_id, secret), timeout=30)
    else:
        resp = requests.post(f"{base_url}/{env_id}/as/token", timeout=30,
                             data={**data, "client_id": client_id, "client_secret": secret})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer"
    return body


def verify(base_url, env_id, token, audience):
    """PyJWT against the JWKS that discovery names; returns the claims."""
    disc = requests.get(f"{base_url}/{env_id}/as/.well-known/openid-configuration",
                        timeout=30).json()
    issuer = f"{base_url}/{env_id}/as"
    assert disc["issuer"] == issuer
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    key = jwt.PyJWKClient(disc["jwks_uri"]).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=[header["alg"]], audience=audience,
                      issuer=issuer,
                      options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})


@pytest.fixture(scope="module")
def deployment():
    server = TollgateServer(init_args=["--api-url", API_URL], extra_args=["--api-url", API_URL])
    server.start()
    try:
        yield configure(server)
    finally:
        code = server.stop()
        server.tmp.cleanup()
        assert code == 0, server.logs()


def configure(server):
    init = server.admin
    admin = Admin(server.base_url, init["environmentId"], init["clientId"], init["clientSecret"])
    suffix = uuid.uuid4().hex[:6]
    roles = {r["name"]: r["id"] for r in admin.call("GET", "/roles")["_embedded"]["roles"]}

    prod = admin.create("/environments", {"name": f"Production {suffix}", "type": "PRODUCTION",
                                          "region": "EU", "description": "customer traffic"})
    staging = admin.create("/environments", {"name": f"Staging {suffix}", "type": "SANDBOX"})
    P, S = prod["id"], staging["id"]

    def resource(env, name, audience, seconds, scopes):
        body = {"name": name, "audience": audience}
        if seconds:
            body["accessTokenValiditySeconds"] = seconds
        res = admin.create(f"/environments/{env}/resources", body)
        made = {s: admin.create(f"/environments/{env}/resources/{res['id']}/scopes",
                                {"name": s, "description": s})["id"] for s in scopes}
        return {"id": res["id"], "audience": audience, "scopes": made}

    orders = resource(P, "Orders API", ORDERS, 900, ["orders:read", "orders:write"])
    billing = resource(P, "Billing API", BILLING, 1800, ["billing:read", "billing:charge"])
    inventory = resource(S, "Inventory API", INVENTORY, None, ["inventory:read",
                                                              "inventory:write"])

    def application(env, name, app_type="SERVICE", **extra):
        body = {"name": name, "enabled": True, "protocol": "OPENID_CONNECT", "type": app_type,
                "grantTypes": ["CLIENT_CREDENTIALS"], **extra}
        app = admin.create(f"/environments/{env}/applications", body)
        secret = admin.call("GET", f"/environments/{env}/applications/{app['id']}/secret")
        return {"id": app["id"], "env": env, "secret": secret["secret"], "object": app}

    def grant(app, res, scopes):
        admin.create(f"/environments/{app['env']}/applications/{app['id']}/grants",
                     {"resource": {"id": res["id"]},
                      "scopes": [{"id": res["scopes"][s]} for s in scopes]})

    def role(app, role_name, env):
        admin.create(f"/environments/{app['env']}/applications/{app['id']}/roleAssignments",
                     {"role": {"id": roles[role_name]},
                      "scope": {"id": env, "type": "ENVIRONMENT"}})

    apps = {
        "fulfilment": application(P, "Fulfilment service"),
        "stock-sync": application(S, "Stock sync", tokenEndpointAuthMethod="CLIENT_SECRET_POST"),
        "reporting": application(P, "Reporting", requestScopesForMultipleResourcesEnabled=True),
        "ops": application(P, "Ops automation", "WORKER"),
        "auditor": application(P, "Auditor", "WORKER"),
    }
    grant(apps["fulfilment"], orders, ["orders:read", "orders:write"])
    grant(apps["stock-sync"], inventory, ["inventory:read"])
    grant(apps["reporting"], orders, ["orders:read"])
    grant(apps["reporting"], billing, ["billing:read"])
    role(apps["ops"], "Environment Admin", P)
    role(apps["auditor"], "Configuration Read Only", P)
    return {"server": server, "admin": admin, "prod": P, "staging": S, "apps": apps,
            "resources": {"orders": orders, "billing": billing, "inventory": inventory}}


def test_the_configuration_reads_back(deployment):
    admin, P, S = deployment["admin"], deployment["prod"], deployment["staging"]
    envs = admin.call("GET", "/environments")
    assert envs["count"] == 3  # Administrators, Production, Staging
    assert {e["id"] for e in envs["_embedded"]["environments"]} == {
        admin.env_id, P, S}
    prod_apps = admin.call("GET", f"/environments/{P}/applications")
    assert prod_apps["count"] == 4 and prod_apps["size"] == 4, prod_apps
    staging_apps = admin.call("GET", f"/environments/{S}/applications")
    assert [a["name"] for a in staging_apps["_embedded"]["applications"]] == ["Stock sync"]
    custom = [r for r in admin.call("GET", f"/environments/{P}/resources")["_embedded"]["resources"]
              if r["type"] == "CUSTOM"]
    assert sorted(r["audience"] for r in custom) == [BILLING, ORDERS]
    pingone_api = [r for r in admin.call("GET", f"/environments/{P}/resources")["_embedded"][
        "resources"] if r["type"] == "PINGONE_API"]
    assert [r["audience"] for r in pingone_api] == [API_URL]
    reporting = deployment["apps"]["reporting"]
    grants = admin.call("GET", f"/environments/{P}/applications/{reporting['id']}/grants")
    assert grants["count"] == 2


def test_service_app_with_basic_auth(deployment):
    server, app = deployment["server"], deployment["apps"]["fulfilment"]
    body = fetch_token(server.base_url, app["env"], app["id"], app["secret"])
    claims = verify(server.base_url, app["env"], body["access_token"], ORDERS)
    assert claims["aud"] == [ORDERS]
    assert sorted(claims["scope"].split()) == ["orders:read", "orders:write"]
    assert claims["client_id"] == app["id"] and claims["env"] == app["env"]
    assert claims["exp"] - claims["iat"] == 900 == body["expires_in"]
    narrowed = fetch_token(server.base_url, app["env"], app["id"], app["secret"],
                           scope="orders:read")
    assert verify(server.base_url, app["env"], narrowed["access_token"],
                  ORDERS)["scope"] == "orders:read"


def test_service_app_with_post_auth_in_the_other_environment(deployment):
    server, app = deployment["server"], deployment["apps"]["stock-sync"]
    body = fetch_token(server.base_url, app["env"], app["id"], app["secret"], method="post")
    claims = verify(server.base_url, app["env"], body["access_token"], INVENTORY)
    assert claims["scope"] == "inventory:read"
    assert claims["exp"] - claims["iat"] == 3600
    # Its environment's keys are not Production's: the Production JWKS cannot verify it.
    prod_kids = {k["kid"] for k in requests.get(
        f"{server.base_url}/{deployment['prod']}/as/jwks", timeout=30).json()["keys"]}
    assert jwt.get_unverified_header(body["access_token"])["kid"] not in prod_kids
    # And it does not exist in Production.
    resp = requests.post(f"{server.base_url}/{deployment['prod']}/as/token", timeout=30,
                         data={"grant_type": "client_credentials", "client_id": app["id"],
                               "client_secret": app["secret"]})
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client", resp.text


def test_service_app_for_several_resources(deployment):
    server, app = deployment["server"], deployment["apps"]["reporting"]
    body = fetch_token(server.base_url, app["env"], app["id"], app["secret"])
    claims = verify(server.base_url, app["env"], body["access_token"], ORDERS)
    assert sorted(claims["aud"]) == sorted([ORDERS, BILLING])
    assert sorted(claims["scope"].split()) == ["billing:read", "orders:read"]
    assert claims["exp"] - claims["iat"] == 900  # the smaller lifetime
    only_billing = fetch_token(server.base_url, app["env"], app["id"], app["secret"],
                               scope="billing:read")
    claims = verify(server.base_url, app["env"], only_billing["access_token"], BILLING)
    assert claims["aud"] == [BILLING] and claims["exp"] - claims["iat"] == 1800


def test_environment_admin_worker(deployment):
    server, app = deployment["server"], deployment["apps"]["ops"]
    P, S = deployment["prod"], deployment["staging"]
    body = fetch_token(server.base_url, app["env"], app["id"], app["secret"])
    assert "scope" not in body
    claims = verify(server.base_url, app["env"], body["access_token"], API_URL)
    assert claims["aud"] == [API_URL] and "scope" not in claims
    ops = requests.Session()
    ops.headers["Authorization"] = "Bearer " + body["access_token"]
    made = ops.post(f"{server.base_url}/v1/environments/{P}/applications", timeout=30, json={
        "name": "Created by ops", "enabled": True, "protocol": "OPENID_CONNECT",
        "type": "SERVICE", "grantTypes": ["CLIENT_CREDENTIALS"]})
    assert made.status_code == 201, made.text
    assert made.headers["Location"].startswith(f"{server.base_url}/v1/environments/{P}/")
    gone = ops.delete(made.headers["Location"], timeout=30)
    assert gone.status_code == 204, gone.text
    other = ops.get(f"{server.base_url}/v1/environments/{S}/applications", timeout=30)
    assert other.status_code == 403 and other.json()["code"] == "ACCESS_FAILED", other.text
    new_env = ops.post(f"{server.base_url}/v1/environments", json={"name": "ops env"},
                       timeout=30)
    assert new_env.status_code == 403, new_env.text


def test_read_only_worker_can_list_but_not_write(deployment):
    server, app = deployment["server"], deployment["apps"]["auditor"]
    P = deployment["prod"]
    body = fetch_token(server.base_url, app["env"], app["id"], app["secret"])
    verify(server.base_url, app["env"], body["access_token"], API_URL)
    auditor = requests.Session()
    auditor.headers["Authorization"] = "Bearer " + body["access_token"]
    base = f"{server.base_url}/v1/environments/{P}"
    listed = auditor.get(base + "/applications", timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.json()["count"] == 4
    resources = auditor.get(base + "/resources", timeout=30)
    assert resources.status_code == 200 and resources.json()["count"] == 4, resources.text
    envs = auditor.get(f"{server.base_url}/v1/environments", timeout=30).json()
    assert [e["id"] for e in envs["_embedded"]["environments"]] == [P]
    write = auditor.post(base + "/applications", timeout=30, json={
        "name": "Not allowed", "enabled": True, "protocol": "OPENID_CONNECT",
        "type": "SERVICE", "grantTypes": ["CLIENT_CREDENTIALS"]})
    assert write.status_code == 403, write.text
    err = write.json()
    assert err["code"] == "ACCESS_FAILED"
    assert [d["code"] for d in err["details"]] == ["INSUFFICIENT_PERMISSIONS"], err
    fulfilment = deployment["apps"]["fulfilment"]
    secret = auditor.get(base + f"/applications/{fulfilment['id']}/secret", timeout=30)
    assert secret.status_code == 403, secret.text
    assert fulfilment["secret"] not in secret.text
    after = deployment["admin"].call("GET", f"/environments/{P}/applications")
    assert after["count"] == 4


def test_admin_token_audience_is_the_api_url(deployment):
    server, init = deployment["server"], deployment["server"].admin
    body = fetch_token(server.base_url, init["environmentId"], init["clientId"],
                       init["clientSecret"])
    claims = verify(server.base_url, init["environmentId"], body["access_token"], API_URL)
    assert claims["aud"] == [API_URL]
    assert claims["org"] == init["organizationId"]
