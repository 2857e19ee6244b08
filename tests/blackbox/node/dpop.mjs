// RFC 9449 DPoP with oauth4webapi 3.x, through its public functions only: a key pair made by
// WebCrypto (generateKeyPair), a DPoP handle, clientCredentialsGrantRequest with
// client_secret_basic and the handle, processClientCredentialsResponse. Then the resource
// server's side: protectedResourceRequest sends the token with a fresh proof (with `ath`) to a
// local HTTP listener of this script, and validateJwtAccessToken checks that request: the
// token's signature and claims (RFC 9068), the proof, and that the token's cnf.jkt is the proof
// key's thumbprint. The server listens on loopback http://, so every call passes the library's
// [allowInsecureRequests] option.
//
// Usage: node dpop.mjs PLAN_JSON
//   PLAN: {"issuer", "clientId", "secret", "audience", "alg"}
//   Prints {"response": the token response as processed, "jkt": the thumbprint jose computes for
//   the public key, "claims": what validateJwtAccessToken returned, "nonceRetries": requests made
//   again for a server nonce}, or {"failed": true, ...}.
import * as http from 'node:http';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';

const insecure = { [oauth.allowInsecureRequests]: true };
const plan = JSON.parse(process.argv[2]);
const client = { client_id: plan.clientId };
const issuer = new URL(plan.issuer);

let out;
try {
  const as = await oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));
  const keyPair = await oauth.generateKeyPair(plan.alg, { extractable: true });
  const dpop = oauth.DPoP(client, keyPair);
  // RFC 9449 §8: a server that requires nonces answers use_dpop_nonce with one; the handle
  // keeps it, and the request is made again once.
  let body;
  let nonceRetries = 0;
  for (;;) {
    const response = await oauth.clientCredentialsGrantRequest(as, client,
      oauth.ClientSecretBasic(plan.secret), new URLSearchParams(), { ...insecure, DPoP: dpop });
    try {
      body = await oauth.processClientCredentialsResponse(as, client, response);
      break;
    } catch (e) {
      if (!oauth.isDPoPNonceError(e) || nonceRetries > 0) throw e;
      nonceRetries += 1;
    }
  }
  const jkt = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey), 'sha256');

  // The resource server's view: a real request carrying the token and a proof for it, received
  // by a listener of this script (the answer arrives after the handler ran).
  let seen;
  const server = http.createServer((req, res) => { seen = req; res.end('{}'); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/orders?x=1`;
  await oauth.protectedResourceRequest(body.access_token, 'GET', new URL(url), new Headers(),
    null, { ...insecure, DPoP: dpop });
  server.close();
  const request = new Request(url, { method: seen.method, headers: seen.headers });
  const claims = await oauth.validateJwtAccessToken(as, request, plan.audience,
    { ...insecure, requireDPoP: true });
  out = { response: body, jkt, claims, nonceRetries };
} catch (e) {
  out = {
    failed: true,
    name: e.name,
    code: e.code ?? null,
    error: e.error ?? e.cause?.error ?? null,
    status: e.status ?? e.response?.status ?? null,
    message: e.message,
  };
}
console.log(JSON.stringify(out));
