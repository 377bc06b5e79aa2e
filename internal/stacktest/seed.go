package stacktest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

// Seed loads, through s.LoadBulk, accounts service accounts into the org
// (named bot-0000, bot-0001, …, viewers) and tokens API tokens spread over
// them (named tok-00000, …, private), created a second apart from at, and
// returns the accounts. The tokens' hashes are unique but no token's:
// these rows are for listing, not for authenticating.
func Seed(t testing.TB, s tollgate.Store, org *tollgate.Org, accounts, tokens int, at time.Time) []tollgate.ServiceAccount {
	t.Helper()
	b := &tollgate.Bulk{}
	for i := range accounts {
		created := at.Add(time.Duration(i) * time.Second)
		name := fmt.Sprintf("bot-%04d", i)
		b.ServiceAccounts = append(b.ServiceAccounts, tollgate.ServiceAccount{ID: tollgate.NewID(tollgate.PrefixServiceAccount, created),
			OrgID: org.ID, Name: name, Email: tollgate.ServiceAccountEmail(name, org.Slug, tollgate.DefaultServiceAccountEmailDomain),
			Role: tollgate.RoleViewer, TokenTTLSeconds: tollgate.MinTokenTTLSeconds, Status: tollgate.StatusActive,
			CreatedAt: tollgate.Timestamp(created), CreatedBy: "usr_seed", ReuseAfter: tollgate.Timestamp(created)})
	}
	for i := range tokens {
		created := at.Add(time.Duration(i) * time.Second)
		b.APITokens = append(b.APITokens, tollgate.APIToken{ID: tollgate.NewID(tollgate.PrefixAPIToken, created), OrgID: org.ID,
			Name: fmt.Sprintf("tok-%05d", i), Kind: tollgate.KindPrivate, Role: tollgate.RoleViewer,
			OwnerType: tollgate.PrincipalServiceAccount, OwnerID: b.ServiceAccounts[i%accounts].ID,
			Hash: []byte(fmt.Sprintf("seed %s %d", org.ID, i)), CreatedAt: tollgate.Timestamp(created), CreatedBy: "usr_seed"})
	}
	if err := s.LoadBulk(t.Context(), b); err != nil {
		t.Fatalf("seeding %d accounts and %d tokens: %v", accounts, tokens, err)
	}
	return b.ServiceAccounts
}
