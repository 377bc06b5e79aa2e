package server

import "net/http"

// apiPrefix is the subtree pattern the admin API's mux is mounted at.
const apiPrefix = "/api/"

// routes lists every route of Tollgate in one place.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	api.Handle("POST /api/v1/session", s.public(s.handleSignIn))
	api.Handle("POST /api/v1/credentials/leaked", s.public(s.handleLeakReport))
	api.Handle("DELETE /api/v1/session", s.api(s.handleSignOut))
	api.Handle("GET /api/v1/me", s.api(s.handleMe))
	api.Handle("GET /api/v1/me/sessions", s.api(s.handleMySessions))
	api.Handle("DELETE /api/v1/me/sessions/{id}", s.api(s.handleRevokeMySession))

	api.Handle("POST /api/v1/orgs", s.api(s.handleCreateOrg))
	api.Handle("GET /api/v1/orgs/{org}", s.api(s.handleGetOrg))
	api.Handle("PATCH /api/v1/orgs/{org}", s.api(s.handleUpdateOrg))
	api.Handle("GET /api/v1/orgs/{org}/policy-violations", s.api(s.handlePolicyViolations))
	api.Handle("GET /api/v1/orgs/{org}/webhooks", s.api(s.handleListWebhooks))
	api.Handle("POST /api/v1/orgs/{org}/webhooks", s.api(s.handleCreateWebhook))
	api.Handle("GET /api/v1/orgs/{org}/webhooks/{id}", s.api(s.handleGetWebhook))
	api.Handle("PATCH /api/v1/orgs/{org}/webhooks/{id}", s.api(s.handleUpdateWebhook))
	api.Handle("DELETE /api/v1/orgs/{org}/webhooks/{id}", s.api(s.handleDeleteWebhook))
	api.Handle("GET /api/v1/orgs/{org}/webhooks/{id}/deliveries", s.api(s.handleListWebhookDeliveries))

	api.Handle("GET /api/v1/orgs/{org}/members", s.api(s.handleListMembers))
	api.Handle("PATCH /api/v1/orgs/{org}/members/{user_id}", s.api(s.handleChangeRole))
	api.Handle("DELETE /api/v1/orgs/{org}/members/{user_id}", s.api(s.handleRemoveMember))
	api.Handle("POST /api/v1/orgs/{org}/invitations", s.api(s.handleInvite))
	api.Handle("POST /api/v1/invitations/accept", s.public(s.handleAcceptInvitation))

	api.Handle("GET /api/v1/orgs/{org}/service-accounts", s.api(s.handleListServiceAccounts))
	api.Handle("POST /api/v1/orgs/{org}/service-accounts", s.api(s.handleCreateServiceAccount))
	api.Handle("GET /api/v1/orgs/{org}/service-accounts/{id}", s.api(s.handleGetServiceAccount))
	api.Handle("PATCH /api/v1/orgs/{org}/service-accounts/{id}", s.api(s.handleUpdateServiceAccount))
	api.Handle("DELETE /api/v1/orgs/{org}/service-accounts/{id}", s.api(s.handleDeleteServiceAccount))
	api.Handle("POST /api/v1/orgs/{org}/service-accounts/{id}/disable", s.api(s.handleSetServiceAccountStatus(false)))
	api.Handle("POST /api/v1/orgs/{org}/service-accounts/{id}/enable", s.api(s.handleSetServiceAccountStatus(true)))
	api.Handle("POST /api/v1/orgs/{org}/service-accounts/{id}/secrets", s.api(s.handleRotateSecret))

	api.Handle("GET /api/v1/orgs/{org}/service-accounts/{id}/keys", s.api(s.handleListClientKeys))
	api.Handle("POST /api/v1/orgs/{org}/service-accounts/{id}/keys", s.api(s.handleAddClientKey))
	api.Handle("DELETE /api/v1/orgs/{org}/service-accounts/{id}/keys/{key_id}", s.api(s.handleDeleteClientKey))
	api.Handle("GET /api/v1/orgs/{org}/service-accounts/{id}/federated-credentials", s.api(s.handleListFederated))
	api.Handle("POST /api/v1/orgs/{org}/service-accounts/{id}/federated-credentials", s.api(s.handleAddFederated))
	api.Handle("DELETE /api/v1/orgs/{org}/service-accounts/{id}/federated-credentials/{fc_id}", s.api(s.handleDeleteFederated))

	api.Handle("GET /api/v1/orgs/{org}/tokens", s.api(s.handleListAPITokens))
	api.Handle("POST /api/v1/orgs/{org}/tokens", s.api(s.handleCreateAPIToken))
	api.Handle("POST /api/v1/orgs/{org}/tokens/import", s.api(s.handleImportAPIToken))
	api.Handle("GET /api/v1/orgs/{org}/tokens/{id}", s.api(s.handleGetAPIToken))
	api.Handle("PATCH /api/v1/orgs/{org}/tokens/{id}", s.api(s.handleUpdateAPIToken))
	api.Handle("DELETE /api/v1/orgs/{org}/tokens/{id}", s.api(s.handleDeleteAPIToken))
	api.Handle("POST /api/v1/orgs/{org}/tokens/{id}/reassign", s.api(s.handleReassignAPIToken))

	api.Handle("GET /api/v1/orgs/{org}/audit-events", s.api(s.handleListAuditEvents))
	api.Handle("GET /api/v1/orgs/{org}/audit-events/export", s.api(s.handleExportAuditEvents))

	mux := http.NewServeMux()
	mux.Handle(apiPrefix, apiHeaders(s.caller("api", s.csrf(s.problemOnNoRoute(api)))))
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)

	mux.HandleFunc("POST /oauth2/token", s.handleTokenEndpoint)
	mux.HandleFunc("POST /oauth2/device_authorization", s.handleDeviceAuthorization)
	mux.HandleFunc("POST /oauth2/introspect", s.oauthClient("introspect", s.handleIntrospect))
	mux.HandleFunc("POST /oauth2/revoke", s.oauthClient("revoke", s.handleRevoke))
	mux.HandleFunc("GET /oauth2/jwks", s.handleJWKS)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleMetadata)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleMetadata)
	mux.HandleFunc("/check", s.handleCheck)
	s.consoleRoutes(mux)
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	// A panic becomes a 500 inside observe, so that it is logged, traced and
	// counted like any answer.
	return s.hsts(s.closeWhileDraining(s.observe(s.recoverer(s.plainInput(routeFinder(mux, apiPrefix, api), routed(mux))))))
}
