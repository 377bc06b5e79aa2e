package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate"
)

func deviceTests() []namedTest {
	return []namedTest{
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"DeviceRedeemIsOnceAcrossConcurrentCallers", testDeviceRedeemOnce},
		{"DeviceDecisionNeedsAUser", testDeviceDecisionNeedsAUser},
	}
}

func mkDevice(t *testing.T, s tollgate.Store, code string) *tollgate.DeviceAuthorization {
	t.Helper()
	d := &tollgate.DeviceAuthorization{ID: tollgate.NewID(tollgate.PrefixDeviceAuthorization, base), DeviceCodeHash: hash("device:" + code),
		UserCodeHash: hash("user:" + code), ClientID: tollgate.DeviceClientID, Status: tollgate.DevicePending, IP: "198.51.100.4",
		UserAgent: "tollgate-cli/dev", Interval: 5 * time.Second, CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute)}
	must(t, s.CreateDeviceAuthorization(t.Context(), d))
	return d
}

func testDeviceAuthorizations(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	u := mkUser(t, s, "a@example.com")
	d := mkDevice(t, s, "one")
	// Both codes are unique: a second authorization with either is refused.
	dup := *d
	dup.ID, dup.DeviceCodeHash = tollgate.NewID(tollgate.PrefixDeviceAuthorization, base), hash("device:other")
	wantCode(t, s.CreateDeviceAuthorization(ctx, &dup), tollgate.EConflict)
	dup.DeviceCodeHash, dup.UserCodeHash = d.DeviceCodeHash, hash("user:other")
	wantCode(t, s.CreateDeviceAuthorization(ctx, &dup), tollgate.EConflict)

	for name, get := range map[string]func() (*tollgate.DeviceAuthorization, error){
		"by device code": func() (*tollgate.DeviceAuthorization, error) {
			return s.GetDeviceAuthorizationByDeviceCode(ctx, d.DeviceCodeHash)
		},
		"by user code": func() (*tollgate.DeviceAuthorization, error) {
			return s.GetDeviceAuthorizationByUserCode(ctx, d.UserCodeHash)
		},
	} {
		got, err := get()
		must(t, err)
		if got.ID != d.ID || got.Status != tollgate.DevicePending || got.UserID != "" || got.ClientID != tollgate.DeviceClientID ||
			got.IP != d.IP || got.UserAgent != d.UserAgent || got.Interval != 5*time.Second || !got.CreatedAt.Equal(base.Truncate(time.Microsecond)) ||
			!got.ExpiresAt.Equal(d.ExpiresAt.Truncate(time.Microsecond)) || !got.PolledAt.IsZero() || !got.DecidedAt.IsZero() {
			t.Fatalf("%s: %+v", name, got)
		}
	}
	_, err := s.GetDeviceAuthorizationByDeviceCode(ctx, hash("device:none"))
	wantCode(t, err, tollgate.ENotFound)
	_, err = s.GetDeviceAuthorizationByUserCode(ctx, hash("user:none"))
	wantCode(t, err, tollgate.ENotFound)

	polled := base.Add(7 * time.Second)
	must(t, s.PollDeviceAuthorization(ctx, d.ID, polled, 10*time.Second))
	wantCode(t, s.PollDeviceAuthorization(ctx, "dev_missing", polled, time.Second), tollgate.ENotFound)

	// Redeeming before approval conflicts; so does answering twice.
	wantCode(t, s.RedeemDeviceAuthorization(ctx, d.ID), tollgate.EConflict)
	decided := base.Add(time.Minute)
	must(t, s.DecideDeviceAuthorization(ctx, d.ID, tollgate.DeviceApproved, u.ID, decided))
	wantCode(t, s.DecideDeviceAuthorization(ctx, d.ID, tollgate.DeviceDenied, u.ID, decided), tollgate.EConflict)
	wantCode(t, s.DecideDeviceAuthorization(ctx, "dev_missing", tollgate.DeviceDenied, u.ID, decided), tollgate.ENotFound)
	got, err := s.GetDeviceAuthorizationByDeviceCode(ctx, d.DeviceCodeHash)
	must(t, err)
	if got.Status != tollgate.DeviceApproved || got.UserID != u.ID || !got.DecidedAt.Equal(decided) || !got.PolledAt.Equal(polled) || got.Interval != 10*time.Second {
		t.Fatalf("after approval: %+v", got)
	}
	must(t, s.RedeemDeviceAuthorization(ctx, d.ID))
	wantCode(t, s.RedeemDeviceAuthorization(ctx, d.ID), tollgate.EConflict)
	wantCode(t, s.RedeemDeviceAuthorization(ctx, "dev_missing"), tollgate.ENotFound)
	if got, _ := s.GetDeviceAuthorizationByUserCode(ctx, d.UserCodeHash); got.Status != tollgate.DeviceRedeemed {
		t.Fatalf("after redemption: %+v", got)
	}

	// A denied one cannot be redeemed.
	denied := mkDevice(t, s, "two")
	must(t, s.DecideDeviceAuthorization(ctx, denied.ID, tollgate.DeviceDenied, u.ID, decided))
	wantCode(t, s.RedeemDeviceAuthorization(ctx, denied.ID), tollgate.EConflict)

	// Pruning removes what expired before the bound, whatever its state.
	late := mkDevice(t, s, "three")
	n, err := s.DeleteDeviceAuthorizationsBefore(ctx, base.Add(10*time.Minute+time.Second))
	must(t, err)
	if n != 3 {
		t.Fatalf("DeleteDeviceAuthorizationsBefore removed %d, want 3", n)
	}
	_, err = s.GetDeviceAuthorizationByDeviceCode(ctx, late.DeviceCodeHash)
	wantCode(t, err, tollgate.ENotFound)
}

