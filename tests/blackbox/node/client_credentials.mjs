// An independent client: openid-client discovers the issuer and fetches a client_credentials
// token; jose verifies it against the discovered JWKS (RFC 9068: typ at+jwt, iss, aud, exp).
// Usage: node client_credentials.mjs ISSUER CLIENT_ID CLIENT_SECRET AUDIENCE AUTH_METHOD [SCOPE]
// Prints one JSON line: {"header":..., "claims":..., "tokenType":..., "expiresIn":...}.
import { Issuer } from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const [issuerUrl, clientId, clientSecret, audience, method, scope] = process.argv.slice(2);
const issuer = await Issuer.discover(issuerUrl);
const client = new issuer.Client({
  client_id: clientId,
  client_secret: clientSecret,
  token_endpoint_auth_method: method,
});
const params = { grant_type: 'client_credentials' };
if (scope) params.scope = scope;
const tokenSet = await client.grant(params);
const jwks = createRemoteJWKSet(new URL(issuer.metadata.jwks_uri));
const { payload } = await jwtVerify(tokenSet.access_token, jwks, {
  issuer: issuer.metadata.issuer,
  audience,
  typ: 'at+jwt',
});
console.log(JSON.stringify({
  header: decodeProtectedHeader(tokenSet.access_token),
  claims: payload,
  tokenType: tokenSet.token_type,
  expiresIn: tokenSet.expires_in,
  issuer: issuer.metadata.issuer,
}));
