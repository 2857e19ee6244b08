"""SPEC 7 and 8 for a PostgreSQL store (`--store postgresql://...`): init and serve on a real
database, and the faults that must give one clear line on stderr and a non-zero exit: a
malformed URI, a server that is not there, a wrong password, a database that does not exist, a
database migrated by a newer Tollgate, no master key, another node's master key."""

import json

import pytest
import requests

from pg_cluster import free_port
from pg_support import Deployment, new_master_key
from test_cli import assert_one_clear_line, run
from tollgate_server import FORM, basic


@pytest.fixture()
def database(pg):
    name = pg.create_database()
    yield pg.uri(name)
    pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def serve(store, key, *args, timeout=30):
    return run("serve", "--store", store, "--listen", "127.0.0.1:0", *args,
               env={"TOLLGATE_MASTER_KEY": key}, timeout=timeout)


def test_init_then_serve_issues_tokens_and_a_second_init_changes_nothing(pg):
    d = Deployment(pg)
    try:
        node = d.node()
        resp = requests.post(node.token_url(), data="grant_type=client_credentials",
                             headers={**FORM, "Authorization": basic(d.admin["clientId"],
                                                                     d.admin["clientSecret"])},
                             timeout=10)
        assert resp.status_code == 200, resp.text
        again = run("init", "--store", d.store, env=d.env)
        assert_one_clear_line(again, "already initialized")
        count = pg.psql("SELECT count(*) FROM environments", database=d.database)
        assert count == "1"
    finally:
        codes = d.close()
    assert codes == [0]


def test_init_needs_a_master_key(database):
    out = run("init", "--store", database)
    assert_one_clear_line(out, "master key")


def test_malformed_uri(pg):
    out = serve(pg.uri("postgres", no_such_option="1"), new_master_key())
    line = assert_one_clear_line(out, "invalid PostgreSQL connection string", "no_such_option")
    assert pg.password not in line


def test_server_not_there():
    port = free_port()
    out = serve(f"postgresql://tollgate:secret-pw@127.0.0.1:{port}/tollgate", new_master_key())
    line = assert_one_clear_line(out, "cannot open store", f"127.0.0.1:{port}")
    assert "secret-pw" not in line, line
    assert "****" in line, line


def test_wrong_password(database, pg):
    uri = database.replace(pg.password, "not-the-password-42")
    out = run("init", "--store", uri, env={"TOLLGATE_MASTER_KEY": new_master_key()})
    line = assert_one_clear_line(out, "password authentication failed")
    assert "not-the-password-42" not in line


def test_database_that_does_not_exist(pg):
    out = serve(pg.uri("no_such_database_here"), new_master_key())
    assert_one_clear_line(out, "no_such_database_here", "does not exist")


def test_uninitialized_database(database):
    out = serve(database, new_master_key())
    assert_one_clear_line(out, "not initialized", "tollgate init")


def test_newer_schema_is_refused(pg):
    d = Deployment(pg)
    try:
        pg.psql("INSERT INTO schema_migrations (version, applied_at) VALUES (1000, 0)",
                database=d.database)
        for out in (serve(d.store, d.env["TOLLGATE_MASTER_KEY"]),
                    run("init", "--store", d.store, env=d.env)):
            line = assert_one_clear_line(out, "newer Tollgate", "schema too new")
            assert pg.password not in line
        assert pg.psql("SELECT max(version) FROM schema_migrations", database=d.database) == "1000"
    finally:
        d.close()


def test_another_master_key_is_refused(pg):
    d = Deployment(pg)
    try:
        out = serve(d.store, new_master_key())
        assert_one_clear_line(out, "another master key")
    finally:
        d.close()


def test_help_documents_postgresql():
    out = run("--help")
    assert out.returncode == 0
    assert "postgresql://" in out.stdout
    assert "TOLLGATE_STORE" in out.stdout


def test_mistyped_scheme_does_not_echo_the_password():
    out = serve("postgresq://tollgate:secret-pw@127.0.0.1:5432/tollgate", new_master_key())
    line = assert_one_clear_line(out, "unsupported store URI", "postgresql://")
    assert "secret-pw" not in line, line
