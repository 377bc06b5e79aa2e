package main

import (
	"regexp"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestAdminCLI runs the admin command scripts in testdata/admin, each
// against its own real server (SQLite) started through run(), with:
//
//	SERVER        the server's URL
//	ADMIN_TOKEN   a private API token of "ops", an admin service account
//	VIEWER_TOKEN  a private API token of "reader", a viewer service account
//	SUPER_TOKEN   the bootstrap super admin's "tollgate login" credential
//	              (tgc_), from the device grant
//	ADMIN_USER    the bootstrap super admin's user ID
//	HOME          the script's work directory, so that no real
//	              credentials file is read
//
// Besides "tollgate" and "status N args…", scripts have "capture NAME
// REGEXP", which sets NAME to the first group of REGEXP in the last
// command's stdout.
func TestAdminCLI(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/admin",
		Setup: func(e *testscript.Env) error {
			ts := startServer(t, databases(t)["sqlite"](t), nil)
			admin := newClient(t, ts.URL)
			me := admin.signIn("admin@example.com", adminPassword)
			ops := newSA(t, admin, "acme", "ops", 3600, "admin")
			reader := newSA(t, admin, "acme", "reader", 3600, "viewer")
			tok := func(sa map[string]any) string {
				return admin.do("POST", "/api/v1/orgs/acme/tokens", map[string]any{"name": "cli", "service_account_id": sa["id"], "kind": "private"}).want(t, 201).JSON()["token"].(string)
			}
			e.Setenv("SERVER", ts.URL)
			e.Setenv("ADMIN_TOKEN", tok(ops))
			e.Setenv("VIEWER_TOKEN", tok(reader))
			e.Setenv("SUPER_TOKEN", deviceLogin(t, admin))
			e.Setenv("ADMIN_USER", me["user"].(map[string]any)["id"].(string))
			e.Setenv("HOME", e.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status": scriptStatus,
			"capture": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: capture NAME REGEXP")
				}
				m := regexp.MustCompile(args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
				if len(m) < 2 {
					ts.Fatalf("capture: %s matches nothing in stdout", args[1])
				}
				ts.Setenv(args[0], m[1])
			},
		},
	})
}
