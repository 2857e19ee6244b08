// jose verifies one given access token against the issuer's published JWKS (RFC 9068: typ
// at+jwt, iss, aud, exp), for tokens another client obtained (client_credentials.mjs gets its
// own). Usage: node verify_token.mjs ISSUER AUDIENCE TOKEN
// Prints one JSON line: {"header":..., "claims":...}; exits non-zero when verification fails.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const [issuer, audience, token] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' });
console.log(JSON.stringify({ header: decodeProtectedHeader(token), claims: payload }));
