"""/v1/environments/{envID}/keyRotationPolicies[/{krpID}] (docs/management-api.md "Key rotation
policies"): each environment's one policy (PingOne's KRP shape), its defaults, PUT with absent
fields kept and read-only fields ignored, validation, methods, ids and roles; a manual default
change restarting the schedule; and the rotation itself through the real binary: the next key
published ahead, then made the default, the old key still verifying, and a disabled policy left
alone. The schedule is moved by editing the stopped server's SQLite store (rotated_at and the next
key's created_at); the server runs its first rotation pass before it answers a request, so a pass is
done once a restarted server answers."""

import contextlib
import datetime
import re
import sqlite3
import time

import jwt
import pytest
import requests

import mgmt_support
import test_mgmt_keys
from mgmt_support import (APP_DEVELOPER, ENV_ADMIN, READ_ONLY, Api, assert_int, assert_list_shape,
                          assert_timestamp, assert_uuid, create_env, create_worker, env_path,
                          expect, expect_error, expect_forbidden, expect_not_found, jwks)
from test_mgmt_keys import Deployment, check_key, parse_ts
from tollgate_server import TollgateServer, jwt_parts

# One server per module (module-scoped fixtures) for everything that does not restart.
mgmt_server = mgmt_support.mgmt_server
admin = mgmt_support.admin
# A fresh environment and an Environment Admin worker in it, per test (test_mgmt_keys.Deployment).
dep = test_mgmt_keys.dep

# The restartable server's auth-url and api-url: tokens keep their issuer and audience across
# restarts (the listening port changes), so tokens issued before a restart still verify after.
PUBLIC = "http://tollgate.test"
DAY = datetime.timedelta(days=1)
DAY_MS = 86_400_000
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
# RFC 3339 in UTC with milliseconds.
MS_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UNKNOWN_ID = "3c6f2a1e-8d4b-4f7a-9e2c-5b1d0a9f8e7d"

COLLECTION = "keyRotationPolicies"
REQUIRED_FIELDS = {"_links", "id", "name", "dn", "algorithm", "keyLength", "signatureAlgorithm",
                   "usageType", "validityPeriod", "rotationPeriod", "overlapPeriod", "enabled",
                   "default", "currentKeyId", "environment", "createdAt", "updatedAt"}
OPTIONAL_FIELDS = {"nextKeyId", "rotatedAt", "nextRotationAt"}
SIGNATURE_ALGORITHMS = {"RSA": {"SHA256withRSA"}, "EC": {"SHA256withECDSA"},
                        "EdDSA": {"Ed25519", "EdDSA"}, "Ed25519": {"Ed25519", "EdDSA"}}
FIELD_ERRORS = {"INVALID_VALUE", "OUT_OF_RANGE", "REQUIRED_VALUE"}


# -- helpers -------------------------------------------------------------------------------------


def policies_path(env_id):
    return f"/environments/{env_id}/{COLLECTION}"


def policy_path(env_id, policy_id):
    return f"{policies_path(env_id)}/{policy_id}"


def the_policy(api, env_id):
    """The environment's one policy: the only entry of the list, equal to a GET of the item."""
    listing = expect(api.get(policies_path(env_id)), 200)
    assert_list_shape(listing, COLLECTION)
    items = listing["_embedded"][COLLECTION]
    assert len(items) == 1 and listing["count"] == 1 and listing["size"] == 1, listing
    assert listing["_links"]["self"]["href"] == api.url(policies_path(env_id)), listing
    item = expect(api.get(policy_path(env_id, items[0]["id"])), 200)
    assert item == items[0], (item, items[0])
    check_policy(item, api, env_id)
    return item


