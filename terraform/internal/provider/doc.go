// Package provider is Tollgate's Terraform provider, built on
// terraform-plugin-framework over the Go client (package client) of the
// admin API.
//
// Resources: tollgate_service_account, tollgate_service_account_secret,
// tollgate_service_account_key, tollgate_federated_credential and
// tollgate_api_token; data source: tollgate_service_account. Each resource
// changes in place what the API can change (PATCH, disable/enable,
// reassign) and replaces what it cannot; Read refreshes from the API, and
// a resource the API no longer has (404) leaves the state. Secrets and
// tokens the server shows once are sensitive attributes set at creation.
//
// The tests drive the provider through the Terraform plugin protocol
// (tfprotov6), as Terraform would, against a real Tollgate in-process.
package provider
