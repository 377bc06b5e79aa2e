package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

// clientKeyJSON is a registered public key (K1).
type clientKeyJSON struct {
	ID         string          `json:"id"`
	KeyID      string          `json:"kid"`
	Alg        string          `json:"alg"`
	Thumbprint string          `json:"thumbprint"`
	PublicKey  json.RawMessage `json:"public_key"`
	CreatedAt  time.Time       `json:"created_at"`
	CreatedBy  string          `json:"created_by"`
	ExpiresAt  *time.Time      `json:"expires_at"`
	LastUsedAt *time.Time      `json:"last_used_at"`
}

func toClientKey(k *tollgate.ClientKey) clientKeyJSON {
	return clientKeyJSON{ID: k.ID, KeyID: k.KeyID, Alg: k.Algorithm, Thumbprint: k.Thumbprint, PublicKey: k.JWK,
		CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt}
}

// federatedJSON is a federated credential (K2).
type federatedJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Issuer     string            `json:"issuer"`
	Audience   string            `json:"audience"`
	Subject    *string           `json:"subject"`
	Claims     map[string]string `json:"claims"`
	CreatedAt  time.Time         `json:"created_at"`
	CreatedBy  string            `json:"created_by"`
	LastUsedAt *time.Time        `json:"last_used_at"`
}

func toFederated(fc *tollgate.FederatedCredential) federatedJSON {
	out := federatedJSON{ID: fc.ID, Name: fc.Name, Issuer: fc.Issuer, Audience: fc.Audience, Claims: fc.Claims,
		CreatedAt: fc.CreatedAt, CreatedBy: fc.CreatedBy, LastUsedAt: fc.LastUsedAt}
	if fc.Subject != "" {
		out.Subject = &fc.Subject
	}
	if out.Claims == nil {
		out.Claims = map[string]string{}
	}
	return out
}

// handleListClientKeys: GET …/service-accounts/{id}/keys.
func (s *Server) handleListClientKeys(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	keys, err := s.app.ListClientKeys(r.Context(), ac, r.PathValue("org"), r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]clientKeyJSON, len(keys))
	for i := range keys {
		items[i] = toClientKey(&keys[i])
	}
	writeJSON(w, http.StatusOK, newList(items, "")) // a few per account: one page
	return nil
}

// handleAddClientKey: POST …/service-accounts/{id}/keys {public_key,
// expires_at?} → 201. public_key is a JWK object, or a string holding a
// JWK or a PEM public key.
func (s *Server) handleAddClientKey(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		PublicKey json.RawMessage `json:"public_key"`
		ExpiresAt *time.Time      `json:"expires_at"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	key := []byte(req.PublicKey)
	var text string
	if json.Unmarshal(req.PublicKey, &text) == nil {
		key = []byte(text)
	} else if string(req.PublicKey) == "null" {
		key = nil
	}
	k, err := s.app.AddClientKey(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), app.ClientKeyInput{PublicKey: key, ExpiresAt: req.ExpiresAt})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toClientKey(k))
	return nil
}

// handleDeleteClientKey: DELETE …/service-accounts/{id}/keys/{key_id}.
func (s *Server) handleDeleteClientKey(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.DeleteClientKey(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), r.PathValue("key_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleListFederated: GET …/service-accounts/{id}/federated-credentials.
func (s *Server) handleListFederated(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	fcs, err := s.app.ListFederatedCredentials(r.Context(), ac, r.PathValue("org"), r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]federatedJSON, len(fcs))
	for i := range fcs {
		items[i] = toFederated(&fcs[i])
	}
	writeJSON(w, http.StatusOK, newList(items, "")) // a few per account: one page
	return nil
}

// handleAddFederated: POST …/service-accounts/{id}/federated-credentials
// {name,issuer,audience?,subject?,claims?} → 201.
func (s *Server) handleAddFederated(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	var req struct {
		Name     string            `json:"name"`
		Issuer   string            `json:"issuer"`
		Audience string            `json:"audience"`
		Subject  string            `json:"subject"`
		Claims   map[string]string `json:"claims"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	fc, err := s.app.AddFederatedCredential(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), app.FederatedCredentialInput{
		Name: req.Name, Issuer: req.Issuer, Audience: req.Audience, Subject: req.Subject, Claims: req.Claims})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toFederated(fc))
	return nil
}

// handleDeleteFederated: DELETE …/federated-credentials/{fc_id}.
func (s *Server) handleDeleteFederated(w http.ResponseWriter, r *http.Request, ac app.Actor) error {
	if err := s.app.DeleteFederatedCredential(r.Context(), ac, r.PathValue("org"), r.PathValue("id"), r.PathValue("fc_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
