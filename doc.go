// Package tollgate is the domain of Tollgate, a server that gives a
// multi-tenant product service accounts and the credentials they use for
// server-to-server calls.
//
// The package holds the types, the rules that can be checked on a value alone
// (Validate methods), the coded Error, and the Store interface that every
// storage backend implements. It imports only the standard library.
//
// Glossary:
//
//   - Organization (org): a tenant. Everything else belongs to exactly one.
//   - User: a human who signs in with an email and a password.
//   - Member: a user's membership in an organization, with a Role.
//   - Role: super_admin, admin, member or viewer, in decreasing power.
//   - Invitation: a one-time, expiring offer to join an organization.
//   - Session: a signed-in browser, identified by a random ID stored hashed.
//   - Service account: a non-human member of one organization, with a role.
//   - Client secret: the credential a service account authenticates with
//     at the token endpoint.
//   - Access token: a short-lived JWT from the token endpoint.
//   - API token: a long-lived bearer token owned by a service account
//     (or, imported from an older system, by a member).
//   - Caller: who a request speaks for once the authn package has checked
//     its credential (app.Actor).
//   - Audit event: an append-only record of a change, written in the same
//     transaction as the change.
package tollgate
