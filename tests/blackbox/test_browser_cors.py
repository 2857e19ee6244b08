"""The reference page's jQuery example, unchanged but for its placeholders, in a real browser
(Debian's chromium, headless, driven by the npm puppeteer-core; node/browser_example.mjs) on a
page of ANOTHER origin than the server: a small page served by a Python http.server on its own
free port of 127.0.0.1, loading the npm jquery. The example's `$.ajax` is then a cross-origin
call with an Authorization header, so the browser sends a CORS preflight first, and the token
endpoint answers it according to the applications' corsSettings (PingOne's optional
`corsSettings: {"behavior": "ALLOW_NO_ORIGINS" | "ALLOW_SPECIFIC_ORIGINS", "origins": [...]}`,
set through the management API):

- the Token Admin App's corsSettings list the page's origin: the example logs the token response
  (console.log of the parsed JSON, read from the browser console), verified by PyJWT;
- no corsSettings (or ALLOW_NO_ORIGINS, or only another origin): the browser refuses the call
  (the harness sees jQuery's ajaxError with status 0 and Chromium logs a CORS error), and no
  token is logged.

The example's script is not touched: a separate script before it reports jQuery's global ajax
events to the console (and onto the page, for the screenshot each test saves in its tmp
folder), which is how the driver knows the call is over. Every wait has a deadline."""

import http.server
import json
import os
import signal
import subprocess
import threading
import urllib.parse

import pytest
import requests

from reference_examples import (check_documented_response, child_env, fenced_blocks, page_text,
                                substitute, verify_admin_token)
from tollgate_server import serving

API_URL = "https://api.browser.example.test"
CHROMIUM = "/usr/bin/chromium"
# Each of the driver's waits (launch, load, the example's call, console values, screenshot; its
# closing of the browser has 10 s), and the whole driver run, beyond which it is killed.
BROWSER_TIMEOUT_MS = 30000
DRIVER_TIMEOUT_S = 5 * BROWSER_TIMEOUT_MS / 1000 + 40

HARNESS = r"""
// Test harness, not the example: reports jQuery's global ajax events to the console (read by
// the driver) and onto the page (for the screenshot).
(function () {
  function report(event, jqXHR, extra) {
    var r = {event: event, status: jqXHR.status, statusText: jqXHR.statusText,
             readyState: jqXHR.readyState};
    for (var k in extra) { r[k] = extra[k]; }
    console.info("tollgate-harness " + JSON.stringify(r));
    document.getElementById("outcome").textContent +=
        "\n" + event + ": status " + jqXHR.status + " " + (jqXHR.statusText || "");
  }
  document.getElementById("origin").textContent = location.origin;
  $(document).on("ajaxSuccess", function (e, jqXHR) {
    var body = jqXHR.responseJSON || {};
    report("ajaxSuccess", jqXHR, {tokenType: body.token_type, expiresIn: body.expires_in});
  });
  $(document).on("ajaxError", function (e, jqXHR, settings, thrown) {
    report("ajaxError", jqXHR, {thrown: String(thrown)});
  });
  $(document).on("ajaxComplete", function (e, jqXHR) { report("ajaxComplete", jqXHR, {}); });
})();
"""