def check_policy(policy, api, env_id):
    """The object's shape and the invariants every policy keeps."""
    assert REQUIRED_FIELDS <= set(policy) <= REQUIRED_FIELDS | OPTIONAL_FIELDS, policy
    assert_uuid(policy["id"])
    assert policy["_links"]["self"]["href"] == api.url(policy_path(env_id, policy["id"])), policy
    assert isinstance(policy["name"], str) and 1 <= len(policy["name"]) <= 256, policy
    assert isinstance(policy["dn"], str) and "=" in policy["dn"], policy
    assert policy["algorithm"] in SIGNATURE_ALGORITHMS, policy
    assert policy["signatureAlgorithm"] in SIGNATURE_ALGORITHMS[policy["algorithm"]], policy
    for field in ("keyLength", "validityPeriod", "rotationPeriod", "overlapPeriod"):
        assert_int(policy[field])
    assert 1 <= policy["overlapPeriod"] <= policy["rotationPeriod"] <= 3650, policy
    assert policy["validityPeriod"] > policy["rotationPeriod"] + policy["overlapPeriod"], policy
    assert policy["usageType"] == "SIGNING", policy
    assert isinstance(policy["enabled"], bool) and policy["default"] is True, policy
    assert policy["environment"] == {"id": env_id}, policy
    assert_uuid(policy["currentKeyId"])
    if "nextKeyId" in policy:
        assert_uuid(policy["nextKeyId"])
        assert policy["nextKeyId"] != policy["currentKeyId"], policy
    for field in ("rotatedAt", "nextRotationAt"):
        if field in policy:
            assert MS_TIMESTAMP_RE.match(policy[field]), policy
    assert_timestamp(policy["createdAt"])
    assert_timestamp(policy["updatedAt"])
    if not policy["enabled"] or "rotatedAt" not in policy:
        assert "nextRotationAt" not in policy, policy


def put_policy(api, env_id, policy_id, body):
    return api.put(policy_path(env_id, policy_id), body)


def put_policy_raw(api, env_id, policy_id, data, content_type):
    return api.put(policy_path(env_id, policy_id), data=data,
                   headers={"Content-Type": content_type})


def updated(api, env_id, policy, body):
    """PUT `body` to `policy`, which must answer 200 with what a GET then shows."""
    got = expect(put_policy(api, env_id, policy["id"], body), 200)
    check_policy(got, api, env_id)
    assert expect(api.get(policy_path(env_id, policy["id"])), 200) == got
    assert parse_ts(got["updatedAt"]) >= parse_ts(policy["updatedAt"]), (got, policy)
    return got


def without(obj, *fields):
    return {k: v for k, v in obj.items() if k not in fields}


def from_ms(ms):
    return EPOCH + datetime.timedelta(milliseconds=ms)


def now_ms():
    return int(time.time() * 1000)


def assert_schedule(policy, days=None):
    """nextRotationAt = rotatedAt + rotationPeriod (the current key expires later)."""
    days = policy["rotationPeriod"] if days is None else days
    assert parse_ts(policy["nextRotationAt"]) == parse_ts(policy["rotatedAt"]) + days * DAY, policy


def kid(token):
    return jwt_parts(token)[0]["kid"]


def jwks_kids(server, env_id):
    return sorted(k["kid"] for k in jwks(server, env_id)["keys"])


def verify(server, env_id, token, issuer_base, audience):
    """Verifies `token` with PyJWT against the environment's JWKS; returns its header."""
    header = jwt.get_unverified_header(token)
    match = [k for k in jwks(server, env_id)["keys"] if k["kid"] == header["kid"]]
    assert len(match) == 1, (header, jwks(server, env_id))
    assert match[0]["alg"] == header["alg"], (match[0], header)
    jwt.decode(token, jwt.PyJWK(match[0]).key, algorithms=[match[0]["alg"]], audience=audience,
               issuer=f"{issuer_base}/{env_id}/as")
    return header


def wait_for(what, probe, timeout=20):
    """Polls `probe` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


def policy_with_next_key(api, env_id):
    """The policy once it names a next key; None before."""
    policy = the_policy(api, env_id)
    return policy if "nextKeyId" in policy else None


def token_signed_by(dep, key_id):
    """A fresh token of `dep`'s worker if `key_id` signed it; None otherwise."""
    token = dep.token()
    return token if kid(token) == key_id else None


def restart_with(server, edit):
    """Stops `server`, applies `edit(db)` to its SQLite store in one transaction, starts it again.
    The first rotation pass runs before the server answers a request: it is done when /healthz
    answers, which this waits for."""
    assert server.stop() == 0, server.logs()
    with contextlib.closing(sqlite3.connect(server.db_path)) as db:
        with db:
            edit(db)
    server.start()
    assert requests.get(server.url("/healthz"), timeout=30).status_code == 200


def set_rotated_at(db, env_id, ms):
    cur = db.execute("UPDATE key_rotation_policies SET rotated_at = ? WHERE environment_id = ?",
                     (ms, env_id))
    assert cur.rowcount == 1, env_id


