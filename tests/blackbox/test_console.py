"""The admin console (/console/, docs/console.md) in a real browser: Debian's chromium, headless,
driven by the npm puppeteer-core (node/console_driver.mjs), against the real binary.

The driver signs in with the Token Admin App's credentials (after a refused attempt with a wrong
secret), creates an application, a resource and a scope, grants the scope to the application,
reveals then rotates the application's secret, reads the application's activities (all, then
only SECRET.UPDATED), lists the keys, creates an EC key, makes it the default, gives the default
back and revokes it, creates and renames an environment, and signs out, with a
screenshot after each step in the test's tmp folder. This test then checks, against the server
itself (the management API, the token endpoint, PyJWT against the JWKS), that the page did what
it showed: the objects exist as made, the rotated secret is the one that works, the activities
the page listed are the server's. And in the browser: no console error but the refused sign-in's
401, no page error, no CSP violation (with a self-check that a violation would have been seen),
only same-origin requests, and the token never in localStorage, sessionStorage, a cookie or the
DOM. Every wait of the driver has a deadline; none is a fixed sleep."""

import json
import os
import signal
import subprocess
import uuid

import jwt
import pytest
import requests

from reference_examples import child_env, verify_admin_token
from tollgate_server import DENIED, UUID_RE, basic, serving

API_URL = "https://api.console.example.test"
CHROMIUM = "/usr/bin/chromium"
CONSOLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "console")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
# Each wait of the driver (launch, load, an element, a response, a screenshot), and the whole
# driver run, beyond which its process group is killed.
BROWSER_TIMEOUT_MS = 30000
DRIVER_TIMEOUT_S = 300

STEPS = ["signin-page", "signin-refused", "signed-in", "application-created",
         "resource-and-scope", "grant", "secret-revealed", "secret-rotated",
         "application-edited", "worker-role-assigned", "worker-deleted", "activities",
         "activities-filtered", "keys", "key-default", "key-revoked", "environment",
         "signed-out"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def server():
    with serving(init_args=["--api-url", API_URL], extra_args=["--api-url", API_URL]) as s:
        yield s


class Admin:
    """The Token Admin App on /v1, straight from Python (what the page did, seen by the API)."""

    def __init__(self, server):
        self.server = server
        resp = requests.post(server.token_url(), data={"grant_type": "client_credentials"},
                             auth=(server.admin["clientId"], server.admin["clientSecret"]),
                             timeout=30)
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]

    def get(self, path, **params):
        resp = requests.get(f"{self.server.base_url}/v1{path}", params=params, timeout=30,
                            headers={"Authorization": "Bearer " + self.token})
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json()

    def items(self, path, collection, **params):
        return self.get(path, **params)["_embedded"][collection]


def run_driver(node_work, tmp_path, config):
    """Runs node/console_driver.mjs; returns its report. The driver and the browser it starts run
    in a process group of their own, killed if the driver overruns its deadline."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is required (scripts/install-deps.sh test installs chromium)")
    path = tmp_path / "console.json"
    path.write_text(json.dumps(config))
    env = child_env()
    env["HOME"] = str(tmp_path)
    proc = subprocess.Popen(["node", os.path.join(node_work, "console_driver.mjs"), str(path)],
                            cwd=node_work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=DRIVER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the console driver overran {DRIVER_TIMEOUT_S} s; stderr:\n{err}")
    finally:
        # Whatever of the group outlives the driver (it closes the browser itself).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, (proc.returncode, out, err)
    return json.loads(out)


def check_served_files(server):
    """The binary serves this tree's console/ files, with the CSP the page is written for."""
    names = sorted(os.listdir(CONSOLE_DIR))
    assert {"index.html", "console.js", "console.css"} <= set(names), names
    types = {"html": "text/html", "js": "text/javascript", "css": "text/css"}
    for name in names:
        resp = requests.get(server.url(f"/console/{name}"), timeout=30)
        assert resp.status_code == 200, (
            f"/console/{name}: {resp.status_code}; does the binary embed this tree's console/?")
        with open(os.path.join(CONSOLE_DIR, name), "rb") as f:
            assert resp.content == f.read(), (
                f"/console/{name} is not this tree's console/{name}: rebuild the binary")
        assert resp.headers["Content-Security-Policy"] == CSP, resp.headers
        assert resp.headers["X-Content-Type-Options"] == "nosniff", resp.headers
        kind = types.get(name.rsplit(".", 1)[-1])
        if kind:
            assert resp.headers["Content-Type"].split(";")[0] == kind, (name, resp.headers)
    index = requests.get(server.url("/console/"), timeout=30)
    assert index.status_code == 200
    with open(os.path.join(CONSOLE_DIR, "index.html"), "rb") as f:
        assert index.content == f.read()
    # The page loads nothing from elsewhere and runs no inline script, handler or style.
    html = index.text.lower()
    for banned in ("<script>", " onclick=", " onload=", " onsubmit=", " style=", "<style",
                   "http://", "https://", "javascript:"):
        assert banned not in html, banned


