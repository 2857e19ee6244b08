"""docs/deploy.md's nginx example, run as written (ports replaced) in front of two nodes on one
PostgreSQL database: the admin signs in and configures through nginx, tokens through nginx come
from both nodes, and when one node stops, requests through nginx keep succeeding."""

import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

from mgmt_support import Api, create_service_with_resource, token_request
from pg_cluster import free_port
from pg_support import Deployment
from tollgate_server import basic, jwt_parts

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "deploy.md")
DEADLINE = 10.0  # bounds a broken run only


def doc_example():
    """The nginx block that follows the nginx-example marker of docs/deploy.md."""
    text = open(DOC).read()
    m = re.search(r"<!-- nginx-example[^>]*-->\s*```nginx\n(.*?)```", text, re.S)
    assert m, "docs/deploy.md has no nginx example block"
    return m.group(1)


class Nginx:
    """nginx in the foreground with the doc's block inside a minimal http{} of a temp prefix."""

    def __init__(self, port, upstreams):
        self.dir = tempfile.mkdtemp(prefix="tollgate-nginx-")
        block = doc_example()
        for placeholder, actual in zip(("127.0.0.1:8081", "127.0.0.1:8082"), upstreams):
            assert placeholder in block
            block = block.replace(placeholder, actual)
        assert "listen 8080;" in block
        block = block.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        d = self.dir
        conf = f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{block}
}}
"""
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c",
                                      self.conf, "-e", f"{d}/error.log"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        start = time.monotonic()
        while True:
            try:
                requests.get(self.url + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert self.proc.poll() is None, self.proc.stderr.read()
                assert time.monotonic() - start < DEADLINE, "nginx did not start"
                time.sleep(0.05)

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class ViaNginx:
    """Stands in for a TollgateServer whose base URL is nginx (for mgmt_support helpers)."""

    def __init__(self, nginx, admin):
        self.base_url = nginx.url
        self.admin = admin

    def token_url(self, env_id=None):
        return f"{self.base_url}/{env_id or self.admin['environmentId']}/as/token"


def tokens_issued(node):
    text = requests.get(node.url("/metrics"), timeout=5).text
    return int(re.search(r"^tollgate_tokens_issued_total (\d+)$", text, re.M).group(1))


@pytest.fixture()
def setup(pg):
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        if os.environ.get("TOLLGATE_REQUIRE_PG") == "1":
            pytest.fail("nginx is not installed (scripts/install-deps.sh test installs it)")
        pytest.skip("nginx is not installed")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    # As docs/deploy.md says: the nodes trust the balancer's X-Forwarded-For (nginx reaches them
    # from 127.0.0.1).
    d = Deployment(pg, init_args=["--auth-url", public, "--api-url", public],
                   extra_args=["--auth-url", public, "--api-url", public,
                               "--trusted-proxies", "127.0.0.1/32"])
    nginx = None
    try:
        a, b = d.node(), d.node()
        nginx = Nginx(port, [a.base_url[len("http://"):], b.base_url[len("http://"):]])
        yield d, a, b, nginx
    finally:
        if nginx is not None:
            nginx.close()
        d.close()


def test_two_nodes_behind_the_documented_nginx(setup):
    d, a, b, nginx = setup
    env = d.admin["environmentId"]
    lb = ViaNginx(nginx, d.admin)
    admin = Api(lb)  # the admin's token and every management call go through nginx
    _, _, app, secret, _ = create_service_with_resource(admin, env)

    # Through nginx the requests alternate between the nodes; both must know the new app.
    before = (tokens_issued(a), tokens_issued(b))
    start = time.monotonic()
    streak = 0
    while streak < 20:
        ok = token_request(lb, env, app["id"], secret).status_code == 200
        streak = streak + 1 if ok else 0
        assert time.monotonic() - start < DEADLINE, "tokens through nginx keep failing"
    assert tokens_issued(a) > before[0] and tokens_issued(b) > before[1], "nginx used one node"

    claims = jwt_parts(token_request(lb, env, app["id"], secret).json()["access_token"])[1]
    assert claims["iss"] == f"{nginx.url}/{env}/as"
    disc = requests.get(f"{nginx.url}/{env}/as/.well-known/openid-configuration", timeout=5)
    assert disc.json()["token_endpoint"] == f"{nginx.url}/{env}/as/token"

    # One node stops: nginx moves on to the other, and no request fails.
    assert a.stop() == 0
    failures = [r.status_code for r in (token_request(lb, env, app["id"], secret)
                                        for _ in range(40)) if r.status_code != 200]
    assert failures == []
    assert requests.get(f"{nginx.url}/readyz", timeout=5).status_code == 200


def post_via(nginx, source, env, client_id, secret):
    """A token request to nginx from loopback address `source`."""
    u = urllib.parse.urlsplit(nginx.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", f"/{env}/as/token", body="grant_type=client_credentials",
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Authorization": basic(client_id, secret)})
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_throttle_sees_clients_through_nginx(setup):
    """docs/deploy.md: with --trusted-proxies naming the balancer, an attacker (127.0.0.2) that
    floods a client with wrong secrets through nginx is throttled on every node, and the client
    itself (127.0.0.3) still gets every token through the same nginx."""
    d, a, b, nginx = setup
    env = d.admin["environmentId"]
    admin = Api(ViaNginx(nginx, d.admin))
    _, _, app, secret, _ = create_service_with_resource(admin, env)
    # The app was written through one node; wait until the other has it from the change feed
    # (asked directly, so no failure counts against the addresses used below).
    start = time.monotonic()
    while not all(token_request(n, env, app["id"], secret).status_code == 200 for n in (a, b)):
        assert time.monotonic() - start < DEADLINE, "the new app did not reach both nodes"
        time.sleep(0.02)
    assert [post_via(nginx, "127.0.0.3", env, app["id"], secret) for _ in range(4)] == [200] * 4
    statuses = []
    for _ in range(60):
        statuses.append(post_via(nginx, "127.0.0.2", env, app["id"], "wrong"))
        if statuses[-2:] == [429, 429]:
            break
    assert statuses[-2:] == [429, 429], statuses  # throttled on both nodes
    assert [post_via(nginx, "127.0.0.3", env, app["id"], secret) for _ in range(6)] == [200] * 6