def set_key_created_at(db, env_id, key_id, ms):
    cur = db.execute("UPDATE signing_keys SET created_at = ? WHERE id = ? AND environment_id = ?",
                     (ms, key_id, env_id))
    assert cur.rowcount == 1, key_id


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_dep(admin, mgmt_server):
    """One environment for the refused updates, each of which must leave its policy unchanged."""
    return Deployment(admin, mgmt_server)


@pytest.fixture()
def restartable():
    """A server of its own over a SQLite file the test edits while the server is stopped."""
    server = TollgateServer(extra_args=["--auth-url", PUBLIC, "--api-url", PUBLIC])
    try:
        server.start()
        yield server
    finally:
        code = server.stop()
        server.tmp.cleanup()
    assert code in (0, None), server.logs()


# -- the policy object ---------------------------------------------------------------------------


def test_new_environment_gets_the_default_policy(dep, admin, mgmt_server):
    policy = the_policy(admin, dep.env)
    keys = dep.keys()
    assert len(keys) == 1 and keys[0]["default"] is True, keys
    key = keys[0]
    assert policy["currentKeyId"] == key["id"], (policy, key)
    assert policy["enabled"] is True, policy
    assert (policy["algorithm"], policy["keyLength"], policy["signatureAlgorithm"]) == (
        "RSA", 2048, "SHA256withRSA"), policy
    assert (policy["validityPeriod"], policy["rotationPeriod"], policy["overlapPeriod"]) == (
        365, 90, 7), policy
    assert policy["dn"] == key["subjectDN"], (policy, key)
    assert "nextKeyId" not in policy, policy
    # rotatedAt is the environment's creation; the first rotation is due 90 days later.
    env = expect(admin.get(env_path(dep.env)), 200)
    created = parse_ts(env["createdAt"])
    assert abs(parse_ts(policy["rotatedAt"]) - created) < datetime.timedelta(seconds=1), (
        policy, env)
    assert abs(parse_ts(policy["createdAt"]) - created) < datetime.timedelta(seconds=1), policy
    assert_schedule(policy, 90)
    # Each environment has its own policy.
    other = Deployment(admin, mgmt_server)
    other_policy = the_policy(admin, other.env)
    assert other_policy["id"] != policy["id"], (other_policy, policy)
    assert other_policy["currentKeyId"] == other.keys()[0]["id"] != key["id"]


def test_init_environment_has_a_policy_on_its_default_key(admin, mgmt_server):
    env_id = mgmt_server.env_id
    policy = the_policy(admin, env_id)
    default = [k["id"] for k in admin.items(f"/environments/{env_id}/keys", "keys")
               if k["default"]]
    assert default == [policy["currentKeyId"]], (default, policy)


