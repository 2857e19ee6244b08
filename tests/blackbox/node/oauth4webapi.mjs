// An independent, strict client: oauth4webapi 3.x (RFC 8414 discovery, RFC 6749/7523 client
// authentication, RFC 9068 access-token validation, RFC 7662 introspection, RFC 7009
// revocation), used only through its public functions and unchanged. The server listens on
// loopback http://, so every call passes the library's own [allowInsecureRequests] option.
//
// Usage:
//   node oauth4webapi.mjs keygen
//     An Ed25519 key made by WebCrypto: {"jwk": <public JWK as exported>, "pkcs8": <base64>}.
//   node oauth4webapi.mjs run PLAN.json
//     PLAN: {"issuer", "audience", "clients": [{"name", "method", "clientId", "secret"?,
//            "pkcs8"?, "scope"?}], "introspectors": [{"name", "method", "clientId", "secret"?}]}
//     Prints one JSON object: what discovery fetched and returned for each algorithm, each
//     client's token response, the token's header and the claims validateJwtAccessToken
//     returned, each introspector's answer, then the revocation of every token and the
//     introspections after it. A failure the server answers is recorded, not thrown.
import { readFileSync } from 'node:fs';
import * as oauth from 'oauth4webapi';

const insecure = { [oauth.allowInsecureRequests]: true };
const assertionHeaders = [];  // the headers PrivateKeyJwt signed, in order

function header(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}

// What a failed call tells the caller: the OAuth error of the body, else the library's code.
function failure(e) {
  return {
    failed: true,
    name: e.name,
    code: e.code,
    error: e.error ?? e.cause?.[0]?.parameters?.error ?? null,
    status: e.status ?? e.response?.status ?? null,
    message: e.message,
  };
}

async function authFor(c) {
  switch (c.method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(c.secret);
    case 'client_secret_post':
      return oauth.ClientSecretPost(c.secret);
    case 'client_secret_jwt':
      return oauth.ClientSecretJwt(c.secret);
    case 'private_key_jwt': {
      // As the library signs by default: the CryptoKey alone (no kid), alg from the key. The
      // [modifyAssertion] hook only records the header it chose.
      const key = await crypto.subtle.importKey('pkcs8', Buffer.from(c.pkcs8, 'base64'),
        { name: 'Ed25519' }, false, ['sign']);
      return oauth.PrivateKeyJwt(key, {
        [oauth.modifyAssertion]: (h) => { assertionHeaders.push({ ...h }); },
      });
    }
    case 'none':
      return oauth.None();
    default:
      throw new Error(`unknown method ${c.method}`);
  }
}

async function discover(issuer, algorithm) {
  const fetched = [];
  const options = {
    ...insecure,
    algorithm,
    [oauth.customFetch]: (url, init) => {
      fetched.push(url);
      return fetch(url, init);
    },
  };
  const response = await oauth.discoveryRequest(new URL(issuer), options);
  const as = await oauth.processDiscoveryResponse(new URL(issuer), response);
  return { as, fetched, cacheControl: response.headers.get('cache-control') };
}

async function validate(as, token, audience) {
  const request = new Request('http://resource-server.test/orders', {
    headers: { authorization: `Bearer ${token}` },
  });
  try {
    return { claims: await oauth.validateJwtAccessToken(as, request, audience, insecure) };
  } catch (e) {
    return failure(e);
  }
}

async function introspect(as, who, token) {
  try {
    const response = await oauth.introspectionRequest(as, { client_id: who.clientId },
      await authFor(who), token, insecure);
    return await oauth.processIntrospectionResponse(as, { client_id: who.clientId }, response);
  } catch (e) {
    return failure(e);
  }
}

async function run(plan) {
  const out = { discovery: {}, tokens: {}, introspection: {}, revocation: {}, after: {} };
  let as;
  for (const algorithm of ['oidc', 'oauth2']) {
    const d = await discover(plan.issuer, algorithm);
    out.discovery[algorithm] = { metadata: d.as, fetched: d.fetched, cacheControl: d.cacheControl };
    as ??= d.as;
  }
  // Each client gets a token; validateJwtAccessToken checks every one (RFC 9068).
  const tokens = {};
  for (const c of plan.clients) {
    const client = { client_id: c.clientId };
    const parameters = new URLSearchParams();
    if (c.scope) parameters.set('scope', c.scope);
    try {
      const response = await oauth.clientCredentialsGrantRequest(as, client, await authFor(c),
        parameters, insecure);
      const body = await oauth.processClientCredentialsResponse(as, client, response);
      tokens[c.name] = body.access_token;
      out.tokens[c.name] = {
        tokenType: body.token_type,
        expiresIn: body.expires_in,
        scope: body.scope ?? null,
        header: header(body.access_token),
        validated: await validate(as, body.access_token, plan.audience),
      };
    } catch (e) {
      out.tokens[c.name] = failure(e);
    }
  }
  // Every introspector asks about the first client's token; each client about its own.
  const first = plan.clients.find((c) => tokens[c.name]);
  for (const who of plan.introspectors) {
    out.introspection[who.name] = await introspect(as, who, tokens[first.name]);
  }
  for (const c of plan.clients) {
    if (tokens[c.name]) out.introspection[`self:${c.name}`] = await introspect(as, c, tokens[c.name]);
  }
  // Each client revokes its own token; introspection then answers inactive, while the token's
  // local validation (signature, claims) cannot see the revocation.
  for (const c of plan.clients) {
    if (!tokens[c.name]) continue;
    try {
      const response = await oauth.revocationRequest(as, { client_id: c.clientId },
        await authFor(c), tokens[c.name], insecure);
      await oauth.processRevocationResponse(response);
      out.revocation[c.name] = { revoked: true, status: response.status };
    } catch (e) {
      out.revocation[c.name] = failure(e);
    }
    out.after[c.name] = {
      introspection: await introspect(as, plan.introspectors[0], tokens[c.name]),
      validated: await validate(as, tokens[c.name], plan.audience),
    };
  }
  out.assertionHeaders = assertionHeaders;
  return out;
}

const [command, arg] = process.argv.slice(2);
if (command === 'keygen') {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  console.log(JSON.stringify({ jwk, pkcs8: pkcs8.toString('base64') }));
} else if (command === 'run') {
  console.log(JSON.stringify(await run(JSON.parse(readFileSync(arg, 'utf8')))));
} else {
  console.error('usage: oauth4webapi.mjs keygen | run PLAN.json');
  process.exit(2);
}
