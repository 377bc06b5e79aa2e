package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestSynchronous checks that every connection commits with the durability
// asked for: FULL unless told otherwise.
func TestSynchronous(t *testing.T) {
	for _, c := range []struct {
		opts []Option
		want int // PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
	}{{nil, 2}, {[]Option{Synchronous("normal")}, 1}, {[]Option{Synchronous("EXTRA")}, 3}} {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		// Hold several connections at once so that more than one is asked.
		var conns []*sql.Conn
		for range 3 {
			conn, err := s.db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
			var got int
			if err := conn.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&got); err != nil || got != c.want {
				t.Fatalf("synchronous = %d, %v; want %d", got, err, c.want)
			}
		}
		for _, c := range conns {
			c.Close()
		}
		s.Close()
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), Synchronous("sometimes")); err == nil {
		t.Fatal("an unknown synchronous mode was accepted")
	}
}