def test_update_changes_only_the_given_fields(dep, admin):
    before = the_policy(admin, dep.env)
    got = updated(admin, dep.env, before, {"rotationPeriod": 30, "overlapPeriod": 3})
    assert got["rotationPeriod"] == 30 and got["overlapPeriod"] == 3, got
    assert without(got, "rotationPeriod", "overlapPeriod", "nextRotationAt", "updatedAt") == \
        without(before, "rotationPeriod", "overlapPeriod", "nextRotationAt", "updatedAt")
    assert_schedule(got, 30)

    # A new algorithm without keyLength takes that algorithm's length and signature.
    ec = updated(admin, dep.env, got, {"algorithm": "EC"})
    assert (ec["algorithm"], ec["keyLength"], ec["signatureAlgorithm"]) == (
        "EC", 256, "SHA256withECDSA"), ec
    assert ec["rotationPeriod"] == 30 and ec["overlapPeriod"] == 3, ec
    assert ec["currentKeyId"] == before["currentKeyId"], ec
    assert [k["id"] for k in dep.keys()] == [before["currentKeyId"]]  # no key made by a PUT

    rsa = updated(admin, dep.env, ec, {"algorithm": "RSA", "keyLength": 4096})
    assert (rsa["algorithm"], rsa["keyLength"], rsa["signatureAlgorithm"]) == (
        "RSA", 4096, "SHA256withRSA"), rsa
    rsa = updated(admin, dep.env, rsa, {"keyLength": 3072})
    assert (rsa["algorithm"], rsa["keyLength"]) == ("RSA", 3072), rsa

    ed = updated(admin, dep.env, rsa, {"algorithm": "EdDSA"})
    assert ed["algorithm"] == "EdDSA" and ed["keyLength"] == 256, ed
    ed = updated(admin, dep.env, ed, {"algorithm": "Ed25519", "signatureAlgorithm": "EdDSA"})
    assert ed["algorithm"] == "Ed25519" and ed["keyLength"] == 256, ed
    back = updated(admin, dep.env, ed, {"algorithm": "RSA"})
    assert (back["algorithm"], back["keyLength"], back["signatureAlgorithm"]) == (
        "RSA", 2048, "SHA256withRSA"), back

    # A long period: the current key expires (after 365 days) before 3000 days have passed, so
    # the rotation is due a token lifetime before its expiry (the environment's longest lifetime
    # is the default hour), when its last tokens expire with it.
    wide = updated(admin, dep.env, back, {"name": "n" * 256, "dn": "CN=x,O=y",
                                          "validityPeriod": 3650, "rotationPeriod": 3000,
                                          "overlapPeriod": 300})
    assert (wide["name"], wide["dn"]) == ("n" * 256, "CN=x,O=y"), wide
    assert (wide["validityPeriod"], wide["rotationPeriod"], wide["overlapPeriod"]) == (
        3650, 3000, 300), wide
    current = expect(admin.get(dep.key_path(wide["currentKeyId"])), 200)
    assert parse_ts(wide["nextRotationAt"]) == (parse_ts(current["expiresAt"])
                                                - datetime.timedelta(hours=1)), (wide, current)

    # The edges of the ranges. With overlapPeriod = rotationPeriod a next key is due at once, so
    # the policy is disabled first: the module's server runs a rotation pass every 60 s.
    edge = updated(admin, dep.env, wide, {"enabled": False, "validityPeriod": 3650,
                                          "rotationPeriod": 1000, "overlapPeriod": 1000})
    assert (edge["validityPeriod"], edge["rotationPeriod"], edge["overlapPeriod"]) == (
        3650, 1000, 1000), edge
    narrow = updated(admin, dep.env, edge, {"validityPeriod": 3, "rotationPeriod": 1,
                                            "overlapPeriod": 1})
    assert (narrow["validityPeriod"], narrow["rotationPeriod"], narrow["overlapPeriod"]) == (
        3, 1, 1), narrow
    assert narrow["dn"] == "CN=x,O=y" and narrow["name"] == "n" * 256, narrow
    assert narrow["enabled"] is False and "nextRotationAt" not in narrow, narrow

    # An empty body changes nothing.
    same = updated(admin, dep.env, narrow, {})
    assert without(same, "updatedAt") == without(narrow, "updatedAt")
    assert [k["id"] for k in dep.keys()] == [before["currentKeyId"]]


def test_enabled_decides_whether_a_rotation_is_scheduled(dep, admin):
    before = the_policy(admin, dep.env)
    off = updated(admin, dep.env, before, {"enabled": False})
    assert off["enabled"] is False and "nextRotationAt" not in off, off
    assert off["rotatedAt"] == before["rotatedAt"], off
    # Enabling restarts the schedule: the policy forgets when it last rotated, and its next check
    # takes the default key afresh (rotatedAt then, nextRotationAt a rotation period later).
    on = updated(admin, dep.env, off, {"enabled": True})
    assert on["enabled"] is True, on
    assert on["currentKeyId"] == before["currentKeyId"], (on, before)
    assert "rotatedAt" not in on and "nextRotationAt" not in on, on


def test_put_of_the_object_as_read_changes_nothing(dep, admin):
    before = the_policy(admin, dep.env)
    got = updated(admin, dep.env, before, dict(before))
    assert without(got, "updatedAt") == without(before, "updatedAt")


def test_read_only_fields_are_ignored(dep, admin):
    before = the_policy(admin, dep.env)
    other_env = create_env(admin)["id"]
    long_ago = "2001-01-01T00:00:00.000Z"
    body = {"id": UNKNOWN_ID, "currentKeyId": UNKNOWN_ID, "nextKeyId": UNKNOWN_ID,
            "rotatedAt": long_ago, "nextRotationAt": long_ago, "createdAt": long_ago,
            "updatedAt": long_ago, "default": False, "environment": {"id": other_env},
            "_links": {"self": {"href": "http://elsewhere.test/"}}, "name": "renamed"}
    got = updated(admin, dep.env, before, body)
    assert got["name"] == "renamed", got
    assert without(got, "name", "updatedAt") == without(before, "name", "updatedAt")
    assert got["updatedAt"] != long_ago, got
    expect_not_found(admin.get(policy_path(dep.env, UNKNOWN_ID)))
    assert the_policy(admin, other_env)["id"] != before["id"]


