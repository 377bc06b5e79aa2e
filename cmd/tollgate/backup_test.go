package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store/sqlite"
)

// TestBackupUnderLoad checks O2: "tollgate backup" takes a snapshot while
// serve runs and two clients keep creating service accounts; the snapshot
// passes its integrity check and holds every account acknowledged before
// the backup began; serve started on it, with the same key file, accepts
// the same secret and hands out the same reused token.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tollgate.db")
	const issuer = "http://tollgate.test" // both servers answer for one URL, as a restored one does
	ts := startServer(t, db, map[string]string{"TOLLGATE_ISSUER": issuer})
	admin := loggedIn(t, ts)
	acct := newSA(t, admin, "acme", "kept", 3600, "viewer")
	id, secret := acct["id"].(string), acct["client_secret"].(string)
	before := token(t, ts.URL, id, secret)["access_token"].(string)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			c := loggedIn(t, ts)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := c.do("POST", "/api/v1/orgs/acme/service-accounts", map[string]any{"name": fmt.Sprintf("load-%d-%d", w, i), "role": "viewer", "token_ttl_seconds": 300})
				if r.Status != 201 {
					t.Errorf("create under load: %s", r)
					return
				}
				mu.Lock()
				acked = append(acked, r.JSON()["id"].(string))
				mu.Unlock()
			}
		})
	}
	// Back up once the load is well under way: a few writes acknowledged
	// (however long a loaded machine takes to get there).
	var ackedBefore []string
	for deadline := time.Now().Add(time.Minute); len(ackedBefore) < 5 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		ackedBefore = append([]string(nil), acked...)
		mu.Unlock()
	}
	out := filepath.Join(t.TempDir(), "snapshot.db")
	var stdout strings.Builder
	if err := run(t.Context(), []string{"backup", "--db", db, "--out", out}, func(string) string { return "" }, strings.NewReader(""), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the load goes on after the backup
	close(stop)
	wg.Wait()
	if !strings.Contains(stdout.String(), "integrity ok") || len(ackedBefore) < 5 {
		t.Fatalf("backup said %q after %d acknowledged writes", stdout.String(), len(ackedBefore))
	}

	if err := sqlite.CheckIntegrity(t.Context(), out); err != nil {
		t.Fatal(err)
	}
	snap, err := sqlite.Open(t.Context(), out)
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range ackedBefore {
		if _, err := snap.GetServiceAccountByID(t.Context(), sa); err != nil {
			t.Fatalf("account %s, acknowledged before the backup, is not in the snapshot: %v", sa, err)
		}
	}
	snap.Close()

	// A second backup to the same file is refused: a backup never overwrites.
	if err := run(t.Context(), []string{"backup", "--db", db, "--out", out}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}

	// Restore: serve on the snapshot, with the original key file.
	restored := startServer(t, out, map[string]string{"TOLLGATE_KEY_FILE": filepath.Join(dir, "tollgate.key"), "TOLLGATE_ISSUER": issuer})
	if after := token(t, restored.URL, id, secret)["access_token"].(string); after != before {
		t.Fatal("the restored server minted a new token instead of handing out the same reused one")
	}
}

// TestReuseFollowsTheIssuer: a server restarted under another issuer URL
// does not hand out the token it issued under the old one (its iss would
// no longer verify), and mints anew.
func TestReuseFollowsTheIssuer(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tollgate.db")
	a := startServer(t, db, map[string]string{"TOLLGATE_ISSUER": "http://old.example"})
	admin := loggedIn(t, a)
	acct := newSA(t, admin, "acme", "moved", 3600, "viewer")
	old := token(t, a.URL, acct["id"].(string), acct["client_secret"].(string))["access_token"].(string)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	b := startServer(t, db, map[string]string{"TOLLGATE_ISSUER": "http://new.example"})
	if fresh := token(t, b.URL, acct["id"].(string), acct["client_secret"].(string))["access_token"].(string); fresh == old {
		t.Fatal("a token of the old issuer was handed out by the server of the new one")
	}
}
