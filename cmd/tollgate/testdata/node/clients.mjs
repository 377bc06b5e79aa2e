// Real, unmodified third-party JavaScript OAuth clients (oauth4webapi and
// openid-client, both by panva) against a running Tollgate. Run by
// TestNodeClients in cmd/tollgate/node_test.go, in two steps:
//
//   node clients.mjs keys
//     Generates the client authentication key pairs with oauth4webapi's
//     generateKeyPair and prints them as JSON:
//       {"ed25519": {"public": JWK, "private": JWK, "thumbprint": "…"},
//        "es256": {…}, "dpop_client": {…}}
//     The test registers the public JWKs (as WebCrypto exported them)
//     through the admin API and passes the private ones back.
//
//   node clients.mjs run
//     Runs the clients and prints one JSON object with what they got.
//     Inputs, from the environment:
//       TOLLGATE_ISSUER          the issuer, as the metadata says it
//       TOLLGATE_CLIENT_ID       an account with the ed25519 and es256 keys
//       TOLLGATE_ED25519_JWK     their private JWKs (JSON)
//       TOLLGATE_ES256_JWK
//       TOLLGATE_ES256_KID       the kid Tollgate gave the es256 key (the
//                                ed25519 assertions carry no kid)
//       TOLLGATE_DPOP_CLIENT_ID  an account with require_dpop and the
//       TOLLGATE_DPOP_CLIENT_JWK   dpop_client key
//       TOLLGATE_RESOURCE_URL    a protected resource behind a gateway that
//                                asks Tollgate's /check about each request
//
// Nothing here works around the server: each library is used as its
// documentation says, and any error is printed and makes the exit status 1.
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'

const mode = process.argv[2]

// keyAlgorithms are the WebCrypto import parameters per generated key.
const keyAlgorithms = {
  ed25519: { alg: 'Ed25519', import: { name: 'Ed25519' } },
  es256: { alg: 'ES256', import: { name: 'ECDSA', namedCurve: 'P-256' } },
  dpop_client: { alg: 'ES256', import: { name: 'ECDSA', namedCurve: 'P-256' } },
}

async function keys() {
  const out = {}
  for (const [name, { alg }] of Object.entries(keyAlgorithms)) {
    const { publicKey, privateKey } = await oauth.generateKeyPair(alg, { extractable: true })
    const pub = await crypto.subtle.exportKey('jwk', publicKey)
    out[name] = {
      public: pub,
      private: await crypto.subtle.exportKey('jwk', privateKey),
      // RFC 7638, as oauth4webapi computes it (its DPoP handle's helper).
      thumbprint: await oauth.DPoP({}, { publicKey, privateKey }).calculateThumbprint(),
    }
  }
  return out
}

function env(name) {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}

// privateKey imports a private JWK from the environment as a signing
// CryptoKey (not extractable).
async function privateKey(name, kind) {
  return crypto.subtle.importKey('jwk', JSON.parse(env(name)), keyAlgorithms[kind].import, false, ['sign'])
}

// describe turns a library error into JSON: its class, code and message,
// and the OAuth error or WWW-Authenticate challenges it carries.
function describe(err) {
  const d = { name: err?.name, code: err?.code, message: err?.message }
  if (err instanceof oauth.ResponseBodyError) {
    Object.assign(d, { status: err.status, error: err.error, error_description: err.error_description })
  } else if (err instanceof oauth.WWWAuthenticateChallengeError) {
    Object.assign(d, { status: err.response?.status, challenges: err.cause })
  } else if (err?.cause !== undefined) {
    d.cause = err.cause instanceof Error ? String(err.cause) : err.cause
  }
  return d
}

// retryOnNonce runs request again, once, when the server asks for a DPoP
// nonce (RFC 9449 §8, §9): the handle has cached the nonce by then.
async function retryOnNonce(request) {
  try {
    return await request()
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    return await request()
  }
}

function tokenSummary(t) {
  return { access_token: t.access_token, token_type: t.token_type, expires_in: t.expires_in }
}