# -- refused requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("body,target", [
    ({"rotationPeriod": 0}, "rotationPeriod"),
    ({"rotationPeriod": 3651}, "rotationPeriod"),
    ({"rotationPeriod": "x"}, "rotationPeriod"),
    ({"rotationPeriod": "30"}, "rotationPeriod"),
    ({"overlapPeriod": 0}, "overlapPeriod"),
    ({"overlapPeriod": 91}, "overlapPeriod"),
    ({"validityPeriod": 0}, "validityPeriod"),
    ({"validityPeriod": 3651}, "validityPeriod"),
    ({"validityPeriod": 97}, "validityPeriod"),
    ({"validityPeriod": 120, "rotationPeriod": 110, "overlapPeriod": 10}, "validityPeriod"),
    ({"rotationPeriod": 400}, "validityPeriod"),
    ({"algorithm": "DSA"}, "algorithm"),
    ({"algorithm": "rsa"}, "algorithm"),
    ({"keyLength": 1024}, "keyLength"),
    ({"keyLength": "2048"}, "keyLength"),
    ({"algorithm": "EC", "keyLength": 2048}, "keyLength"),
    ({"usageType": "ENCRYPTION"}, "usageType"),
    ({"signatureAlgorithm": "SHA256withECDSA"}, "signatureAlgorithm"),
    ({"algorithm": "EC", "signatureAlgorithm": "SHA256withRSA"}, "signatureAlgorithm"),
    ({"algorithm": "Ed25519", "signatureAlgorithm": "SHA256withRSA"}, "signatureAlgorithm"),
    ({"dn": "garbage"}, "dn"),
    ({"enabled": "yes"}, "enabled"),
    ({"name": ""}, "name"),
    ({"name": "n" * 257}, "name"),
])
def test_invalid_values_are_400_naming_the_field(shared_dep, admin, body, target):
    before = the_policy(admin, shared_dep.env)
    resp = expect_error(put_policy(admin, shared_dep.env, before["id"], body), 400,
                        "INVALID_DATA")
    assert any(d.get("target") == target and d["code"] in FIELD_ERRORS
               for d in resp["details"]), (body, resp)
    assert the_policy(admin, shared_dep.env) == before


@pytest.mark.parametrize("data,content_type,status", [
    (b"{", "application/json", 400),
    (b"[]", "application/json", 400),
    (b'"rotationPeriod"', "application/json", 400),
    (b'{"rotationPeriod": 30}', "text/plain", 415),
])
def test_body_that_is_not_a_json_object(shared_dep, admin, data, content_type, status):
    before = the_policy(admin, shared_dep.env)
    expect_error(put_policy_raw(admin, shared_dep.env, before["id"], data, content_type), status,
                 "INVALID_REQUEST")
    assert the_policy(admin, shared_dep.env) == before


def test_post_and_delete_are_405(shared_dep, admin):
    before = the_policy(admin, shared_dep.env)
    resp = admin.post(policies_path(shared_dep.env), without(before, "id", "_links"))
    expect_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET"}, resp.headers
    resp = admin.delete(policy_path(shared_dep.env, before["id"]))
    expect_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET", "PUT"}, resp.headers
    assert the_policy(admin, shared_dep.env) == before


def test_unknown_malformed_and_foreign_ids_are_404(shared_dep, dep, admin):
    env = shared_dep.env
    before = the_policy(admin, env)
    foreign = the_policy(admin, dep.env)
    for policy_id in (UNKNOWN_ID, "krp-1", foreign["id"]):
        expect_not_found(admin.get(policy_path(env, policy_id)))
        expect_not_found(put_policy(admin, env, policy_id, {"rotationPeriod": 30}))
    assert the_policy(admin, env) == before
    assert the_policy(admin, dep.env) == foreign


