package sqlq

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func dollar(n int) string { return "$" + strconv.Itoa(n) }

func TestQuery(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	q := New(dollar, "SELECT id FROM t")
	q.Where("org_id = %s", "org_1").Where("(a = %s OR b = %s)", "x", "x")
	if err := q.After(tollgate.EncodeCursor(at, "tok_1"), "(created_at, id) > (%s, %s)", func(t time.Time) any { return t.UnixMicro() }); err != nil {
		t.Fatal(err)
	}
	q.Then(" ORDER BY created_at, id LIMIT %s", 51)
	if got, want := q.SQL(), "SELECT id FROM t WHERE org_id = $1 AND (a = $2 OR b = $3) AND (created_at, id) > ($4, $5) ORDER BY created_at, id LIMIT $6"; got != want {
		t.Fatalf("SQL:\n got %s\nwant %s", got, want)
	}
	if got, want := fmt.Sprint(q.Args()), fmt.Sprint([]any{"org_1", "x", "x", at.UnixMicro(), "tok_1", 51}); got != want {
		t.Fatalf("args %s, want %s", got, want)
	}
	if err := New(dollar, "").After("not a cursor", "%s %s", nil); tollgate.ErrorField(err) != "cursor" {
		t.Fatalf("bad cursor: %v", err)
	}
}

// rows is a fake result set of ints.
type rows struct {
	vals []int
	i    int
	err  error
}

func (r *rows) Next() bool { r.i++; return r.i <= len(r.vals) }
func (r *rows) Err() error { return r.err }
func (r *rows) Scan(dest ...any) error {
	*dest[0].(*int) = r.vals[r.i-1]
	return nil
}

func scanInt(r Row) (*int, error) {
	var v int
	return &v, r.Scan(&v)
}

func TestPage(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func(v *int) (time.Time, string) { return base.Add(time.Duration(*v) * time.Second), strconv.Itoa(*v) }
	got, next, err := Page(&rows{vals: []int{1, 2, 3}}, 2, scanInt, tollgate.ByTime(key))
	if err != nil || fmt.Sprint(got) != "[1 2]" || next != tollgate.EncodeCursor(key(&got[1])) {
		t.Fatalf("page = %v %q %v", got, next, err)
	}
	got, next, err = Page(&rows{vals: []int{1, 2}}, 2, scanInt, tollgate.ByTime(key))
	if err != nil || fmt.Sprint(got) != "[1 2]" || next != "" {
		t.Fatalf("last page = %v %q %v", got, next, err)
	}
	if _, _, err := Page(&rows{vals: []int{1}, err: fmt.Errorf("lost")}, 2, scanInt, tollgate.ByTime(key)); err == nil {
		t.Fatal("the rows' error was dropped")
	}
}
