package authn

import (
	"context"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
	"github.com/tollgate/tollgate/oauth"
)

// DeviceStart admits a device authorization request (`tollgate login`)
// from req's address under Limits.Device: every request counts, since each
// stores a row before anyone has authenticated. ERateLimited with
// RetryAfter once the address is over its limit. It returns the anonymous
// caller the app records the request as.
func (a *Authenticator) DeviceStart(ctx context.Context, req Request) (app.Actor, error) {
	now := a.now()
	if wait, which := a.device.attempt("", req.IP, now); wait > 0 {
		return app.Actor{}, a.limited(ctx, req, a.device, "", which, wait)
	}
	return req.anonymous(), nil
}

// LeakReport admits a leaked-credential report from req's address under
// Limits.Leak (every request counts), and returns the anonymous caller
// the app records it as. ERateLimited with RetryAfter over the limit.
func (a *Authenticator) LeakReport(ctx context.Context, req Request) (app.Actor, error) {
	now := a.now()
	if wait, which := a.leak.attempt("", req.IP, now); wait > 0 {
		return app.Actor{}, a.limited(ctx, req, a.leak, "", which, wait)
	}
	return req.anonymous(), nil
}

// UserCode runs check, which looks up a user code entered on the console's
// /device page by ac, under Limits.UserCode: a code no login waits for
// (ENotFound) counts as a failure of ac from req's address (one that
// cannot be a code at all tells nothing, and does not), and
// once they are over the limit check does not run (ERateLimited), so that
// guessing codes (34.6 bits) is bounded per person and per address. A
// right code does not forget the wrong ones, as a right password does:
// anyone can start a login and enter its code as often as they like, so
// it proves nothing about the other codes they try.
func (a *Authenticator) UserCode(ctx context.Context, req Request, ac app.Actor, check func() error) error {
	now := a.now()
	if wait, which := a.userCode.attempt(ac.ID, req.IP, now); wait > 0 {
		return a.limited(ctx, req, a.userCode, ac.ID, which, wait)
	}
	err := check()
	if tollgate.ErrorCode(err) == tollgate.ENotFound {
		a.failed(req, a.userCode)
	} else {
		a.userCode.refund(ac.ID, req.IP, now)
	}
	return err
}

// errPollInFlight answers a poll of a device code that this process is
// answering another poll of: the client polls too fast (RFC 8628 §3.5).
var errPollInFlight = oauth.Fail(oauth.CodeSlowDown, "polling too fast: wait for the answer to one poll, then the interval, before the next")

// DeviceCode admits a poll of the token endpoint's device grant (RFC 8628
// §3.4) by clientID with deviceCode, then runs redeem, which answers it.
// Anyone may make well-formed device codes (the checksum is public) and
// start a device login to poll, so the grant is limited like a bearer
// credential (R1, R3), per address under Limits.Bearer, in a count of its
// own: every refused poll but authorization_pending counts (a code
// unknown, spent or expired, a denied login, a poll too soon), and over
// the limit the answer is ERateLimited without the store. A code found
// unknown or spent is remembered as such and answered without the store
// when it comes again. A poll of a code this process is answering another
// poll of is slow_down without the store: concurrent polls of one code
// conflict in the store (PostgreSQL's serializable transactions retry,
// then fail); one at a time per process keeps them few.
func (a *Authenticator) DeviceCode(ctx context.Context, req Request, clientID, deviceCode string, redeem func() error) error {
	now := a.now()
	if wait, which := a.deviceCode.blocked("", req.IP, now); wait > 0 {
		return a.limited(ctx, req, a.deviceCode, "", which, wait)
	}
	key := string(a.app.DeviceCodeHash(deviceCode))
	negative := "device_code:" + clientID + "\x00" + key
	if a.isNegative(negative) {
		a.failedNow(req, a.deviceCode, "", now)
		return app.ErrUnknownDeviceCode
	}
	a.mu.Lock()
	_, busy := a.polling[key]
	if !busy {
		a.polling[key] = struct{}{}
	}
	gen := a.gen
	a.mu.Unlock()
	if busy {
		a.failedNow(req, a.deviceCode, "", now)
		return errPollInFlight
	}
	defer func() {
		a.mu.Lock()
		delete(a.polling, key)
		a.mu.Unlock()
	}()
	err := redeem()
	switch code := oauth.CodeOf(err); {
	case err == nil || code == oauth.CodeAuthorizationPending:
	case code == oauth.CodeInvalidGrant:
		a.addNegative(gen, negative)
		a.failedNow(req, a.deviceCode, "", now)
	case code != "":
		a.failedNow(req, a.deviceCode, "", now)
	}
	return err
}