// testDeviceRedeemOnce redeems one approved code from many goroutines, in
// the app's transaction shape: exactly one gets it (and would create the
// session), the others conflict.
func testDeviceRedeemOnce(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	u := mkUser(t, s, "a@example.com")
	d := mkDevice(t, s, "once")
	must(t, s.DecideDeviceAuthorization(ctx, d.ID, tollgate.DeviceApproved, u.ID, base))
	const n = 16
	var ok, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.InTx(ctx, func(q tollgate.Queries) error {
				got, err := q.GetDeviceAuthorizationByDeviceCode(ctx, d.DeviceCodeHash)
				if err != nil {
					return err
				}
				if got.Status != tollgate.DeviceApproved {
					return tollgate.Errorf(tollgate.EConflict, "spent")
				}
				if err := q.RedeemDeviceAuthorization(ctx, d.ID); err != nil {
					return err
				}
				return q.CreateSession(ctx, mkSession(hash("redeemed"+string(rune('a'+i))), u.ID, tollgate.SessionCLI, base, base.Add(time.Hour)))
			})
			switch tollgate.ErrorCode(err) {
			case "":
				ok.Add(1)
			case tollgate.EConflict:
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d redemptions succeeded and %d conflicted, want 1 and %d", ok.Load(), conflicts.Load(), n-1)
	}
	list, err := s.ListSessions(ctx, u.ID)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("%d sessions, want 1", len(list))
	}
}

// testDeviceDecisionNeedsAUser: an answer names an existing user, and a
// refused one leaves the authorization pending.
func testDeviceDecisionNeedsAUser(t *testing.T, s tollgate.Store) {
	ctx := t.Context()
	d := mkDevice(t, s, "nobody")
	wantCode(t, s.DecideDeviceAuthorization(ctx, d.ID, tollgate.DeviceApproved, "usr_missing", base), tollgate.ENotFound)
	got, err := s.GetDeviceAuthorizationByDeviceCode(ctx, d.DeviceCodeHash)
	must(t, err)
	if got.Status != tollgate.DevicePending || got.UserID != "" {
		t.Fatalf("after a refused answer: %+v", got)
	}
}