PAGE = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>Token Admin App (client_credentials): the jQuery example</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>The reference page's jQuery example</h1>
<p>This page: <code id="origin"></code><br>Token endpoint: <code>@TOKEN_URL@</code></p>
<pre id="outcome">The example's $.ajax:</pre>
<script src="/jquery.js"></script>
<script>@HARNESS@</script>
<script>
@EXAMPLE@</script>
</body>
</html>
"""


def jquery_block():
    blocks = [b for b in fenced_blocks(page_text(), "javascript") if "$.ajax" in b]
    assert len(blocks) == 1, blocks
    return blocks[0]


def example_page(server):
    example = substitute(jquery_block(), server)
    assert "</script" not in example.lower()
    html = (PAGE.replace("@TOKEN_URL@", server.token_url()).replace("@HARNESS@", HARNESS)
            .replace("@EXAMPLE@", example))
    assert html.count(example) == 1
    return html


class PageServer:
    """The page's origin: a Python http.server on a free port of 127.0.0.1, in a thread, serving
    exactly `routes` ({path: (content type, bytes)}) and recording the paths asked for."""

    def __init__(self, routes):
        self.requested = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requested.append(self.path)
                if self.path not in routes:
                    self.send_error(404)
                    return
                content_type, body = routes[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def server():
    with serving(init_args=["--api-url", API_URL], extra_args=["--api-url", API_URL]) as s:
        yield s


@pytest.fixture
def page(server, node_work):
    jquery = os.path.join(node_work, "node_modules", "jquery", "dist", "jquery.js")
    assert os.path.isfile(jquery), jquery
    with open(jquery, "rb") as f:
        jquery_js = f.read()
    routes = {"/": ("text/html; charset=utf-8", example_page(server).encode()),
              "/jquery.js": ("text/javascript; charset=utf-8", jquery_js)}
    with PageServer(routes) as p:
        assert urllib.parse.urlsplit(p.origin).port != urllib.parse.urlsplit(server.base_url).port
        yield p


def admin_call(server, method, path, body=None):
    token = requests.post(server.token_url(), data={"grant_type": "client_credentials"},
                          auth=(server.admin["clientId"], server.admin["clientSecret"]),
                          timeout=30)
    assert token.status_code == 200, token.text
    resp = requests.request(method, f"{server.base_url}/v1{path}", json=body, timeout=30,
                            headers={"Authorization": "Bearer " + token.json()["access_token"]})
    assert resp.status_code == 200, (method, path, resp.status_code, resp.text)
    return resp.json()


def admin_app_path(server):
    return f"/environments/{server.env_id}/applications/{server.admin['clientId']}"


def set_admin_cors(server, cors_settings):
    """PUTs the Token Admin App's full body with these corsSettings; returns the answer."""
    app = admin_call(server, "GET", admin_app_path(server))
    assert app["name"] == "Token Admin App", app
    body = {k: v for k, v in app.items() if k != "_links"}
    body["corsSettings"] = cors_settings
    return admin_call(server, "PUT", admin_app_path(server), body)


