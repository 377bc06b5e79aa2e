// Package app holds Tollgate's use cases. It is the only place that decides
// who may do what and the only place that writes the audit log.
//
// Every method takes the acting Actor, already authenticated by the authn
// package. Methods on an organization resolve it, check membership (a
// non-member, or another org's credential, gets ENotFound, so that other
// tenants' resources are indistinguishable from missing ones) and role
// (EForbidden for a role too low), and write the audit event in the same
// transaction as the change it records. After a change commits, the app
// broadcasts it (tollgate.Change) through the store, so that every
// process's caches drop what they held of it.
//
// The token endpoint's use case is here too: token reuse (DESIGN.md T2,
// T2a) with a per-process memo of each account's current token, a single
// flight per account, and group commit of new tokens.
package app
