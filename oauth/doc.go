// Package oauth is Tollgate's OAuth 2.0 authorization server logic, with no
// HTTP handlers: the client credentials grant (RFC 6749 §4.4) with client
// authentication by client_secret_basic and client_secret_post (§2.3.1),
// JWT access tokens (RFC 9068), token introspection (RFC 7662), token
// revocation (RFC 7009) and server metadata (RFC 8414). Errors are *Error
// values that the server renders as RFC 6749 §5.2 JSON.
//
// Token reuse (DESIGN.md T2): while a service account's current token is
// valid, a token request returns that same string. The string is kept
// sealed in the database (T3), so every replica returns the same one; a
// transaction per mint (and a per-process single flight) makes sure that
// concurrent requests, on one process or several, mint one token.
package oauth
