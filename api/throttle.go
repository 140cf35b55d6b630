package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
)

// Login throttling (docs/security.md "Sign-in"). Every attempt is counted
// against the account (the normalized email, registered or not, so the
// answer tells nothing about which emails exist) and against the client
// address. A count up to its free allowance costs nothing; from there each
// further attempt must wait a delay that doubles, from throttleFirstDelay up
// to throttleMaxDelay, and an attempt before its time is answered 429
// login_throttled with Retry-After, without its password being looked at.
// Refused attempts do not lengthen the wait, so it always ends.
//
// The owner cannot be kept out by a stranger: the account's count does not
// apply from an address the account signed in from in the last
// knownAddressFor; from anywhere else the wait is at most throttleMaxDelay
// after the stranger's last admitted failure.
const (
	accountFreeFailures = 5  // failures against one account before it waits
	addressFreeFailures = 20 // failures from one address, over all accounts
	throttleFirstDelay  = time.Second
	throttleMaxDelay    = 15 * time.Minute
	// throttleMemory: a count with no failure for this long starts again.
	throttleMemory = time.Hour
	// knownAddressFor: how long a successful sign-in keeps its address known.
	knownAddressFor = 90 * 24 * time.Hour
)

const (
	scopeAccount = "account"
	scopeAddress = "address"
)

// throttleDelay is the wait after the nth counted attempt: none within the
// allowance, then 1 s, 2 s, 4 s, … up to throttleMaxDelay.
func throttleDelay(n, free int) time.Duration {
	if n < free {
		return 0
	}
	exp := n - free
	if exp > 30 {
		return throttleMaxDelay
	}
	d := throttleFirstDelay * time.Duration(math.Pow(2, float64(exp)))
	return min(d, throttleMaxDelay)
}

// throttleKey is one count an attempt is charged to.
type throttleKey struct {
	scope, key string
	free       int
}

// admitLogin counts one attempt against each key, in one transaction (the
// rows are locked in a fixed order, address first, so attempts at once
// neither deadlock nor both pass on one count). It answers how long to wait
// when any key is still waiting; then nothing is counted.
func (s *Server) admitLogin(ctx context.Context, now time.Time, keys ...throttleKey) (time.Duration, error) {
	var wait time.Duration
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		rows := make([]dbq.LoginThrottle, len(keys))
		for i, k := range keys {
			if err := q.LoginThrottleEnsure(ctx, dbq.LoginThrottleEnsureParams{Scope: k.scope, Key: k.key}); err != nil {
				return err
			}
			row, err := q.LoginThrottleGetForUpdate(ctx, dbq.LoginThrottleGetForUpdateParams{Scope: k.scope, Key: k.key})
			if err != nil {
				return err
			}
			if row.LockedUntil != nil && row.LockedUntil.After(now) {
				wait = max(wait, row.LockedUntil.Sub(now))
			}
			rows[i] = row
		}
		if wait > 0 {
			return nil
		}
		for i, k := range keys {
			n := int(rows[i].Failures)
			if now.Sub(rows[i].LastFailureAt) > throttleMemory {
				n = 0
			}
			n++
			var until *time.Time
			if d := throttleDelay(n, k.free); d > 0 {
				t := now.Add(d)
				until = &t
			}
			if err := q.LoginThrottleSet(ctx, dbq.LoginThrottleSetParams{
				Scope: k.scope, Key: k.key, Failures: int32(min(n, math.MaxInt32)), LastFailureAt: now, LockedUntil: until,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return wait, err
}

// loginSucceeded undoes the attempt's count: the account starts again, the
// address takes back the one it was charged (not more: an attacker must not
// clear their address's count by signing in to an account of their own),
// and the address becomes one the owner is known at.
func (s *Server) loginSucceeded(ctx context.Context, userID int64, email, addr string, now time.Time) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := q.LoginThrottleDelete(ctx, dbq.LoginThrottleDeleteParams{Scope: scopeAccount, Key: email}); err != nil {
			return err
		}
		if err := q.LoginThrottleForgive(ctx, dbq.LoginThrottleForgiveParams{Scope: scopeAddress, Key: addr}); err != nil {
			return err
		}
		return q.LoginKnownAddressUpsert(ctx, dbq.LoginKnownAddressUpsertParams{UserID: userID, Address: addr, LastAt: now})
	})
}

// knownAddress: the user signed in from addr lately.
func (s *Server) knownAddress(ctx context.Context, userID int64, addr string, now time.Time) (bool, error) {
	ok, err := s.Q.LoginKnownAddressExists(ctx, dbq.LoginKnownAddressExistsParams{UserID: userID, Address: addr, LastAt: now.Add(-knownAddressFor)})
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// throttled answers 429 login_throttled with the wait in whole seconds.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	s.writeError(w, r, errs.New(errs.LoginThrottled, "wait %s", wait))
}
