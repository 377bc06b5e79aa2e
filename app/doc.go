// Package app holds Tollgate's use cases. It is the only place that decides
// who may do what: every method takes the acting principal, resolves the
// organization, checks membership (a non-member gets ENotFound, so that
// other tenants' resources are indistinguishable from missing ones) and role
// (ForbiddenError for a member whose role is too low), and writes the audit
// event in the same transaction as the change it records.
package app
