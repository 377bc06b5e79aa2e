package storetest

import (
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate"
)

// Statement is a statement a store ran, with the arguments it first ran
// with.
type Statement struct {
	SQL  string
	Args []any
}

// Statements runs the suite on stores from open, which must tell seen of
// every statement the store runs, and returns each distinct read, update
// and delete, sorted by its text: what a backend's query-plan test
// explains. It fails t when the suite fails or ran too few to be the
// store's queries.
func Statements(t *testing.T, open func(t *testing.T, seen func(sql string, args []any)) tollgate.Store) []Statement {
	var mu sync.Mutex
	seen := map[string][]any{}
	record := func(sql string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := seen[sql]; !ok {
			seen[sql] = append([]any(nil), args...)
		}
	}
	Run(t, func(t *testing.T) tollgate.Store { return open(t, record) })
	if t.Failed() {
		t.FailNow()
	}
	var out []Statement
	for sql, args := range seen {
		switch strings.ToUpper(strings.Fields(sql)[0]) {
		case "SELECT", "UPDATE", "DELETE":
			out = append(out, Statement{sql, args})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SQL < out[j].SQL })
	if len(out) < 50 {
		t.Fatalf("only %d statements recorded: the suite did not run the store's queries", len(out))
	}
	return out
}