def failure(report, what):
    return (f"{what}\nfailed step: {report['failedStep']}\nerror: {report['error']}\n"
            f"console: {report['console']}\npage errors: {report['pageErrors']}\n"
            f"csp: {report['csp']}\nscreenshots: {report['screenshots']}")


def drive(server, node_work, tmp_path, scenario, names=None):
    """Runs one scenario of the driver on the server's console; returns its report, once the
    scenario has run to its end."""
    report = run_driver(node_work, tmp_path, {
        "scenario": scenario, "url": server.url("/console/"), "tokenUrl": server.token_url(),
        "envId": server.env_id, "clientId": server.admin["clientId"],
        "clientSecret": server.admin["clientSecret"], "names": names or {},
        "outDir": str(tmp_path / "screenshots"),
        "userDataDir": str(tmp_path / "chromium-profile"), "timeoutMs": BROWSER_TIMEOUT_MS,
        "executablePath": CHROMIUM})
    assert report["error"] is None, failure(report, f"the console's {scenario} scenario failed")
    return report


def check_screenshots(report, tmp_path, steps):
    """Every step ran and left its screenshot, a PNG that is not empty, in the test's folder."""
    assert [s["name"] for s in report["steps"]] == steps, report["steps"]
    shots = tmp_path / "screenshots"
    expected = [str(shots / f"{i:02d}-{name}.png") for i, name in enumerate(steps, 1)]
    assert report["screenshots"] == expected, report["screenshots"]
    for path in expected:
        with open(path, "rb") as f:
            data = f.read()
        assert len(data) > 1000 and data.startswith(PNG), path


def check_browser(server, report, expected_error):
    """Nothing went wrong in the page, nothing was refused by its CSP (and a violation would
    have been seen), nothing left its origin. The one console error allowed is Chromium's note
    of the failed request the scenario provokes (`expected_error(url)` says which), a network
    event rather than the page's: anything else (a CSP refusal, an exception, another failed
    request) fails here."""
    assert report["pageErrors"] == [], report["pageErrors"]
    assert report["csp"] == [], report["csp"]
    check = report["cspSelfCheck"]
    assert check is not None and check["violations"], check  # the listener does see violations
    assert check["violations"][0]["directive"].startswith("script-src"), check
    assert check["inlineRan"] is False, check
    errors = [m for m in report["console"] if m["type"] == "error"]
    assert len(errors) == 1, report["console"]
    assert expected_error(errors[0]["location"]["url"]) and "401" in errors[0]["text"], errors
    assert not [m for m in report["console"] if "Content Security Policy" in m["text"]]
    requested = [r["url"] for r in report["requests"] if not r["url"].startswith("data:")]
    assert requested and all(u.startswith(server.base_url + "/") for u in requested), requested
    assert not [r for r in report["requests"] if "failed" in r], report["requests"]
    v = report["values"]
    assert v["pageStatus"] == 200
    assert v["pageHeaders"]["content-security-policy"] == CSP, v["pageHeaders"]