def run_browser(node_work, url, tmp_path):
    """Runs node/browser_example.mjs on `url`; returns its report. The driver and the browser it
    starts run in a process group of their own, killed if the driver overruns its deadline."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is required (scripts/install-deps.sh test installs chromium)")
    screenshot = tmp_path / "page.png"
    config = tmp_path / "browser.json"
    config.write_text(json.dumps({"url": url, "screenshot": str(screenshot),
                                  "userDataDir": str(tmp_path / "chromium-profile"),
                                  "timeoutMs": BROWSER_TIMEOUT_MS, "executablePath": CHROMIUM}))
    env = child_env()
    env["HOME"] = str(tmp_path)
    proc = subprocess.Popen(["node", os.path.join(node_work, "browser_example.mjs"), str(config)],
                            cwd=node_work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=DRIVER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the browser driver overran {DRIVER_TIMEOUT_S} s; stderr:\n{err}")
    finally:
        # Whatever of the group outlives the driver (it closes the browser itself).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, (proc.returncode, out, err)
    report = json.loads(out)
    report["screenshot"] = str(screenshot)
    return report


def logged_values(report):
    """Every value the page's scripts passed to the console, but the harness's reports."""
    return [arg for msg in report["console"] for arg in (msg["args"] or [])]


def logged_tokens(report):
    return [v for v in logged_values(report) if isinstance(v, dict) and "access_token" in v]


def events(report, name):
    return [h for h in report["harness"] if h["event"] == name]


def console_errors(report):
    return [m["text"] for m in report["console"] if m["type"] == "error"]


def check_ran(report, page):
    """The harness worked: the page and jquery came from the page's server, the example's call
    ended within the deadline, nothing threw, and the screenshot was saved."""
    assert report["error"] is None, (
        f"the browser run failed: {report['error']}\nharness {report['harness']}\nconsole "
        f"{report['console']}\nfailed requests {report['requestsFailed']}\nscreenshot "
        f"{report['screenshot']}")
    with open(report["screenshot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", report["screenshot"]
    assert report["pageErrors"] == [], report["pageErrors"]
    assert report["outcome"] == "complete", report
    assert page.requested[:2] == ["/", "/jquery.js"], page.requested
    assert len(events(report, "ajaxComplete")) == 1, report["harness"]


def no_token_diagnosis(server, origin, put_answer, report):
    """Why no token came (the failure message): what the server kept of the corsSettings, how
    it answers the preflight a browser sends (sent again here by requests), what the browser
    saw."""
    kept = put_answer.get("corsSettings")
    kept = json.dumps(kept) if kept else "absent (does the server implement corsSettings?)"
    resp = requests.options(server.token_url(), timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    cors = {k: v for k, v in resp.headers.items()
            if k.lower().startswith("access-control-") or k.lower() == "vary"}
    return (f"the jQuery example logged no token on {origin}, an origin the Token Admin App's "
            f"corsSettings list.\n"
            f"- the PUT's answer: corsSettings {kept}\n"
            f"- the preflight OPTIONS {server.token_url()} from that origin: {resp.status_code}, "
            f"CORS headers {cors}\n"
            f"- in the browser: harness {report['harness']}\n"
            f"  console errors {console_errors(report)}\n"
            f"  failed requests {report['requestsFailed']}\n"
            f"- screenshot: {report['screenshot']}")


def test_example_from_an_allowed_origin_gets_a_token(server, page, node_work, tmp_path):
    answer = set_admin_cors(server, {"behavior": "ALLOW_SPECIFIC_ORIGINS",
                                     "origins": [page.origin]})
    report = run_browser(node_work, page.origin + "/", tmp_path)
    check_ran(report, page)
    tokens = logged_tokens(report)
    if not tokens:
        pytest.fail(no_token_diagnosis(server, page.origin, answer, report), pytrace=False)
    assert len(tokens) == 1, tokens
    assert len(events(report, "ajaxSuccess")) == 1, report["harness"]
    assert console_errors(report) == [], report["console"]
    posts = [r for r in report["responses"]
             if r["url"] == server.token_url() and r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["status"] == 200, report["responses"]
    assert posts[0]["headers"].get("access-control-allow-origin") == page.origin, posts
    # The example's console.log(response): the parsed JSON, exactly as the page documents it.
    check_documented_response(tokens[0])
    verify_admin_token(server, tokens[0]["access_token"])


def other_origin(origin):
    """The same port under another host name: another origin (RFC 6454), so not a match."""
    return origin.replace("http://127.0.0.1:", "http://localhost:")


# No corsSettings (the default), explicitly none, or only an origin that is not the page's.
REFUSING = {
    "absent": None,
    "allow_no_origins": lambda origin: {"behavior": "ALLOW_NO_ORIGINS"},
    "another_origin": lambda origin: {"behavior": "ALLOW_SPECIFIC_ORIGINS",
                                      "origins": [other_origin(origin)]},
}


@pytest.mark.parametrize("cors", list(REFUSING))
def test_example_from_an_origin_not_allowed_is_refused_by_the_browser(server, page, node_work,
                                                                      tmp_path, cors):
    if REFUSING[cors] is None:
        app = admin_call(server, "GET", admin_app_path(server))
        assert app.get("corsSettings", {}).get("behavior", "ALLOW_NO_ORIGINS") == \
            "ALLOW_NO_ORIGINS", app
    else:
        set_admin_cors(server, REFUSING[cors](page.origin))
    report = run_browser(node_work, page.origin + "/", tmp_path)
    check_ran(report, page)
    # The call failed in the browser: jQuery saw no HTTP answer (status 0, the browser withholds
    # it), Chromium says why, and the example's done callback never ran.
    errors = events(report, "ajaxError")
    assert len(errors) == 1 and errors[0]["status"] == 0, report["harness"]
    assert events(report, "ajaxSuccess") == [], report["harness"]
    assert any("CORS policy" in text and page.origin in text for text in console_errors(report)), \
        report["console"]
    assert any(r["url"] == server.token_url() for r in report["requestsFailed"]), report
    assert logged_tokens(report) == [], report["console"]
    assert "eyJ" not in json.dumps(report["console"]), report["console"]
