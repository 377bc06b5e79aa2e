// Package sqlq is the Go that both stores wrap around their SQL: building a
// list query's conditions with the dialect's placeholders, the keyset
// condition of a cursor, and the loop that scans rows into values and
// pages. Each store keeps its own SQL text and its own scan functions;
// only this bookkeeping is shared.
package sqlq

import (
	"fmt"
	"strings"
	"time"

	"github.com/tollgate/tollgate"
)

// Row is one row to scan: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows all
// are.
type Row interface {
	Scan(dest ...any) error
}

// Rows is what database/sql's *sql.Rows and pgx's Rows have in common for
// reading. Closing stays with the caller (their Close methods differ).
type Rows interface {
	Row
	Next() bool
	Err() error
}

// All scans every row with scan, in order. It returns the first error of
// a scan or of the rows themselves.
func All[T any](rows Rows, scan func(Row) (*T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// Page scans a keyset page. The query fetched limit+1 rows in key order;
// Page keeps the first limit and returns the cursor of the next page ("" if
// there is none), made by cursor (tollgate.ByTime or tollgate.ByName).
func Page[T any](rows Rows, limit int, scan func(Row) (*T, error), cursor func(*T) string) ([]T, string, error) {
	out, err := All(rows, scan)
	if err != nil {
		return nil, "", err
	}
	out, next := tollgate.PageOf(out, limit, cursor)
	return out, next, nil
}

// Query builds one SELECT: a base, conditions joined with AND, and a tail.
// Fragments mark each argument's place with %s; Query puts the dialect's
// placeholder there (so a fragment must not hold a literal %).
type Query struct {
	placeholder func(n int) string
	sql         strings.Builder
	args        []any
	conds       int
}

// New starts a query with base (a SELECT … FROM …, without WHERE).
// placeholder returns the dialect's n-th placeholder: "?" or "$n".
func New(placeholder func(n int) string, base string) *Query {
	q := &Query{placeholder: placeholder}
	q.sql.WriteString(base)
	return q
}

// Where adds a condition, with one %s per argument.
func (q *Query) Where(cond string, args ...any) *Query {
	if q.conds == 0 {
		q.sql.WriteString(" WHERE ")
	} else {
		q.sql.WriteString(" AND ")
	}
	q.conds++
	return q.Then(cond, args...)
}

// After adds the keyset condition of cursor ("" adds nothing): cond has two
// %s, for the cursor's time (as toDB makes it) and its ID. A cursor this
// server did not make is EInvalid naming "cursor".
func (q *Query) After(cursor, cond string, toDB func(time.Time) any) error {
	if cursor == "" {
		return nil
	}
	t, id, err := tollgate.DecodeCursor(cursor)
	if err != nil {
		return err
	}
	q.Where(cond, toDB(t), id)
	return nil
}

// AfterName adds the keyset condition of a name cursor (one
// tollgate.EncodeNameCursor made; "" adds nothing): cond has two %s, for
// the cursor's name and its ID. Any other cursor is EInvalid naming
// "cursor".
func (q *Query) AfterName(cursor, cond string) error {
	if cursor == "" {
		return nil
	}
	name, id, err := tollgate.DecodeNameCursor(cursor)
	if err != nil {
		return err
	}
	q.Where(cond, name, id)
	return nil
}

// InRange returns the condition that expr lies in r, as a fragment for
// Where with its arguments: "expr >= %s AND expr < %s", without the upper
// bound when r has none. expr is the indexed expression, written as the
// index has it, so that the condition reads one range of that index.
func InRange(expr string, r tollgate.Range) (string, []any) {
	if r.To == "" {
		return expr + " >= %s", []any{r.From}
	}
	return expr + " >= %s AND " + expr + " < %s", []any{r.From, r.To}
}

// WhereRange adds the condition that expr lies in r (InRange).
func (q *Query) WhereRange(expr string, r tollgate.Range) *Query {
	cond, args := InRange(expr, r)
	return q.Where(cond, args...)
}

// Then appends a fragment (ORDER BY …, LIMIT %s) with its arguments.
func (q *Query) Then(fragment string, args ...any) *Query {
	marks := make([]any, len(args))
	for i, a := range args {
		q.args = append(q.args, a)
		marks[i] = q.placeholder(len(q.args))
	}
	fmt.Fprintf(&q.sql, fragment, marks...)
	return q
}

// SQL returns the query text.
func (q *Query) SQL() string { return q.sql.String() }

// Args returns the query's arguments, in placeholder order.
func (q *Query) Args() []any { return q.args }

// Qualify prefixes each column of a comma-separated list with table
// alias: Qualify("sa", "id, name") is "sa.id, sa.name", for the column
// lists of a join.
func Qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// Violation returns the two queries of one policy violation kind over an org's
// live credentials (tollgate.Store.FindPolicyViolations): the count, and the
// first limit of them (id, name) oldest first. toDB converts a time to the
// dialect's column type. Both read the org's rows through the index on
// org_id that every list uses.
func Violation(placeholder func(n int) string, toDB func(time.Time) any, orgID string, b tollgate.ViolationQuery, now time.Time, limit int) (count, list *Query) {
	build := func(sel string) *Query {
		var q *Query
		if b.Subject == tollgate.PrincipalServiceAccount {
			q = New(placeholder, sel+` FROM service_accounts`).Where("org_id = %s", orgID)
		} else {
			q = New(placeholder, sel+` FROM api_tokens`).Where("org_id = %s", orgID).
				Where("(expires_at IS NULL OR expires_at > %s)", toDB(now))
		}
		switch b.Rule {
		case tollgate.ViolationTokenTTLAbove:
			q.Where("token_ttl_seconds > %s", b.TTL)
		case tollgate.ViolationNoExpiry:
			q.Where("expires_at IS NULL")
		case tollgate.ViolationExpiresTooLate:
			q.Where("expires_at > %s", toDB(b.Latest))
		case tollgate.ViolationPublicToken:
			q.Where("kind = 'public'")
		case tollgate.ViolationUserOwnedToken:
			q.Where("user_id IS NOT NULL")
		default:
			q.Where("1 = 0") // a rule this build does not know matches nothing
		}
		return q
	}
	return build(`SELECT count(*)`), build(`SELECT id, name`).Then(" ORDER BY created_at, id LIMIT %s", limit)
}

// Violations answers FindPolicyViolations with the store's own way of running
// a query: count returns a count query's number, list the (id, name) rows
// of a list query. A rule nothing breaks is returned with Count 0.
func Violations(rules []tollgate.ViolationQuery, build func(tollgate.ViolationQuery) (count, list *Query),
	count func(*Query) (int, error), list func(*Query) ([]IDName, error)) ([]tollgate.PolicyViolation, error) {
	out := make([]tollgate.PolicyViolation, 0, len(rules))
	for _, r := range rules {
		cq, lq := build(r)
		b := tollgate.PolicyViolation{ViolationQuery: r}
		var err error
		if b.Count, err = count(cq); err != nil {
			return nil, err
		}
		if b.Count > 0 {
			rows, err := list(lq)
			if err != nil {
				return nil, err
			}
			for _, row := range rows {
				b.Samples = append(b.Samples, tollgate.Principal{Type: r.Subject, ID: row.ID, Name: row.Name})
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// IDName is a row of an id and a name.
type IDName struct{ ID, Name string }

// ScanIDName scans an IDName.
func ScanIDName(row Row) (*IDName, error) {
	var v IDName
	return &v, row.Scan(&v.ID, &v.Name)
}