def check_token_kept_in_memory(server, report, labels):
    """The token the page got is the server's (PyJWT against the JWKS) and, at each of `labels`,
    in no storage of the page (localStorage, sessionStorage, cookies) nor in its DOM; neither is
    the client secret."""
    assert len(report["tokens"]) == 1, report["tokens"]
    token = report["tokens"][0]
    assert isinstance(token, str) and token.startswith("eyJ"), token
    verify_admin_token(server, token)
    for label in labels:
        seen = report["storage"][label]
        assert seen["localStorage"] == {} and seen["sessionStorage"] == {}, (label, seen)
        assert seen["documentCookie"] == "" and seen["cookies"] == [], (label, seen)
        assert token not in seen["html"], label
        assert server.admin["clientSecret"] not in seen["html"], label
    assert report["values"]["secretFieldAfterSignIn"] == ""  # the secret left the page
    return token


def test_console_signs_in_creates_grants_rotates_and_audits(server, node_work, tmp_path):
    check_served_files(server)
    admin = Admin(server)
    suffix = uuid.uuid4().hex[:8]
    # Markup in a name and a description: the page must show it as text.
    names = {"app": f"console-app-{suffix} <img src=x> <b>&amp;</b>", "resource": f"console-res-{suffix}",
             "audience": f"https://console-{suffix}.example.test", "scope": "console:read",
             "description": f"Made in the console <b>{suffix}</b> & kept as text",
             "worker": f"console-worker-{suffix}",
             "env": f"console-env-{suffix}", "envRenamed": f"console-env-{suffix}-renamed"}
    token_url = server.token_url()
    report = drive(server, node_work, tmp_path, "full", names)
    v = report["values"]
    # The application's activities as the server has them now (before this test adds any).
    server_side = admin.items(f"/environments/{server.env_id}/activities", "activities",
                              filter=f'resources.id eq "{v["appId"]}"')

    check_screenshots(report, tmp_path, STEPS)
    # The one console error: the refused sign-in's 401.
    check_browser(server, report, lambda url: url == token_url)
    api_calls = [r for r in report["responses"] if "/v1/" in r["url"]]
    assert api_calls and all(r["status"] < 400 for r in api_calls), api_calls

    # -- signing in: the refusal's error_description shown, then the token kept in memory only
    assert v["mainHiddenAtStart"] is True and v["mainHiddenAfterRefusal"] is True, v
    assert v["refusedStatus"] == 401, v
    assert v["signinError"].startswith(DENIED), v["signinError"]
    assert "Correlation ID" in v["signinError"], v["signinError"]
    assert v["signinStatus"] == 200
    check_token_kept_in_memory(server, report, ("afterSignIn", "beforeSignOut", "afterSignOut"))
    assert v["environments"] == [{"id": server.env_id, "name": "Administrators"}], v
    assert server.admin["clientId"] in [a["id"] for a in v["applicationsAtStart"]]

    # -- the application, as the API sees it
    app_id = v["appId"]
    assert UUID_RE.match(app_id) and v["appDetailId"] == app_id, v
    assert v["injectedAfterCreate"] == 0 and v["injectedInActivities"] == 0, v
    app = admin.get(f"/environments/{server.env_id}/applications/{app_id}")
    assert app["name"] == names["app"] and app["type"] == "SERVICE" and v["appType"] == "SERVICE"
    assert app["enabled"] is True and app["protocol"] == "OPENID_CONNECT", app
    assert app["grantTypes"] == ["CLIENT_CREDENTIALS"], app
    assert app["tokenEndpointAuthMethod"] == "CLIENT_SECRET_BASIC", app

    # -- its description changed by a PUT of the whole object: nothing else changed
    assert v["updateStatus"] == 200, v
    assert app["description"] == names["description"] == v["descriptionShown"], app
    assert v["enabledShown"] is True

    # -- the worker: created, given a role, the role removed, deleted
    worker_id = v["workerId"]
    assert UUID_RE.match(worker_id) and worker_id != app_id, v
    assert [r["roleId"] for r in v["roleRows"]] == [v["roleId"]], v["roleRows"]
    assert "Environment Admin" in v["roleRows"][0]["text"], v["roleRows"]
    roles = admin.items("/roles", "roles")
    assert {r["name"]: r["id"] for r in roles}["Environment Admin"] == v["roleId"], roles
    gone = requests.get(f"{server.base_url}/v1/environments/{server.env_id}/applications/"
                        f"{worker_id}", headers={"Authorization": "Bearer " + admin.token},
                        timeout=30)
    assert gone.status_code == 404, gone.text
    worker_activities = admin.items(f"/environments/{server.env_id}/activities", "activities",
                                    filter=f'resources.id eq "{worker_id}"')
    assert [(a["action"]["type"], a["result"]["status"]) for a in worker_activities] == [
        ("APPLICATION.CREATED", "SUCCESS"), ("ROLE_ASSIGNMENT.CREATED", "SUCCESS"),
        ("ROLE_ASSIGNMENT.DELETED", "SUCCESS"), ("APPLICATION.DELETED", "SUCCESS")], \
        worker_activities

    # -- the resource, its scope, and the grant
    res_path = f"/environments/{server.env_id}/resources/{v['resourceId']}"
    resource = admin.get(res_path)
    assert resource["name"] == names["resource"] and resource["type"] == "CUSTOM", resource
    assert resource["audience"] == names["audience"] == v["resourceAudience"], resource
    scopes = admin.items(res_path + "/scopes", "scopes")
    assert [(s["id"], s["name"]) for s in scopes] == [(v["scopeId"], names["scope"])], scopes
    grants = admin.items(f"/environments/{server.env_id}/applications/{app_id}/grants", "grants")
    assert len(grants) == 1, grants
    assert grants[0]["resource"] == {"id": v["resourceId"]}, grants
    assert grants[0]["scopes"] == [{"id": v["scopeId"]}], grants
    assert [(g["id"], g["resourceId"], g["scopes"]) for g in v["grants"]] == \
        [(grants[0]["id"], v["resourceId"], names["scope"])], v["grants"]
    assert v["appOpenAgain"] == app_id

    # -- the secret: revealed, rotated; the new one works, the old one no longer does
    old, new = v["secretRevealed"], v["secretRotated"]
    assert v["rotationStatus"] == 200 and v["rotateConfirmText"], v
    assert old != new, (old, new)
    for secret in (old, new):
        assert len(secret) == 64 and all(c.isalnum() or c in "-._~" for c in secret), secret
    resp = requests.post(token_url, timeout=30,
                         data={"grant_type": "client_credentials", "scope": names["scope"]},
                         headers={"Authorization": basic(app_id, new),
                                  "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200, resp.text
    issued = resp.json()["access_token"]
    header = jwt.get_unverified_header(issued)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256", header
    key = jwt.PyJWKClient(f"{server.issuer}/jwks").get_signing_key_from_jwt(issued)
    claims = jwt.decode(issued, key.key, algorithms=["RS256"], audience=names["audience"],
                        issuer=server.issuer,
                        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})
    assert claims["client_id"] == app_id and claims["scope"] == names["scope"], claims
    refused = requests.post(token_url, timeout=30, data={"grant_type": "client_credentials"},
                            headers={"Authorization": basic(app_id, old),
                                     "Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", \
        refused.text

    # -- the activities the page listed: the application's, newest first, the server's own
    rows = v["activities"]
    types = [r["actionType"] for r in rows]
    for wanted in ("APPLICATION.CREATED", "GRANT.CREATED", "SECRET.UPDATED",
                   "APPLICATION.UPDATED"):
        assert types.count(wanted) == 1, (wanted, types)
    assert types.index("APPLICATION.UPDATED") < types.index("SECRET.UPDATED") < \
        types.index("GRANT.CREATED") < types.index("APPLICATION.CREATED"), types
    assert all(r["result"] == "SUCCESS" and app_id in r["resourceIds"] for r in rows), rows
    assert names["app"] in rows[types.index("APPLICATION.CREATED")]["text"], rows
    assert "Token Admin App" in rows[0]["text"], rows
    assert [r["id"] for r in rows] == [a["id"] for a in reversed(server_side)], (rows, server_side)
    assert v["activityFilter"] == \
        f'action.type eq "SECRET.UPDATED" and resources.id eq "{app_id}"', v["activityFilter"]
    filtered = v["activitiesFiltered"]
    assert [r["actionType"] for r in filtered] == ["SECRET.UPDATED"], filtered
    assert filtered[0]["id"] == rows[types.index("SECRET.UPDATED")]["id"], filtered

    # -- keys: the environment's, with its default
    created = v["keyCreated"]
    keys = [k for k in admin.items(f"/environments/{server.env_id}/keys", "keys")
            if k["id"] != created]
    assert sorted(k["id"] for k in v["keys"]) == sorted(k["id"] for k in keys), (v["keys"], keys)
    default = [k["id"] for k in keys if k["default"]]
    assert [k["id"] for k in v["keys"] if k["default"]] == default, v["keys"]
    assert header["kid"] == default[0]
    # created in the page, made the default (the next token is signed with it), then the default
    # given back and the key revoked: out of the JWKS, the environment signing as before
    assert [k["id"] for k in v["keysWithNewDefault"] if k["default"]] == [created], v
    after = {k["id"]: k for k in admin.items(f"/environments/{server.env_id}/keys", "keys")}
    assert after[created]["algorithm"] == "EC" and after[created]["status"] == "REVOKED", after
    assert [i for i, k in after.items() if k["default"]] == default, after
    assert {k["id"]: (k["default"], k["status"]) for k in v["keysAfter"]} == \
        {i: (k["default"], k["status"]) for i, k in after.items()}, (v["keysAfter"], after)
    jwks = requests.get(server.url(f"/{server.env_id}/as/jwks"), timeout=30).json()["keys"]
    assert created not in {k["kid"] for k in jwks} and default[0] in {k["kid"] for k in jwks}
    key_activities = admin.items(f"/environments/{server.env_id}/activities", "activities",
                                 filter=f'resources.id eq "{created}"')
    assert [a["action"]["type"] for a in key_activities] == \
        ["KEY.CREATED", "KEY.UPDATED", "KEY.UPDATED"], key_activities

    # -- the environment created, then renamed
    assert v["newEnvId"] == v["renamedEnvId"] and UUID_RE.match(v["newEnvId"]), v
    env = admin.get(f"/environments/{v['newEnvId']}")
    assert env["name"] == names["envRenamed"] and env["type"] == "SANDBOX", env
    assert {e["id"]: e["name"] for e in v["environmentsAfter"]} == \
        {server.env_id: "Administrators", v["newEnvId"]: names["envRenamed"]}, v

    # -- signed out: nothing of the session left on the page
    assert v["afterSignOut"] == {"mainHidden": True, "envItems": 0, "appRows": 0, "secret": ""}


def test_console_returns_to_sign_in_when_its_token_is_revoked(server, node_work, tmp_path):
    """Every token of the signed-in application is revoked behind the page's back (POST
    .../revokeTokens): the page's next /v1 call is answered 401 and the sign-in form is back,
    saying why, with nothing of the session left on the page."""
    check_served_files(server)
    report = drive(server, node_work, tmp_path, "revoked")
    v = report["values"]
    check_screenshots(report, tmp_path, ["signin-page", "signed-in", "token-revoked"])
    resources = f"{server.base_url}/v1/environments/{server.env_id}/resources"
    check_browser(server, report, lambda url: url == resources)
    assert v["revokeStatus"] == 200, v
    assert v["revokeBody"]["application"] == {"id": server.admin["clientId"]}, v
    assert v["refusedApiStatus"] == 401, v
    assert v["signinMessage"].startswith("Signed out: the management API answered 401"), v
    assert v["afterRevoked"] == {"mainHidden": True, "envItems": 0, "appRows": 0}, v
    check_token_kept_in_memory(server, report, ("afterSignIn", "afterRevoked"))
    refused = [r for r in report["responses"] if "/v1/" in r["url"] and r["status"] >= 400]
    assert [(r["url"], r["status"]) for r in refused] == [(resources, 401)], refused