def test_who_may_read_and_update(dep, admin):
    env = dep.env
    before = the_policy(admin, env)
    path = policy_path(env, before["id"])
    reader = create_worker(admin, env, [(READ_ONLY, env)])[2]
    developer = create_worker(admin, env, [(APP_DEVELOPER, env)])[2]
    other_env = create_env(admin)["id"]
    outsider = create_worker(admin, other_env, [(ENV_ADMIN, other_env)])[2]

    # Every role of the environment reads it.
    for caller in (reader, developer):
        assert expect(caller.get(policies_path(env)), 200)["_embedded"][COLLECTION] == [before]
        assert expect(caller.get(path), 200) == before
    # Only the roles that may create signing keys update it.
    for caller in (reader, developer):
        expect_forbidden(caller.put(path, {"rotationPeriod": 30}))
    # A caller whose roles do not reach the environment neither reads nor updates.
    expect_forbidden(outsider.get(policies_path(env)))
    expect_forbidden(outsider.get(path))
    expect_forbidden(outsider.put(path, {"rotationPeriod": 30}))
    assert the_policy(admin, env) == before

    got = expect(dep.caller.put(path, {"rotationPeriod": 30}), 200)  # Environment Admin
    assert got["rotationPeriod"] == 30, got
    got = expect(admin.put(path, {"rotationPeriod": 45}), 200)  # Organization Admin
    assert got["rotationPeriod"] == 45, got
    assert the_policy(admin, env)["rotationPeriod"] == 45


# -- manual default changes ----------------------------------------------------------------------


def test_making_a_key_default_by_hand_restarts_the_schedule(dep, admin):
    before = the_policy(admin, dep.env)
    old_key = before["currentKeyId"]
    key = admin.create(dep.keys_path, {"algorithm": "EC", "keyLength": 256})
    # A key made by hand is not the policy's next key.
    unchanged = the_policy(admin, dep.env)
    assert unchanged["currentKeyId"] == old_key and "nextKeyId" not in unchanged, unchanged
    assert unchanged["rotatedAt"] == before["rotatedAt"], unchanged

    started = datetime.datetime.now(datetime.timezone.utc)
    expect(dep.put(key, default=True), 200)
    finished = datetime.datetime.now(datetime.timezone.utc)
    policy = the_policy(admin, dep.env)
    assert policy["currentKeyId"] == key["id"], policy
    rotated = parse_ts(policy["rotatedAt"])
    assert rotated > parse_ts(before["rotatedAt"]), (policy, before)
    slack = datetime.timedelta(seconds=1)
    assert started - slack <= rotated <= finished + slack, (policy, started, finished)
    assert_schedule(policy, 90)
    # The policy's spec is not the key's: only its state moved.
    assert without(policy, "currentKeyId", "rotatedAt", "nextRotationAt", "updatedAt") == \
        without(before, "currentKeyId", "rotatedAt", "nextRotationAt", "updatedAt")
    assert kid(dep.token()) == key["id"]

    # And back to the first key.
    first = expect(admin.get(dep.key_path(old_key)), 200)
    expect(dep.put(first, default=True), 200)
    again = the_policy(admin, dep.env)
    assert again["currentKeyId"] == old_key, again
    assert parse_ts(again["rotatedAt"]) >= rotated, (again, policy)
    assert kid(dep.token()) == old_key


# -- the rotation --------------------------------------------------------------------------------


