package migrate_test

import (
	"testing"
	"testing/fstest"

	"github.com/tollgate/tollgate/store/internal/migrate"
)

func TestFilesOrdersByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_later.sql": {Data: []byte("B")},
		"m/0002_next.sql":  {Data: []byte("A")},
		"m/README.md":      {Data: []byte("not a migration")},
	}
	ms, err := migrate.Files(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 2 || ms[1].Version != 10 || ms[0].SQL != "A" || ms[1].Name != "0010_later.sql" {
		t.Fatalf("Files = %+v", ms)
	}
}

func TestFilesRejectsBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no version": {"m/init.sql": {}},
		"duplicate":  {"m/0001_a.sql": {}, "m/1_b.sql": {}},
		"zero":       {"m/0000_a.sql": {}},
		"empty":      {},
	} {
		if _, err := migrate.Files(fsys, "m"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
