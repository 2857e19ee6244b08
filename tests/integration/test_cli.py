"""SPEC 8 (command line) and the at-rest parts of SPEC 7 that the command line shows: `init`
output, a second `init`, `serve` refusing bad setups with one clear line, the key file, the wrong
master key, no plaintext secret in the database files, `--help`."""

import base64
import json
import os
import socket
import stat
import subprocess
import tempfile

import pytest
import requests

from tollgate_server import FORM, TOLLGATE_BIN, UUID_RE, TollgateServer, basic

INIT_KEYS = {"organizationId", "environmentId", "clientId", "clientSecret", "tokenEndpoint",
             "apiUrl"}
OPTIONS = ["--store", "--listen", "--threads", "--max-connections", "--auth-url", "--api-url",
           "--master-key-file", "--max-used-assertions", "--max-revoked-tokens",
           "--metrics-top-clients", "--trusted-proxies", "--allow-private-fetch", "--help"]


def run(*args, env=None, timeout=30):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")
                or k in ("TOLLGATE_BIN", "TOLLGATE_SEED_BIN", "TOLLGATE_REFERENCE")}
    full_env.update(env or {})
    return subprocess.run([TOLLGATE_BIN, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def assert_one_clear_line(out, *needles):
    """Non-zero exit, nothing on stdout, exactly one non-empty line on stderr holding each
    needle (case-insensitive)."""
    assert out.returncode != 0, (out.returncode, out.stdout, out.stderr)
    assert out.stdout == "", out.stdout
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), (needle, lines[0])
    return lines[0]


def admin_token(server, admin):
    return requests.post(server.token_url(), data="grant_type=client_credentials",
                         headers={**FORM, "Authorization": basic(admin["clientId"],
                                                                 admin["clientSecret"])},
                         timeout=10)


@pytest.fixture()
def tmpdir_path():
    with tempfile.TemporaryDirectory(prefix="tollgate-cli-") as d:
        yield d


# --- init --------------------------------------------------------------------------------------

def test_init_prints_exactly_the_documented_object(tmpdir_path):
    db = os.path.join(tmpdir_path, "t.db")
    out = run("init", "--store", "sqlite:" + db, "--auth-url", "https://auth.example.test/",
              "--api-url", "https://api.example.test")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, out.stdout
    data = json.loads(lines[0])
    assert set(data) == INIT_KEYS, data
    for key in ("organizationId", "environmentId", "clientId"):
        assert UUID_RE.match(data[key]), (key, data[key])
    assert len({data["organizationId"], data["environmentId"], data["clientId"]}) == 3
    assert isinstance(data["clientSecret"], str) and len(data["clientSecret"]) >= 32
    assert data["tokenEndpoint"] == f"https://auth.example.test/{data['environmentId']}/as/token"
    assert data["apiUrl"] == "https://api.example.test"


def test_init_reads_options_from_the_environment(tmpdir_path):
    db = os.path.join(tmpdir_path, "t.db")
    out = run("init", env={"TOLLGATE_STORE": "sqlite:" + db,
                           "TOLLGATE_API_URL": "https://env-api.example.test",
                           "TOLLGATE_AUTH_URL": "https://env-auth.example.test"})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["apiUrl"] == "https://env-api.example.test"
    assert data["tokenEndpoint"].startswith("https://env-auth.example.test/")
    assert os.path.exists(db)
    # The option wins over the environment.
    db2 = os.path.join(tmpdir_path, "t2.db")
    out = run("init", "--store", "sqlite:" + db2, "--api-url", "https://opt.example.test",
              env={"TOLLGATE_API_URL": "https://env-api.example.test"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["apiUrl"] == "https://opt.example.test"


def test_second_init_fails_and_changes_nothing():
    server = TollgateServer()
    try:
        first = server.admin
        files = [server.db_path, server.db_path + "-wal", server.db_path + ".key"]
        before = [open(p, "rb").read() if os.path.exists(p) else None for p in files]
        out = run("init", "--store", server.store, env={})
        assert out.returncode != 0, out.stdout
        assert out.stdout == "", out.stdout
        assert out.stderr.strip()
        assert "clientSecret" not in out.stderr
        after = [open(p, "rb").read() if os.path.exists(p) else None for p in files]
        assert after == before
        server.start()
        resp = admin_token(server, first)
        assert resp.status_code == 200, resp.text
    finally:
        server.close()


def test_key_file_mode_is_0600(tmpdir_path):
    db = os.path.join(tmpdir_path, "t.db")
    out = run("init", "--store", "sqlite:" + db)
    assert out.returncode == 0, out.stderr
    mode = stat.S_IMODE(os.stat(db + ".key").st_mode)
    assert mode == 0o600, oct(mode)
    key = base64.b64decode(open(db + ".key").read().strip())
    assert len(key) == 32


def test_store_files_are_readable_by_their_owner_only(tmpdir_path):
    """The database and its WAL and SHM files hold sealed secrets: mode 0600 whatever the umask."""
    old = os.umask(0o002)  # the most permissive umask in use: files would be 0664
    try:
        server = TollgateServer(store="sqlite:" + os.path.join(tmpdir_path, "t.db"))
    finally:
        os.umask(old)
    try:
        server.start()
        assert admin_token(server, server.admin).status_code == 200
        db = os.path.join(tmpdir_path, "t.db")
        for path in (db, db + "-wal", db + "-shm", db + ".key"):
            assert os.path.exists(path), path
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, (path, oct(os.stat(path).st_mode))
    finally:
        server.close()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_master_key_file_others_can_read_is_refused(initialized, mode):
    key_file = initialized.db_path + ".key"
    os.chmod(key_file, mode)
    try:
        out = run("serve", "--store", initialized.store, "--listen", "127.0.0.1:0", timeout=20)
        assert_one_clear_line(out, "master key file", "chmod 600", f"{mode:04o}")
    finally:
        os.chmod(key_file, 0o600)


def test_secrets_are_not_in_the_database_files(tmpdir_path):
    db = os.path.join(tmpdir_path, "t.db")
    out = run("init", "--store", "sqlite:" + db)
    assert out.returncode == 0, out.stderr
    secret = json.loads(out.stdout)["clientSecret"].encode()
    files = [p for p in (db, db + "-wal", db + "-journal", db + "-shm") if os.path.exists(p)]
    assert db in files
    for path in files:
        data = open(path, "rb").read()
        assert secret not in data, path
        assert b"PRIVATE KEY" not in data, path


# --- serve refusing to start -------------------------------------------------------------------

def test_serve_on_an_uninitialized_store(tmpdir_path):
    db = os.path.join(tmpdir_path, "fresh.db")
    out = run("serve", "--store", "sqlite:" + db, "--listen", "127.0.0.1:0")
    assert_one_clear_line(out, "init")


def test_serve_on_an_uninitialized_store_with_a_master_key(tmpdir_path):
    db = os.path.join(tmpdir_path, "fresh.db")
    key = base64.b64encode(os.urandom(32)).decode()
    out = run("serve", "--store", "sqlite:" + db, "--listen", "127.0.0.1:0",
              env={"TOLLGATE_MASTER_KEY": key})
    assert_one_clear_line(out, "init")
    # The refused serve leaves a store that `init` can still initialize.
    out = run("init", "--store", "sqlite:" + db, env={"TOLLGATE_MASTER_KEY": key})
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)) == INIT_KEYS


@pytest.fixture(scope="module")
def initialized():
    server = TollgateServer()
    yield server
    server.close()


@pytest.mark.parametrize("listen", ["nonsense", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:-1",
                                    "127.0.0.1:http", "999.1.1.1:0", ":0", "not a host:0"])
def test_serve_with_a_bad_listen(initialized, listen):
    out = run("serve", "--store", initialized.store, "--listen", listen, timeout=20)
    assert_one_clear_line(out, "listen" if listen != "999.1.1.1:0" else "999.1.1.1")


def test_serve_on_a_port_in_use(initialized):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        out = run("serve", "--store", initialized.store, "--listen", f"127.0.0.1:{port}",
                  timeout=20)
    assert_one_clear_line(out, str(port))


@pytest.mark.parametrize("args", [["serve", "--bogus"], ["serve", "--listen"],
                                  ["init", "--frobnicate=1"], ["serve", "--threads", "0"],
                                  ["serve", "--threads", "many"], ["launch"], [],
                                  ["serve", "--max-connections", "0"],
                                  ["serve", "--max-connections=many"],
                                  ["serve", "--max-connections", "123456789"]],
                         ids=["unknown-option", "missing-value", "unknown-init-option",
                              "threads-zero", "threads-not-a-number", "unknown-command",
                              "no-command", "max-connections-zero",
                              "max-connections-not-a-number", "max-connections-too-long"])
def test_bad_command_lines(initialized, args):
    out = run(*args, env={"TOLLGATE_STORE": initialized.store}, timeout=20)
    needle = {"--bogus": "--bogus", "--frobnicate=1": "--frobnicate", "launch": "launch",
              "--max-connections": "--max-connections must be a number",
              "--max-connections=many": "--max-connections must be a number"}
    expect = [needle[a] for a in args if a in needle]
    assert_one_clear_line(out, *expect)


def test_allow_private_fetch_takes_no_value_and_a_clear_variable(initialized):
    out = run("serve", "--allow-private-fetch=yes", env={"TOLLGATE_STORE": initialized.store},
              timeout=20)
    assert_one_clear_line(out, "--allow-private-fetch=yes")
    out = run("serve", env={"TOLLGATE_STORE": initialized.store,
                            "TOLLGATE_ALLOW_PRIVATE_FETCH": "perhaps"}, timeout=20)
    assert_one_clear_line(out, "TOLLGATE_ALLOW_PRIVATE_FETCH")


def test_wrong_master_key_refuses_to_start(initialized):
    other = base64.b64encode(os.urandom(32)).decode()
    out = run("serve", "--store", initialized.store, "--listen", "127.0.0.1:0",
              env={"TOLLGATE_MASTER_KEY": other}, timeout=20)
    assert_one_clear_line(out, "master key")


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_malformed_master_key_refuses_to_start(initialized, value):
    out = run("serve", "--store", initialized.store, "--listen", "127.0.0.1:0",
              env={"TOLLGATE_MASTER_KEY": value}, timeout=20)
    assert_one_clear_line(out, "TOLLGATE_MASTER_KEY")


def test_unreadable_key_file_refuses_to_start(initialized, tmpdir_path):
    missing = os.path.join(tmpdir_path, "missing.key")
    out = run("serve", "--store", initialized.store, "--listen", "127.0.0.1:0",
              "--master-key-file", missing, timeout=20)
    assert_one_clear_line(out, missing)


def test_master_key_from_the_environment_round_trip(tmpdir_path):
    """A store initialized under TOLLGATE_MASTER_KEY serves with it, and only with it."""
    key = base64.b64encode(os.urandom(32)).decode()
    server = TollgateServer(env={"TOLLGATE_MASTER_KEY": key})
    try:
        server.start()
        assert admin_token(server, server.admin).status_code == 200
        assert server.stop() == 0
        out = run("serve", "--store", server.store, "--listen", "127.0.0.1:0",
                  env={"TOLLGATE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()},
                  timeout=20)
        assert_one_clear_line(out, "master key")
    finally:
        server.close()


# --- --help ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["init", "--help"]])
def test_help_mentions_every_option(args):
    out = run(*args)
    assert out.returncode == 0, out.stderr
    for option in OPTIONS:
        assert option in out.stdout, option
    for env in ("TOLLGATE_STORE", "TOLLGATE_LISTEN", "TOLLGATE_THREADS", "TOLLGATE_AUTH_URL",
                "TOLLGATE_API_URL", "TOLLGATE_MASTER_KEY_FILE", "TOLLGATE_MASTER_KEY",
                "TOLLGATE_MAX_USED_ASSERTIONS", "TOLLGATE_MAX_REVOKED_TOKENS",
                "TOLLGATE_TRUSTED_PROXIES", "TOLLGATE_ALLOW_PRIVATE_FETCH"):
        assert env in out.stdout, env
    for command in ("init", "serve"):
        assert command in out.stdout
