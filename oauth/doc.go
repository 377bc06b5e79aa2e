// Package oauth is the OAuth 2.0 logic of Tollgate, as the RFCs state it,
// with no HTTP and no storage: parsing token, introspection and revocation
// requests (RFC 6749 §4.4 and §2.3.1, RFC 7662, RFC 7009), the claims of
// JWT access tokens and their verification (RFC 9068), the answers of the
// token and introspection endpoints, and the server metadata (RFC 8414).
//
// Errors are *tollgate.Error values whose chain carries a Code, the RFC
// 6749 §5.2 error the server renders; nothing here knows HTTP statuses.
// Who may do what, token reuse and minting are the app package's; turning
// presented credentials into a caller is the authn package's.
package oauth
