// Package server is Tollgate's HTTP interface: the admin JSON API under
// /api/v1 (errors as RFC 9457 problem details), health and readiness, and
// the OpenAPI 3.1 document. Every route is listed in routes.go. Handlers
// translate HTTP to app calls and back; they decide nothing about who may do
// what.
package server
