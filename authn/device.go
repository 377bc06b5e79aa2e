package authn

import (
	"context"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/app"
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

// UserCode runs check, which looks up a user code entered on the console's
// /device page by ac, under Limits.UserCode: a code no login waits for
// (ENotFound) counts as a failure of ac from req's address (one that
// cannot be a code at all tells nothing, and does not), and
// once they are over the limit check does not run (ERateLimited), so that
// guessing codes (34.6 bits) is bounded per person and per address.
func (a *Authenticator) UserCode(ctx context.Context, req Request, ac app.Actor, check func() error) error {
	now := a.now()
	if wait, which := a.userCode.attempt(ac.ID, req.IP, now); wait > 0 {
		return a.limited(ctx, req, a.userCode, ac.ID, which, wait)
	}
	err := check()
	switch tollgate.ErrorCode(err) {
	case tollgate.ENotFound:
		a.failed(req, a.userCode)
	case "":
		a.userCode.succeed(ac.ID, req.IP, now)
	default:
		a.userCode.refund(ac.ID, req.IP, now)
	}
	return err
}
