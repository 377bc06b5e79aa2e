package main

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// metricNameRE finds metric names in PromQL: Tollgate's, Go's and the
// process's, which is every name the dashboard uses; groupingRE the
// label lists of by (…) and without (…), whose names are labels.
// selectorRE a metric's label matchers, matcherRE one matcher's label.
var (
	metricNameRE = regexp.MustCompile(`\b(?:tollgate|go|process)_[a-z0-9_]+`)
	groupingRE   = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	selectorRE   = regexp.MustCompile(`\b((?:tollgate|go|process)_[a-z0-9_]+)\{([^}]*)\}`)
	matcherRE    = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)
)

// dashboardPanel is what the test reads of a Grafana panel.
type dashboardPanel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

// TestGrafanaDashboard: deploy/grafana/tollgate.json is a dashboard whose
// every panel queries the data source variable, and every metric any of
// its queries names is exported by a running Tollgate (the families of a
// scrape of a SQLite server and, for the tollgate_pgxpool_* names, of a
// PostgreSQL one), with every label the query selects or groups by.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/tollgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string           `json:"uid"`
		Title      string           `json:"title"`
		Panels     []dashboardPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if dash.UID == "" || dash.Title == "" || len(dash.Panels) < 10 {
		t.Fatalf("dashboard uid %q title %q with %d panels", dash.UID, dash.Title, len(dash.Panels))
	}
	var vars []string
	for _, v := range dash.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"datasource", "job", "instance"} {
		if !slices.Contains(vars, want) {
			t.Errorf("no $%s variable", want)
		}
	}
	type query struct{ panel, expr string }
	var queries []query
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] || p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: duplicate id or bad gridPos", p.ID, p.Title)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q does not query the $datasource variable", p.Title)
		}
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, `job=~"$job"`) || !strings.Contains(tg.Expr, `instance=~"$instance"`) {
				t.Errorf("panel %q: query %q ignores $job or $instance", p.Title, tg.Expr)
			}
			queries = append(queries, query{p.Title, tg.Expr})
		}
	}

	fams := exportedFamilies(t, "sqlite")
	havePG := os.Getenv("TOLLGATE_TEST_POSTGRES") != ""
	if havePG {
		for name, f := range exportedFamilies(t, "postgres") {
			if fams[name] == nil {
				fams[name] = f
			}
		}
	}
	// family is the exported family of a name a query uses (a histogram's
	// _bucket, _count and _sum are its family's), nil for none.
	family := func(name string) *dto.MetricFamily {
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && fams[base] != nil && fams[base].GetType() == dto.MetricType_HISTOGRAM {
				return fams[base]
			}
		}
		return fams[name]
	}
	// hasLabel: job and instance are Prometheus's; le is a bucket's.
	hasLabel := func(name, label string) bool {
		if label == "job" || label == "instance" || label == "le" && strings.HasSuffix(name, "_bucket") {
			return true
		}
		for _, m := range family(name).GetMetric() {
			for _, l := range m.Label {
				if l.GetName() == label {
					return true
				}
			}
		}
		return false
	}
	for _, q := range queries {
		var known []string
		for _, name := range metricNameRE.FindAllString(groupingRE.ReplaceAllString(q.expr, ""), -1) {
			switch {
			case family(name) != nil:
				known = append(known, name)
			case strings.HasPrefix(name, "tollgate_pgxpool_") && !havePG:
				t.Logf("%s not checked: no PostgreSQL (TOLLGATE_TEST_POSTGRES)", name)
			default:
				t.Errorf("panel %q uses %s, which Tollgate does not export", q.panel, name)
			}
		}
		for _, sel := range selectorRE.FindAllStringSubmatch(q.expr, -1) {
			if family(sel[1]) == nil {
				continue
			}
			for _, m := range matcherRE.FindAllStringSubmatch(sel[2], -1) {
				if !hasLabel(sel[1], m[1]) {
					t.Errorf("panel %q selects %s by label %q, which it does not have", q.panel, sel[1], m[1])
				}
			}
		}
		for _, g := range groupingRE.FindAllStringSubmatch(q.expr, -1) {
			for _, label := range strings.Split(g[1], ",") {
				label = strings.TrimSpace(label)
				if label == "" || len(known) == 0 {
					continue
				}
				if !slices.ContainsFunc(known, func(name string) bool { return hasLabel(name, label) }) {
					t.Errorf("panel %q groups by %q, which none of %v has", q.panel, label, known)
				}
			}
		}
	}
}

// exportedFamilies scrapes a fresh server on store after the requests
// that give each labelled family a series: a token, its introspection, a
// good and a bad /check, and wrong client secrets until the failure limit
// (one a minute here) answers 429.
func exportedFamilies(t *testing.T, store string) map[string]*dto.MetricFamily {
	t.Helper()
	ts := startServer(t, databases(t)[store](t), map[string]string{"TOLLGATE_LIMIT_CLIENT": "1/1m"})
	acct := newSA(t, loggedIn(t, ts), "acme", "robot", 600, "viewer")
	id, secret := acct["id"].(string), acct["client_secret"].(string)
	tok := token(t, ts.URL, id, secret)["access_token"].(string)
	introspect(t, ts.URL, id, secret, tok)
	wantCheck(t, check(t, ts.URL, "GET", tok), 200)
	wantCheck(t, check(t, ts.URL, "GET", tok+"x"), 401)
	grant := url.Values{"grant_type": {"client_credentials"}}
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/token", id, secret+"x", true, grant); status != 401 {
		t.Fatalf("a wrong secret: %d", status)
	}
	if status, _, _ := oauthCall(t, ts.URL, "/oauth2/token", id, secret+"x", true, grant); status != 429 {
		t.Fatalf("a second wrong secret over a limit of 1/1m: %d", status)
	}
	fams, _ := scrape(t, ts.URL+"/metrics")
	return fams
}