async function run() {
  const issuer = new URL(env('TOLLGATE_ISSUER'))
  const clientID = env('TOLLGATE_CLIENT_ID')
  const out = {}
  const insecure = { [oauth.allowInsecureRequests]: true } // http on 127.0.0.1

  // (a) oauth4webapi: RFC 8414 discovery, then private_key_jwt with an
  // Ed25519 key and with an ES256 key (the latter naming its kid).
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  )
  out.metadata = as
  const c = { client_id: clientID }
  const auths = {
    ed25519: oauth.PrivateKeyJwt(await privateKey('TOLLGATE_ED25519_JWK', 'ed25519')),
    es256: oauth.PrivateKeyJwt({
      key: await privateKey('TOLLGATE_ES256_JWK', 'es256'),
      kid: env('TOLLGATE_ES256_KID'),
    }),
  }
  // Each key's own result, so that one refused key does not hide the other.
  out.oauth4webapi = {}
  for (const [name, auth] of Object.entries(auths)) {
    try {
      const res = await oauth.clientCredentialsGrantRequest(as, c, auth, {}, insecure)
      out.oauth4webapi[name] = tokenSummary(await oauth.processClientCredentialsResponse(as, c, res))
    } catch (err) {
      out.oauth4webapi[name] = { failed: describe(err) }
    }
  }
  const tokens = Object.values(out.oauth4webapi).filter((t) => t.access_token)
  if (tokens.length === 0) throw new Error('no key got a token: ' + JSON.stringify(out.oauth4webapi))
  const token = tokens[0].access_token
  const auth = out.oauth4webapi.es256.access_token ? auths.es256 : auths.ed25519
  const introspect = async () =>
    oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, auth, token, insecure))
  out.oauth4webapi.introspection = await introspect()

  // (c) openid-client: OpenID discovery and a private_key_jwt client
  // credentials grant, for the same account while its token is live.
  const config = await client.discovery(
    issuer,
    clientID,
    undefined,
    client.PrivateKeyJwt(await privateKey('TOLLGATE_ED25519_JWK', 'ed25519')),
    { execute: [client.allowInsecureRequests] },
  )
  out.openid_client = { issuer: config.serverMetadata().issuer }
  try {
    Object.assign(out.openid_client, tokenSummary(await client.clientCredentialsGrant(config)))
  } catch (err) {
    out.openid_client.failed = describe(err)
  }
  // …and the same with its ES256 key, which names its kid.
  const configES = await client.discovery(
    issuer,
    clientID,
    undefined,
    client.PrivateKeyJwt({ key: await privateKey('TOLLGATE_ES256_JWK', 'es256'), kid: env('TOLLGATE_ES256_KID') }),
    { execute: [client.allowInsecureRequests] },
  )
  out.openid_client.es256 = tokenSummary(await client.clientCredentialsGrant(configES))

  // Back to oauth4webapi: revoke the token, then introspect it again.
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, auth, token, insecure))
  out.oauth4webapi.revoked = true
  out.oauth4webapi.introspection_after_revocation = await introspect()

  // (b) oauth4webapi DPoP: a token bound to a fresh key pair, for an
  // account that requires DPoP, then a protected resource through the
  // gateway, with the proof for its method and URL made by oauth4webapi.
  const d = { client_id: env('TOLLGATE_DPOP_CLIENT_ID') }
  const dAuth = oauth.PrivateKeyJwt(await privateKey('TOLLGATE_DPOP_CLIENT_JWK', 'dpop_client'))
  const pair = await oauth.generateKeyPair('ES256') // the private key stays unextractable
  const DPoP = oauth.DPoP(d, pair)
  out.dpop = { jkt: await DPoP.calculateThumbprint() }
  const bound = await retryOnNonce(async () =>
    oauth.processClientCredentialsResponse(
      as,
      d,
      await oauth.clientCredentialsGrantRequest(as, d, dAuth, {}, { DPoP, ...insecure }),
    ),
  )
  Object.assign(out.dpop, tokenSummary(bound))
  // Without a proof, the account's token request is refused.
  try {
    await oauth.processClientCredentialsResponse(as, d, await oauth.clientCredentialsGrantRequest(as, d, dAuth, {}, insecure))
    out.dpop.without_proof = { refused: false }
  } catch (err) {
    out.dpop.without_proof = { refused: true, ...describe(err) }
  }

  const resource = new URL(env('TOLLGATE_RESOURCE_URL'))
  const call = async (options) => {
    try {
      const res = await retryOnNonce(() =>
        oauth.protectedResourceRequest(bound.access_token, 'GET', resource, new Headers(), null, { ...options, ...insecure }),
      )
      return { status: res.status, body: await res.json() }
    } catch (err) {
      return { refused: true, ...describe(err) }
    }
  }
  out.dpop.resource = await call({ DPoP })
  out.dpop.resource_again = await call({ DPoP }) // a new proof each time
  // A downgrade: the same token as a plain Bearer, without a proof.
  out.dpop.as_bearer = await call({})
  return out
}

try {
  let result
  if (mode === 'keys') result = await keys()
  else if (mode === 'run') result = await run()
  else throw new Error('usage: node clients.mjs keys|run')
  process.stdout.write(JSON.stringify(result) + '\n')
} catch (err) {
  process.stderr.write(JSON.stringify(describe(err)) + '\n' + (err?.stack ?? '') + '\n')
  process.exit(1)
}
