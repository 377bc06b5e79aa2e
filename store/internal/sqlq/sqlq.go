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
