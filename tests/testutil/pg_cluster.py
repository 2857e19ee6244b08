"""A throwaway PostgreSQL cluster for the tests, from Debian's postgresql package.

initdb into a temporary directory, postgres on a free 127.0.0.1 port (TCP only; the Unix socket
lives in the cluster's own directory), password authentication for the superuser `tollgate`.
initdb refuses to run as root: under root the cluster runs as `nobody`, owning its directory.
Nothing outlives stop(): the server is stopped and the directory removed.

Used by scripts/test.sh (one cluster for the whole run, via the command line below) and by the
tests that stop and start a database of their own.

    python3 pg_cluster.py start DIR   # prints shell assignments: TOLLGATE_TEST_PG=...
    python3 pg_cluster.py stop DIR
"""

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SUPERUSER = "tollgate"


def pg_bindir():
    """The newest installed PostgreSQL server's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def free_port(taken=()):
    """A free loopback port from below the kernel's ephemeral range, not in `taken`.

    Such a port is kept for a while before it is bound again (a database restarted on its own
    port, a benchmark's servers): the kernel never hands it meanwhile to another program's
    bind(0) or to an outgoing connection's source port, as it could one of its ephemeral range.
    """
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    for _ in range(1000):
        port = secrets.choice(range(10000, max(10001, low)))
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


class PgCluster:
    """One cluster in `root` (created if None). start() / stop() / restart(); uri(db)."""

    def __init__(self, root=None):
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.owned_root = root is None
        self.root = root or tempfile.mkdtemp(prefix="tollgate-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.state = os.path.join(self.root, "cluster.env")
        self.run_as = "nobody" if os.geteuid() == 0 else None
        self.port = None
        self.password = None
        if os.path.exists(self.state):
            self._load_state()

    # -- shell state, so that `stop` in another process finds the cluster --------------------

    def _save_state(self):
        with open(self.state, "w") as f:
            f.write(f"{self.port}\n{self.password}\n")

    def _load_state(self):
        with open(self.state) as f:
            port, password = f.read().split("\n")[:2]
        self.port, self.password = int(port), password

    def _cmd(self, *args):
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return cmd

    def _run(self, *args, timeout=120):
        out = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=timeout,
                             cwd=self.root)
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({out.returncode}): {out.stderr.strip()}"
                               f"\n{self._log_tail()}")
        return out

    def _log_tail(self):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def init(self):
        self.password = secrets.token_urlsafe(18)
        os.makedirs(self.root, exist_ok=True)
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        pwfile = os.path.join(self.root, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if self.run_as:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        try:
            self._run("initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile,
                      "-E", "UTF8", "--locale=C.UTF-8", "--auth=scram-sha-256", "--no-sync")
        finally:
            os.unlink(pwfile)

    def start(self):
        """initdb on first use, then starts the server on a free loopback port."""
        if not os.path.exists(self.data):
            self.init()
        last = None
        for _ in range(5):
            port = self.port or free_port()
            # Test-only settings: nothing here survives the run, so durability is not needed.
            opts = (f"-c listen_addresses=127.0.0.1 -c port={port} "
                    f"-c unix_socket_directories='{self.root}' -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                          "-o", opts, "start")
                self.port = port
                self._save_state()
                return self
            except RuntimeError as e:
                last = e
                self.port = None  # the port may have been taken meanwhile: pick another
        raise last

    def stop(self, mode="fast"):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data, "-w", "-t", "60", "-m", mode, "stop")

    def running(self):
        out = subprocess.run(self._cmd("pg_ctl", "-D", self.data, "status"),
                             capture_output=True, text=True, cwd=self.root)
        return out.returncode == 0

    def destroy(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- clients --------------------------------------------------------------------------

    def uri(self, database="postgres", user=SUPERUSER, password=None, **params):
        pw = urllib.parse.quote(self.password if password is None else password, safe="")
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        return f"postgresql://{user}:{pw}@127.0.0.1:{self.port}/{database}{query}"

    def psql(self, sql, database="postgres"):
        """Runs `sql` with psql; returns stdout (unaligned, tuples only)."""
        psql = os.path.join(self.bindir, "psql")
        out = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-d", self.uri(database), "-c", sql],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def create_database(self, prefix="tollgate"):
        name = f"{prefix}_{secrets.token_hex(6)}"
        self.psql(f"CREATE DATABASE {name}")
        return name


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    cluster = PgCluster(argv[2])
    if argv[1] == "start":
        cluster.start()
        deadline = time.time() + 30
        while True:
            try:
                cluster.psql("SELECT 1")
                break
            except RuntimeError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        print(f"TOLLGATE_TEST_PG='{cluster.uri()}'")
        print(f"TOLLGATE_TEST_PG_DIR='{cluster.root}'")
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
