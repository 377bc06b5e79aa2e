package tollgate

import (
	"cmp"
	"slices"
	"time"
)

// Uses are the last uses of credentials collected since the last flush,
// written at once by Store.RecordUses (A8): one entry per credential.
type Uses struct {
	Tokens    []TokenUse // API tokens, with the origin of their use
	Accounts  []Use      // service accounts
	Keys      []Use      // client keys
	Federated []Use      // federated credentials
}

// Use is when a credential was last used.
type Use struct {
	ID string
	At time.Time
}

// TokenUse is an API token's last use and its origin ("" for none).
type TokenUse struct {
	Use
	Origin string
}

// Len is the number of uses in u.
func (u *Uses) Len() int { return len(u.Tokens) + len(u.Accounts) + len(u.Keys) + len(u.Federated) }

// Sort orders each list by ID: writers that update rows in one order
// cannot deadlock on them.
func (u *Uses) Sort() {
	slices.SortFunc(u.Tokens, func(a, b TokenUse) int { return cmp.Compare(a.ID, b.ID) })
	for _, l := range [][]Use{u.Accounts, u.Keys, u.Federated} {
		slices.SortFunc(l, func(a, b Use) int { return cmp.Compare(a.ID, b.ID) })
	}
}
