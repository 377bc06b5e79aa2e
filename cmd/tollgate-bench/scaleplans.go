package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/keyfile"
	"github.com/tollgate/tollgate/store/postgres"
	"github.com/tollgate/tollgate/store/sqlite"
)

// planCheck is one statement behind an operation, with how the database
// would run it and what is wrong with that ("" when it uses indexes).
type planCheck struct {
	op, sql string
	args    []any
	plan    []string
	problem string
}

// largeTables grow with the number of accounts, tokens or events: a plan
// that reads one whole does not scale.
var largeTables = map[string]bool{"service_accounts": true, "api_tokens": true, "api_token_origins": true, "audit_events": true, "access_tokens": true}

var offset = regexp.MustCompile(`(?i)\bOFFSET\b`)

// explainingStore is a store whose statements can be recorded and
// explained.
type explainingStore interface {
	tollgate.Store
	Close() error
	Observe(func(query string, args []any))
	Explain(ctx context.Context, query string, args []any) ([]string, error)
}

// checkPlans opens db in this process, runs the store calls behind each
// measured operation as the server does, records their statements and
// explains each with its own arguments on the seeded data.
func checkPlans(ctx context.Context, db, keyFile string, p seedPlan, ids planIDs) ([]planCheck, error) {
	kr, err := keyfile.Load(keyFile, false, io.Discard)
	if err != nil {
		return nil, err
	}
	var s explainingStore
	var scanned func([]string) []string
	if isPostgres(db) {
		ps, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		s, scanned = ps, postgres.ScannedTables
	} else {
		ss, err := sqlite.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		s, scanned = ss, sqlite.ScannedTables
	}
	defer s.Close()
	var checks []planCheck
	op := "" // the operation whose calls are recorded; none when empty
	s.Observe(func(q string, args []any) {
		if op != "" {
			checks = append(checks, planCheck{op: op, sql: q, args: args})
		}
	})

	orgs := listOrgs(p)
	o := orgs[len(orgs)-1]
	orgID, perOrg := seedID(tollgate.PrefixOrg, o), p.accountsPerOrg()
	sa := seedID(tollgate.PrefixServiceAccount, o*perOrg+perOrg/2)
	first := tollgate.Page{Limit: 50}
	// The cursor of each list's last page, found without recording.
	lastPage := func(list func(tollgate.Page) (string, error)) (tollgate.Page, error) {
		var last string
		for cursor := ""; ; {
			next, err := list(tollgate.Page{Limit: 50, Cursor: cursor})
			if err != nil || next == "" {
				return tollgate.Page{Limit: 50, Cursor: last}, err
			}
			last, cursor = next, next
		}
	}
	accountsOf := func(f tollgate.ServiceAccountFilter) func(tollgate.Page) (string, error) {
		return func(pg tollgate.Page) (string, error) {
			_, next, err := s.ListServiceAccounts(ctx, orgID, f, pg)
			return next, err
		}
	}
	accounts := accountsOf(tollgate.ServiceAccountFilter{})
	tokens := func(f tollgate.APITokenFilter) func(tollgate.Page) (string, error) {
		return func(pg tollgate.Page) (string, error) {
			_, next, err := s.ListAPITokens(ctx, orgID, f, pg)
			return next, err
		}
	}
	audit := func(f tollgate.AuditFilter) func(tollgate.Page) (string, error) {
		return func(pg tollgate.Page) (string, error) {
			_, next, err := s.ListAuditEvents(ctx, orgID, f, pg)
			return next, err
		}
	}
	deepAccounts, err := lastPage(accounts)
	if err != nil {
		return nil, err
	}
	deepTokens, err := lastPage(tokens(tollgate.APITokenFilter{}))
	if err != nil {
		return nil, err
	}
	deepAudit, err := lastPage(audit(tollgate.AuditFilter{}))
	if err != nil {
		return nil, err
	}
	since := seedEpoch.Add(timeOf(o*p.eventsPerOrg() + p.eventsPerOrg()/2))
	calls := []struct {
		op string
		fn func() error
	}{
		{"get service account by ID", func() error { _, err := s.GetServiceAccount(ctx, orgID, sa); return err }},
		{"/check", func() error {
			_, err := s.GetAccountTokenByHash(ctx, kr.Hash(privateToken(p, (o*perOrg+perOrg/2)*p.tokensPerAccount())))
			return err
		}},
		{"service accounts, first page", func() error { _, err := accounts(first); return err }},
		{"service accounts, deep page", func() error { _, err := accounts(deepAccounts); return err }},
		{"service accounts, search", func() error {
			_, err := accountsOf(tollgate.ServiceAccountFilter{Query: accountPrefix(p, o)})(first)
			return err
		}},
		{"API tokens, search", func() error { _, err := tokens(tollgate.APITokenFilter{Query: "token-3"})(first); return err }},
		{"API tokens, first page", func() error { _, err := tokens(tollgate.APITokenFilter{})(first); return err }},
		{"API tokens, deep page", func() error { _, err := tokens(tollgate.APITokenFilter{})(deepTokens); return err }},
		{"API tokens of one owner", func() error { _, err := tokens(tollgate.APITokenFilter{OwnerID: sa})(first); return err }},
		{"audit log, first page", func() error { _, err := audit(tollgate.AuditFilter{})(first); return err }},
		{"audit log, deep page", func() error { _, err := audit(tollgate.AuditFilter{})(deepAudit); return err }},
		{"audit log by actor", func() error { _, err := audit(tollgate.AuditFilter{ActorID: "usr_seed"})(first); return err }},
		{"audit log by action", func() error {
			_, err := audit(tollgate.AuditFilter{Action: tollgate.ActionTokenCreated})(first)
			return err
		}},
		{"audit log by target", func() error { _, err := audit(tollgate.AuditFilter{TargetID: sa})(first); return err }},
		{"audit log by time range", func() error {
			_, err := audit(tollgate.AuditFilter{Since: since, Until: since.Add(timeOf(100))})(first)
			return err
		}},
		{"member removal (owned tokens)", func() error { _, err := s.GetMemberView(ctx, ids.memberOrgID, ids.memberID); return err }},
	}
	for _, c := range calls {
		op = c.op
		err := c.fn()
		op = ""
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.op, err)
		}
	}
	for i := range checks {
		c := &checks[i]
		if c.plan, err = s.Explain(ctx, c.sql, c.args); err != nil {
			return nil, fmt.Errorf("explaining %s: %w", c.sql, err)
		}
		var problems []string
		for _, t := range scanned(c.plan) {
			if largeTables[t] {
				problems = append(problems, "reads all of "+t)
			}
		}
		if offset.MatchString(c.sql) {
			problems = append(problems, "uses OFFSET")
		}
		c.problem = strings.Join(problems, ", ")
	}
	return checks, nil
}
