// Package federation discovers and caches the signing keys of external
// OpenID Connect issuers, for federated credentials (workload identity:
// GitHub Actions, GitLab CI, Kubernetes; DESIGN rule K2).
//
// A Fetcher reads an issuer's discovery document as OpenID Connect
// Discovery 1.0 §4 defines it (the document at the issuer's
// /.well-known/openid-configuration, whose issuer must equal the issuer
// exactly, §4.3), then the JWK Set (RFC 7517 §5) its jwks_uri names, and
// keeps the usable signing keys (oauth.ParseJWKSetKeys) for a while.
//
// Everything an issuer answers is untrusted input. Fetches are bounded in
// time and size, accept only 200 answers, follow at most three redirects
// and only within one scheme and host, send no cookies, and run detached
// from any one caller's context. Refetching because of an unknown kid is
// rate-limited per issuer, so tokens naming random kids cannot make
// Tollgate hammer an issuer.
//
// Errors are plain errors whose messages are meant for the client (as an
// OAuth invalid_grant error_description) and the operator alike: they name
// the condition, the issuer and any status code, and never include a
// response body.
package federation
