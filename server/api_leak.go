package server

import (
	"encoding/json"
	"net/http"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
)

type leakReportJSON struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

type leakVerdictJSON struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// handleLeakReport: POST /api/v1/credentials/leaked, a secret scanner's
// report in the shape of GitHub's secret scanning partner programme (P3):
// a JSON array of {token,type,url,source} → 200 with an array of
// {token_hash,token_type,label} in the same order. Anyone may call it,
// under Limits.Leak per address; fields it does not know are ignored, as
// a partner's payload may grow.
func (s *Server) handleLeakReport(w http.ResponseWriter, r *http.Request, _ app.Actor) error {
	ac, err := s.authn.LeakReport(r.Context(), s.request(r, "leak_report"))
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := s.decode(w, r, &raw); err != nil {
		return err
	}
	var reports []leakReportJSON
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &reports) != nil {
		return malformed("", "the body must be a JSON array of {token, type, url, source}")
	}
	in := make([]tollgate.LeakReport, len(reports))
	for i, rep := range reports {
		in[i] = tollgate.LeakReport{Token: rep.Token, Type: rep.Type, URL: rep.URL, Source: rep.Source}
	}
	verdicts, err := s.app.ReportLeaked(r.Context(), ac, in)
	if err != nil {
		return err
	}
	out := make([]leakVerdictJSON, len(verdicts))
	for i, v := range verdicts {
		out[i] = leakVerdictJSON{TokenHash: v.TokenHash, TokenType: v.TokenType, Label: v.Label}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
