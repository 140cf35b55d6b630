package auth

import (
	"context"
	"errors"
	"time"

	"github.com/lendflow/lendflow/db/dbq"
)

// ThrottleRetention: a failed sign-in older than this is dropped; the
// throttle no longer counts it (ThrottleWindow).
const ThrottleRetention = ThrottleWindow

// Purged counts the rows one purge removed.
type Purged struct {
	Sessions, Failures, KnownAddresses, Devices int64
}

// Purge drops what sign-in keeps that no longer counts (docs/security.md
// "Sessions"): expired sessions, failed sign-ins the throttle no longer
// counts (ThrottleRetention), and addresses and devices not signed in from
// for KnownAddressFor and DeviceFor. Every delete is idempotent, so several
// workers may run it at once.
func Purge(ctx context.Context, q *dbq.Queries, now time.Time) (Purged, error) {
	var p Purged
	var errs []error
	var err error
	if p.Sessions, err = q.SessionDeleteExpired(ctx); err != nil {
		errs = append(errs, err)
	}
	if p.Failures, err = q.LoginFailureDeleteBefore(ctx, now.Add(-ThrottleRetention)); err != nil {
		errs = append(errs, err)
	}
	if p.KnownAddresses, err = q.LoginKnownAddressDeleteBefore(ctx, now.Add(-KnownAddressFor)); err != nil {
		errs = append(errs, err)
	}
	if p.Devices, err = q.LoginDeviceDeleteBefore(ctx, now.Add(-DeviceFor)); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}
