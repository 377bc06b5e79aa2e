// Package authn is Tollgate's one authentication boundary: it turns any
// credential a request presents, with the request's origin and client
// address, into one caller, an app.Actor, or a coded tollgate.Error.
//
// How a request becomes a caller: the server reads a Request off the HTTP
// request (headers, cookie, form, the origin, the client IP through
// --trusted-proxies) and asks one method, by door:
//
//	Caller    admin API and console: a Bearer token, else the session cookie, else anonymous
//	Bearer    /check: an API token (tgp_, tgq_, legacy) or an access token, with the origin rule (A4)
//	Client    token, introspection, revocation: OAuth client authentication (client_secret_basic, client_secret_post)
//	Inspect   the token an authenticated client introspects or revokes
//	Password  sign-in: email and password
//	Invitee   accepting an invitation: anonymous, or an existing user proving their password
//
// Every path goes the same way: refuse what is malformed before any
// look-up (checksums, shapes); refuse an address or identifier over its
// failure limit (Limits, R1, R2) with ERateLimited; answer repeated unknown
// credentials from the negative cache (R3); otherwise read the store
// through bounded caches that expire after CacheTTL; then derive what the
// owner's current state decides (an account disabled or deleted, a role
// lowered: a credential's role is never above its owner's). Failures are
// counted and, over the limit, sampled into the audit log through the app.
//
// Caches are per process. The app broadcasts every committed change
// through the store (tollgate.Change); this package listens and drops what
// the change made stale, here at once and on other replicas within moments
// (PostgreSQL LISTEN/NOTIFY). A load that races an invalidation does not
// store what it read.
//
// A new credential type plugs in here: a client authentication method is
// one more entry of clientMethods (and its parameters in
// oauth.ParseClientAuth); a new bearer format is one more case of
// loadCred. The server only adds a route, if any.
package authn
