// RFC 8693 token exchange with oauth4webapi 3.x, used only through its public functions:
// discovery, genericTokenEndpointRequest (3.x's name for a request of any grant type) with
// client_secret_basic, processGenericTokenEndpointResponse, then validateJwtAccessToken
// (RFC 9068) on the issued token. The server listens on loopback http://, so every call passes
// the library's [allowInsecureRequests] option.
//
// Usage: node token_exchange.mjs PLAN_JSON
//   PLAN: {"issuer", "clientId", "secret", "audience", "subjectToken", "subjectTokenType",
//          "actorToken"?, "actorTokenType"?}
//   Prints {"grantTypes": discovery's grant_types_supported, "response": the token response
//   as processGenericTokenEndpointResponse returned it, "claims": what validateJwtAccessToken
//   returned}, or {"failed": true, ...} when the exchange or the validation fails.
import * as oauth from 'oauth4webapi';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const insecure = { [oauth.allowInsecureRequests]: true };

const plan = JSON.parse(process.argv[2]);
const client = { client_id: plan.clientId };
const issuer = new URL(plan.issuer);
const as = await oauth.processDiscoveryResponse(issuer,
  await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }));

const parameters = new URLSearchParams({
  subject_token: plan.subjectToken,
  subject_token_type: plan.subjectTokenType,
});
if (plan.actorToken) {
  parameters.set('actor_token', plan.actorToken);
  parameters.set('actor_token_type', plan.actorTokenType);
}

let out;
try {
  const response = await oauth.genericTokenEndpointRequest(as, client,
    oauth.ClientSecretBasic(plan.secret), GRANT, parameters, insecure);
  const body = await oauth.processGenericTokenEndpointResponse(as, client, response);
  const request = new Request('http://resource-server.test/', {
    headers: { authorization: `Bearer ${body.access_token}` },
  });
  const claims = await oauth.validateJwtAccessToken(as, request, plan.audience, insecure);
  out = { grantTypes: as.grant_types_supported, response: body, claims };
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
