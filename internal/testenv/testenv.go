// Package testenv holds the one rule for tests that need an outside
// service: they read the service's location from an environment variable
// and skip without it, unless the variable's _REQUIRED companion is 1 (as
// in CI), which makes a missing service fail the run instead.
package testenv

import (
	"os"
	"testing"
)

// Require returns the value of the environment variable name, skipping the
// test when it is empty, or failing it when name+"_REQUIRED" is "1". hint
// says what to set it to.
func Require(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv(name+"_REQUIRED") == "1" {
			t.Fatalf("%s is not set but %s_REQUIRED=1", name, name)
		}
		t.Skipf("set %s to %s to run this test", name, hint)
	}
	return v
}

// Has reports whether the environment variable name is set, for a test
// that runs a part with the service and the rest without. It fails the
// test when name is empty but name+"_REQUIRED" is "1".
func Has(t testing.TB, name string) bool {
	t.Helper()
	if os.Getenv(name) != "" {
		return true
	}
	if os.Getenv(name+"_REQUIRED") == "1" {
		t.Fatalf("%s is not set but %s_REQUIRED=1", name, name)
	}
	return false
}
