package api

import (
	"context"
	"errors"
	"time"

	"github.com/lendflow/lendflow/db/dbq"
)

// Retention of what the API keeps about requests (docs/security.md
// "Sessions"). The worker purges older rows every HousekeepingEvery.
const (
	// IdempotencyRetention: an answered request is replayed under its key for
	// this long. A client retries a lost answer within minutes; a day covers
	// a client that was down overnight. After it, the same key is a new request.
	IdempotencyRetention = 24 * time.Hour
	// ThrottleRetention: a failed sign-in older than this is dropped; the
	// throttle no longer counts it (throttleWindow).
	ThrottleRetention = throttleWindow
	// ReplicaRetention: a replica whose lease ran out this long ago is
	// dropped. Its row only says it is dead, which a missing row says too
	// (docs/replicas.md).
	ReplicaRetention = 24 * time.Hour
	// HousekeepingEvery is how often the worker purges.
	HousekeepingEvery = 10 * time.Minute
)

// Purged counts the rows one housekeeping pass removed.
type Purged struct {
	Sessions, IdempotencyKeys, Failures, KnownAddresses, Devices, Replicas int64
}

// Housekeep purges expired sessions, idempotency keys answered longer ago
// than IdempotencyRetention, failed sign-ins the throttle no longer counts,
// addresses and devices not signed in from for knownAddressFor and
// deviceFor, and replicas dead for ReplicaRetention. Every delete is
// idempotent, so several workers may run it at once.
func Housekeep(ctx context.Context, q *dbq.Queries, now time.Time) (Purged, error) {
	var p Purged
	var errs []error
	var err error
	if p.Sessions, err = q.SessionDeleteExpired(ctx); err != nil {
		errs = append(errs, err)
	}
	if p.IdempotencyKeys, err = q.IdempotencyKeyDeleteBefore(ctx, now.Add(-IdempotencyRetention)); err != nil {
		errs = append(errs, err)
	}
	if p.Failures, err = q.LoginFailureDeleteBefore(ctx, now.Add(-ThrottleRetention)); err != nil {
		errs = append(errs, err)
	}
	if p.KnownAddresses, err = q.LoginKnownAddressDeleteBefore(ctx, now.Add(-knownAddressFor)); err != nil {
		errs = append(errs, err)
	}
	if p.Devices, err = q.LoginDeviceDeleteBefore(ctx, now.Add(-deviceFor)); err != nil {
		errs = append(errs, err)
	}
	if p.Replicas, err = q.ReplicaDeleteExpiredBefore(ctx, now.Add(-ReplicaRetention)); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}