def test_scheduled_rotation_publishes_ahead_then_switches(restartable):
    server = restartable
    admin = Api(server)
    dep = Deployment(admin, server)
    env = dep.env
    policy = the_policy(admin, env)
    old_key = policy["currentKeyId"]
    assert [k["id"] for k in dep.keys()] == [old_key]
    token_before = dep.token()
    assert kid(token_before) == old_key
    # The next key is made from the policy's spec.
    policy = updated(admin, env, policy, {"algorithm": "EC", "dn": "CN=rotated,O=Tollgate",
                                          "validityPeriod": 400})

    # 85 days after the last rotation the 90-day rotation is within the 7-day overlap: the next
    # key is created and published, but tokens are still signed by the current key.
    rotated_ms = now_ms() - 85 * DAY_MS
    restart_with(server, lambda db: set_rotated_at(db, env, rotated_ms))
    policy = wait_for("nextKeyId", lambda: policy_with_next_key(admin, env))
    next_key = policy["nextKeyId"]
    assert policy["currentKeyId"] == old_key, policy
    assert parse_ts(policy["rotatedAt"]) == from_ms(rotated_ms), policy
    assert_schedule(policy, 90)
    keys = {k["id"]: k for k in dep.keys()}
    assert set(keys) == {old_key, next_key}, keys
    made = keys[next_key]
    check_key(made)
    assert made["default"] is False and made["status"] == "VALID", made
    assert (made["algorithm"], made["keyLength"], made["signatureAlgorithm"]) == (
        "EC", 256, "SHA256withECDSA"), made
    assert made["subjectDN"] == "CN=rotated,O=Tollgate" and made["validityPeriod"] == 400, made
    assert keys[old_key]["default"] is True, keys[old_key]
    assert jwks_kids(server, env) == sorted([old_key, next_key])
    token_during = dep.token()
    assert kid(token_during) == old_key
    # A pass that finds the next key already there does not make another one.
    restart_with(server, lambda db: None)
    assert without(the_policy(admin, env), "_links") == without(policy, "_links")
    assert set(k["id"] for k in dep.keys()) == {old_key, next_key}

    # 91 days after the last rotation, with the next key published for 8 days (> overlap): the
    # next key becomes the default.
    def past_due(db):
        set_rotated_at(db, env, now_ms() - 91 * DAY_MS)
        set_key_created_at(db, env, next_key, now_ms() - 8 * DAY_MS)

    switch_started = datetime.datetime.now(datetime.timezone.utc)
    restart_with(server, past_due)
    token_after = wait_for("a token signed by the next key",
                           lambda: token_signed_by(dep, next_key))
    policy = the_policy(admin, env)
    assert policy["currentKeyId"] == next_key and "nextKeyId" not in policy, policy
    rotated = parse_ts(policy["rotatedAt"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert switch_started - datetime.timedelta(seconds=1) <= rotated <= now, (policy, now)
    assert now - rotated < datetime.timedelta(minutes=1), policy
    assert_schedule(policy, 90)
    keys = {k["id"]: k for k in dep.keys()}
    assert set(keys) == {old_key, next_key}, keys
    assert keys[next_key]["default"] is True and keys[old_key]["default"] is False, keys
    assert keys[old_key]["status"] == "VALID", keys[old_key]

    # The retired key stays published: tokens it signed, before and during the overlap, still
    # verify, as do the new key's.
    assert jwks_kids(server, env) == sorted([old_key, next_key])
    for token in (token_before, token_during):
        header = verify(server, env, token, PUBLIC, PUBLIC)
        assert header["alg"] == "RS256" and header["kid"] == old_key, header
    header = verify(server, env, token_after, PUBLIC, PUBLIC)
    assert header["alg"] == "ES256" and header["kid"] == next_key, header
    # The server itself still accepts the old key's tokens, and the new one's.
    expect(dep.caller.get(dep.keys_path, token=token_before), 200)
    expect(dep.caller.get(dep.keys_path, token=token_after), 200)

    # The next pass finds nothing to do.
    restart_with(server, lambda db: None)
    assert without(the_policy(admin, env), "_links") == without(policy, "_links")
    assert kid(dep.token()) == next_key


def test_disabled_policy_never_rotates(restartable):
    server = restartable
    admin = Api(server)
    dep = Deployment(admin, server)
    env = dep.env
    policy = the_policy(admin, env)
    old_key = policy["currentKeyId"]
    off = updated(admin, env, policy, {"enabled": False})
    assert off["enabled"] is False and "nextRotationAt" not in off, off

    # 200 days after the last rotation a 90-day policy is long past due; disabled, it is left
    # alone, restart after restart.
    long_ago = now_ms() - 200 * DAY_MS
    for _ in range(2):
        restart_with(server, lambda db: set_rotated_at(db, env, long_ago))
        policy = the_policy(admin, env)
        assert policy["enabled"] is False, policy
        assert "nextKeyId" not in policy and "nextRotationAt" not in policy, policy
        assert policy["currentKeyId"] == old_key, policy
        assert parse_ts(policy["rotatedAt"]) == from_ms(long_ago), policy
        assert [k["id"] for k in dep.keys()] == [old_key]
        assert jwks_kids(server, env) == [old_key]
        assert kid(dep.token()) == old_key

    # The same stored state with the policy enabled does call for a next key (the control).
    on = updated(admin, env, policy, {"enabled": True})
    assert on["enabled"] is True, on
    restart_with(server, lambda db: set_rotated_at(db, env, long_ago))
    policy = wait_for("nextKeyId", lambda: policy_with_next_key(admin, env))
    # Only published: the switch waits until the next key has been published for overlapPeriod.
    assert policy["currentKeyId"] == old_key, policy
    assert jwks_kids(server, env) == sorted([old_key, policy["nextKeyId"]])
    assert kid(dep.token()) == old_key
