"""/metrics (operations issue, item 2) through the real binary: the text is valid for
Prometheus' own tools (promtool's linter, the official Python client's parser), counts what was
done (requests per route and status, latency histograms, tokens per environment and per client
with the top-N bound, token errors by stage and code), and a real Prometheus server (Debian's
prometheus package) scrapes it."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from mgmt_support import Api, create_env, create_service_with_resource, token_request
from tollgate_server import serving

TOP = 2  # --metrics-top-clients
DEADLINE = 60.0  # seconds; bounds a broken run only


@pytest.fixture(scope="module")
def server():
    with serving(extra_args=["--metrics-top-clients", str(TOP)]) as s:
        yield s


@pytest.fixture(scope="module")
def traffic(server):
    """An environment with three clients that got 3, 2 and 1 tokens, one wrong secret, one
    unsupported grant type and one request that is not a form; the admin's own token is the
    only other one."""
    admin = Api(server)
    env = create_env(admin)["id"]
    apps = [create_service_with_resource(admin, env)[2:4] for _ in range(3)]
    for (app, secret), n in zip(apps, (3, 2, 1)):
        for _ in range(n):
            resp = token_request(server, env, app["id"], secret)
            assert resp.status_code == 200, resp.text
    first, first_secret = apps[0]
    bad = token_request(server, env, first["id"], "not-the-secret")
    assert bad.status_code == 401, bad.text
    unknown = requests.post(server.token_url(env), data={"grant_type": "password"},
                            auth=(first["id"], first_secret), timeout=30)
    assert unknown.status_code == 400, unknown.text
    # Refused by the HTTP checks, before the token endpoint's own rules: counted all the same.
    not_a_form = requests.post(server.token_url(env), data="grant_type=client_credentials",
                               headers={"Content-Type": "text/plain"},
                               auth=(first["id"], first_secret), timeout=30)
    assert not_a_form.status_code == 400, not_a_form.text
    return env, [app["id"] for app, _ in apps]


def scrape(server):
    resp = requests.get(server.url("/metrics"), timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4"), resp.headers
    return resp.text


def samples(text):
    """{(name, frozenset(labels.items())): value} by the official client's parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(parsed, name, **labels):
    return parsed.get((name, frozenset(labels.items())))


def test_metrics_are_valid_for_promtool(server, traffic):
    text = scrape(server)
    out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", (out, text)


def test_metrics_count_what_was_done(server, traffic):
    env, (first, second, third) = traffic
    admin_env, admin_client = server.admin["environmentId"], server.admin["clientId"]
    text = scrape(server)
    m = samples(text)
    token_route = "/{envID}/as/token"
    assert value(m, "tollgate_tokens_issued_total") == 7, text
    assert value(m, "tollgate_environment_tokens_issued_total", environment=env) == 6, text
    assert value(m, "tollgate_environment_tokens_issued_total", environment=admin_env) == 1, text
    # The top 2 clients one by one; the others summed per environment.
    assert value(m, "tollgate_client_tokens_issued_total", environment=env, client_id=first) == 3
    assert value(m, "tollgate_client_tokens_issued_total", environment=env, client_id=second) == 2
    for client in (third, admin_client):
        assert not [k for k in m if ("client_id", client) in k[1]], text
    assert value(m, "tollgate_client_tokens_issued_total", environment=env,
                 client_id="other") == 1, text
    assert value(m, "tollgate_client_tokens_issued_total", environment=admin_env,
                 client_id="other") == 1, text
    assert value(m, "tollgate_token_errors_total", stage="client_authentication",
                 error="invalid_client") == 1, text
    assert value(m, "tollgate_token_errors_total", stage="validation",
                 error="unsupported_grant_type") == 1, text
    assert value(m, "tollgate_token_requests_throttled_total") == 0, text
    assert value(m, "tollgate_http_requests_total", route=token_route, code="200") == 7, text
    assert value(m, "tollgate_http_requests_total", route=token_route, code="401") == 1, text
    assert value(m, "tollgate_token_errors_total", stage="validation",
                 error="invalid_request") == 1, text
    assert value(m, "tollgate_http_requests_total", route=token_route, code="400") == 2, text
    assert value(m, "tollgate_http_requests_total", route="/v1/*", code="201") >= 10, text
    assert value(m, "tollgate_http_request_duration_seconds_count", route=token_route) == 10
    assert value(m, "tollgate_http_request_duration_seconds_bucket", route=token_route,
                 le="+Inf") == 10, text
    assert value(m, "tollgate_snapshot_reloads_total", result="ok") >= 10, text
    assert value(m, "tollgate_snapshot_reloads_total", result="error") == 0, text
    # A scrape is counted after its text is made, so the next scrape shows the previous one.
    before = value(m, "tollgate_http_requests_total", route="/metrics", code="200") or 0
    after = samples(scrape(server))
    assert value(after, "tollgate_http_requests_total", route="/metrics", code="200") == before + 1
    # Paths that match no route, and the operations routes, have their own series.
    assert requests.get(server.url("/no/such/path"), timeout=30).status_code == 404
    m = samples(scrape(server))
    assert value(m, "tollgate_http_requests_total", route="unmatched", code="404") == 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_prometheus_scrapes_the_server(server, traffic):
    """Debian's Prometheus scrapes /metrics every second; its query API then answers with the
    counts (polled until they appear, within a deadline that only bounds a broken run)."""
    env, (first, _, _) = traffic
    binary = shutil.which("prometheus")
    assert binary, "the prometheus package is installed by scripts/install-deps.sh test"
    with tempfile.TemporaryDirectory(prefix="tollgate-prometheus-") as tmp:
        config = os.path.join(tmp, "prometheus.yml")
        target = server.base_url.removeprefix("http://")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "scrape_configs:\n  - job_name: tollgate\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            query = (f'tollgate_client_tokens_issued_total{{client_id="{first}",'
                     f'environment="{env}"}}')
            start = time.monotonic()
            result = None
            while time.monotonic() - start < DEADLINE:
                assert proc.poll() is None, proc.stderr.read()
                try:
                    resp = requests.get(f"http://127.0.0.1:{port}/api/v1/query",
                                        params={"query": query}, timeout=5)
                    found = resp.json()["data"]["result"] if resp.status_code == 200 else []
                except requests.ConnectionError:
                    found = []
                if found:
                    result = found
                    break
                time.sleep(0.2)
            assert result, f"Prometheus never scraped {query}"
            assert result[0]["value"][1] == "3", result
            assert result[0]["metric"]["job"] == "tollgate", result
            up = requests.get(f"http://127.0.0.1:{port}/api/v1/query",
                              params={"query": 'up{job="tollgate"}'}, timeout=5).json()
            assert up["data"]["result"][0]["value"][1] == "1", up
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
