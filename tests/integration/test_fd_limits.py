"""Issue 10 item 2: file-descriptor exhaustion. Under `ulimit -n 128` (soft and hard), 200 idle
connections must not take the server down: /healthz keeps answering on fresh connections (the
oldest idle connections are closed to make room), and neither CPU nor the log grows while the
clients hold their connections. Before the fix, accept() failed with EMFILE in a busy loop: a
core at 100% and millions of identical warnings, and /healthz never answered.

The CPU check reads the server's utime+stime from /proc over a fixed window after the work is
done and allows a quarter of it. The fixed server, idle, uses about 0.01 s of a 2 s window; the
old busy loop used 1.2 s of it here, throttled only by this test reading its log pipe. The bound
separates the two by a wide margin either way; it is not a performance goal."""

import os
import resource
import socket
import subprocess
import time
import urllib.parse

import pytest
import requests

from tollgate_server import TOLLGATE_BIN, TollgateServer

FD_LIMIT = 128
IDLE_CONNECTIONS = 200
WINDOW_S = 2.0
TICKS = os.sysconf("SC_CLK_TCK")


def low_fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def open_idle_connections(server, n):
    """n TCP connections that send nothing; the kernel completes them in the listen backlog
    whether or not the server accepts them."""
    url = urllib.parse.urlsplit(server.base_url)
    return [socket.create_connection((url.hostname, url.port), timeout=10) for _ in range(n)]


def assert_healthz_answers(server, times=10):
    for i in range(times):
        try:
            resp = requests.get(server.url("/healthz"), headers={"Connection": "close"},
                                timeout=10)
        except requests.RequestException as e:
            raise AssertionError(f"/healthz #{i}: {e!r}\n{server.logs()[-3000:]}") from e
        assert resp.status_code == 200, (i, resp.text)


def assert_flat(server):
    """CPU and log over a window in which the server has nothing to do."""
    pid = server.proc.pid
    log_before = len(server.logs())
    cpu_before = cpu_seconds(pid)
    time.sleep(WINDOW_S)  # the measurement window, not a synchronization
    used = cpu_seconds(pid) - cpu_before
    assert used < WINDOW_S / 4, f"{used:.2f} s of CPU in {WINDOW_S} s while idle"
    assert len(server.logs()) - log_before < 200, server.logs()[-2000:]
    assert len(server.log_lines) < 30, server.logs()[-4000:]


def run_exhaustion(extra_args):
    """Starts the server under the low limit, holds IDLE_CONNECTIONS idle connections, and
    checks /healthz, the oldest connection, CPU, the log and a clean stop. Returns the log."""
    server = TollgateServer(extra_args=["--threads", "2", *extra_args], preexec_fn=low_fd_limit)
    idle = []
    try:
        server.start()
        idle = open_idle_connections(server, IDLE_CONNECTIONS)
        # /healthz connects after all of them: it is answered once the backlog before it moved.
        assert_healthz_answers(server)
        # The oldest idle connection was closed to make room (RFC 9112 §9.6): EOF, no bytes.
        assert idle[0].recv(1) == b""
        assert_flat(server)
        assert_healthz_answers(server, times=3)
        logs = server.logs()
    finally:
        for s in idle:
            s.close()
        code = server.stop()
        server.tmp.cleanup()
    assert code == 0, server.logs()
    return logs


def test_default_limit_keeps_healthz_answering_with_more_idle_connections_than_descriptors():
    logs = run_exhaustion([])
    # --threads 2: 128 - (64 + 3 * 2) = 58 connections (docs/deploy.md).
    assert "file descriptors: limit 128" in logs and "at most 58 connections" in logs, logs
    assert logs.count("connection limit reached (58 open)") == 1, logs
    assert "Too many open files" not in logs, logs


def linked_with_ubsan():
    out = subprocess.run(["ldd", TOLLGATE_BIN], capture_output=True, text=True)
    return "libubsan" in out.stdout


def test_accept_backs_off_when_descriptors_run_out_below_the_connection_limit():
    if linked_with_ubsan():
        # GCC's UBSan reads its vptr check's vtable only after probing the memory through a
        # pipe, and loads its suppressions on first use: with every descriptor taken, the first
        # uncached virtual call (accept's EMFILE error_category) is reported as "invalid vptr"
        # and the sanitized server aborts. The Release build runs this test.
        pytest.skip("UBSan cannot check virtual calls while every file descriptor is taken")
    # Above the default: the descriptors run out before the connection limit is reached.
    logs = run_exhaustion(["--max-connections", "120"])
    assert "--max-connections 120 leaves fewer than 70 of the 128 file descriptors" in logs, logs
    assert 1 <= logs.count("accept failed: Too many open files") <= 3, logs
    assert "connection limit reached" not in logs, logs


def test_max_connections_above_the_descriptor_limit_is_refused():
    server = TollgateServer()  # initialized, not started
    try:
        out = subprocess.run(
            [TOLLGATE_BIN, "serve", "--store", server.store, "--listen", "127.0.0.1:0",
             "--max-connections", str(FD_LIMIT + 1)],
            capture_output=True, text=True, env=server.env, timeout=30,
            stdin=subprocess.DEVNULL, preexec_fn=low_fd_limit)
    finally:
        server.tmp.cleanup()
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "--max-connections 129" in lines[0] and "file-descriptor limit" in lines[0], lines
