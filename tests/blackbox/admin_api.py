"""A management-API caller for the black-box tests: a Bearer token of a WORKER (by default the
admin `tollgate init` printed), JSON in and out, the status checked by each call."""

import requests


class AdminApi:
    def __init__(self, server, client_id=None, secret=None, env_id=None):
        self.server = server
        init = server.admin
        resp = requests.post(server.token_url(env_id or init["environmentId"]), timeout=30,
                             data={"grant_type": "client_credentials"},
                             auth=(client_id or init["clientId"], secret or init["clientSecret"]))
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]
        self.http = requests.Session()

    def request(self, method, path, body=None):
        """The raw answer of `method` on /v1`path`."""
        return self.http.request(method, self.server.base_url + "/v1" + path, json=body,
                                 timeout=60, headers={"Authorization": "Bearer " + self.token})

    def call(self, method, path, body=None, expect=200):
        """The JSON answer (None for an empty one), which must have status `expect`."""
        resp = self.request(method, path, body)
        assert resp.status_code == expect, (method, path, body, resp.status_code, resp.text)
        if not resp.content:
            return None
        assert resp.headers["Content-Type"].split(";")[0] == "application/json", resp.headers
        return resp.json()

    def create(self, path, body):
        return self.call("POST", path, body, expect=201)
