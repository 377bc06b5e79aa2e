package oauth

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what the token service does. Reuse of a token is counted
// here only, never audited (DESIGN.md L2).
type Metrics struct {
	issued prometheus.Counter
	reused prometheus.Counter
	errors *prometheus.CounterVec
}

// NewMetrics registers the token service's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		issued: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_access_tokens_issued_total",
			Help: "Access tokens minted by the token endpoint."}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_access_tokens_reused_total",
			Help: "Token requests answered with the still-valid current token."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_oauth_errors_total",
			Help: "OAuth error responses, by endpoint and error code."}, []string{"endpoint", "error"}),
	}
	reg.MustRegister(m.issued, m.reused, m.errors)
	return m
}

// Error counts an error answer of endpoint.
func (m *Metrics) Error(endpoint, code string) { m.errors.WithLabelValues(endpoint, code).Inc() }
