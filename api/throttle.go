package api

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
)

// Sign-in throttling (docs/security.md "Sign-in"). Only failures are
// counted: a failure is charged, before its password is looked at, to the
// keys of the channel the attempt came through (signInKeys), and a right
// password takes its charge back. A key's count is its failures of the last
// throttleWindow; up to its free allowance they cost nothing, from there the
// next attempt on the key must wait a delay that doubles, from
// throttleFirstDelay up to throttleMaxDelay, counted from the key's latest
// failure. An attempt before its time is answered 429 login_throttled with
// Retry-After, its password unread, and is not counted, so every wait ends.
//
// The channel decides whose failures an attempt can be held by:
//   - a device the account signed in on (its cookie, devices.go): that
//     device's failures only;
//   - an address the account signed in from, or registered at: that account's
//     failures at that address only;
//   - anything else: the account's failures from such unrecognized clients,
//     and the address's failures over every account.
//
// So people the platform recognizes are never held by failures that are not
// theirs, however many an attacker makes behind the same address, while
// guessing still pays per account and, from an unrecognized client, per
// address.
const (
	accountFreeFailures = 5  // failures against one account (or one device, or one known address) before it waits
	addressFreeFailures = 20 // failures from one address, over all accounts
	throttleFirstDelay  = time.Second
	throttleMaxDelay    = 15 * time.Minute
	// newcomerMaxDelay caps what a registration waits on its address's
	// failures: a new person behind an address under attack waits seconds,
	// not minutes (issue 23). It is also the pace at which registration can
	// probe for accounts from such an address, each probe a failure.
	newcomerMaxDelay = 5 * time.Second
	// throttleWindow: a failure older than this no longer counts.
	throttleWindow = 24 * time.Hour
	// knownAddressFor: how long a sign-in (or registration) keeps its address
	// known to the account.
	knownAddressFor = 90 * 24 * time.Hour
)

// The keys a failure can be charged to (login_failures.scope).
const (
	scopeAddress = "address" // the client address, over every account
	scopeAccount = "account" // the normalized email, from unrecognized clients
	scopeKnown   = "known"   // one account at one address it signed in from
	scopeDevice  = "device"  // one account on one device it signed in on
)

// throttleDelay is the wait after n failures: none within the allowance,
// then 1 s, 2 s, 4 s, … up to throttleMaxDelay.
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
	// cap, when set, bounds the wait this key imposes (newcomerMaxDelay).
	cap time.Duration
}

func (k throttleKey) delay(n int) time.Duration {
	d := throttleDelay(n, k.free)
	if k.cap > 0 {
		d = min(d, k.cap)
	}
	return d
}

func addressKey(addr string) throttleKey {
	return throttleKey{scope: scopeAddress, key: addr, free: addressFreeFailures}
}

// charge is what an admitted attempt was charged: failures until the
// attempt turns out right (forgive).
type charge []int64

// admit charges one failure to each key, in one transaction, unless a key is
// still waiting; then it answers the wait and charges nothing. The keys are
// locked in a fixed order, so attempts arriving together neither deadlock
// nor pass on one count.
func (s *Server) admit(ctx context.Context, now time.Time, keys ...throttleKey) (time.Duration, charge, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b throttleKey) int { return cmp.Or(cmp.Compare(a.scope, b.scope), cmp.Compare(a.key, b.key)) })
	var wait time.Duration
	var ids charge
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		wait, ids = 0, nil
		for _, k := range keys {
			if err := q.LoginThrottleLock(ctx, dbq.LoginThrottleLockParams{Scope: k.scope, Key: k.key}); err != nil {
				return err
			}
			c, err := q.LoginFailureCount(ctx, dbq.LoginFailureCountParams{Scope: k.scope, Key: k.key, Since: now.Add(-throttleWindow)})
			if err != nil {
				return err
			}
			if until := c.LastAt.Add(k.delay(int(c.Failures))); c.Failures > 0 && until.After(now) {
				wait = max(wait, until.Sub(now))
			}
		}
		if wait > 0 {
			return nil
		}
		for _, k := range keys {
			id, err := q.LoginFailureInsert(ctx, dbq.LoginFailureInsertParams{Scope: k.scope, Key: k.key, At: now})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return wait, ids, err
}

// forgive takes back an attempt's charge: it was no failure.
func forgive(ctx context.Context, q *dbq.Queries, c charge) error {
	if len(c) == 0 {
		return nil
	}
	return q.LoginFailureDeleteIDs(ctx, c)
}

// signInKeys is what an attempt on email from addr is charged to: its
// channel's keys (see the top of this file). u is the account, nil for an
// email nobody registered (charged exactly as a registered one from an
// unrecognized client, so the answers say nothing of which emails exist);
// device is the account's device the request presented, nil without one.
func (s *Server) signInKeys(ctx context.Context, u *dbq.User, device *dbq.LoginDevice, email, addr string, now time.Time) ([]throttleKey, error) {
	if device != nil {
		return []throttleKey{{scope: scopeDevice, key: strconv.FormatInt(device.ID, 10), free: accountFreeFailures}}, nil
	}
	if u != nil {
		known, err := s.knownAddress(ctx, u.ID, addr, now)
		if err != nil {
			return nil, err
		}
		if known {
			return []throttleKey{{scope: scopeKnown, key: knownKey(u.ID, addr), free: accountFreeFailures}}, nil
		}
	}
	return []throttleKey{addressKey(addr), {scope: scopeAccount, key: email, free: accountFreeFailures}}, nil
}

func knownKey(userID int64, addr string) string { return strconv.FormatInt(userID, 10) + " " + addr }

// signedInThrough ends the attempt's charge and clears the failures of the
// channel it came through, but never an address's: the owner has shown the
// failures on their account (or device, or known address) were not a
// guesser's who is still at it, while an address's failures may be anyone's
// (an attacker must not clear their address by signing in to an account of
// their own). The address becomes one the account is known at.
func (s *Server) signedInThrough(ctx context.Context, q *dbq.Queries, keys []throttleKey, c charge, userID int64, addr string, now time.Time) error {
	if err := forgive(ctx, q, c); err != nil {
		return err
	}
	for _, k := range keys {
		if k.scope == scopeAddress {
			continue
		}
		if err := q.LoginFailureClear(ctx, dbq.LoginFailureClearParams{Scope: k.scope, Key: k.key}); err != nil {
			return err
		}
	}
	return q.LoginKnownAddressUpsert(ctx, dbq.LoginKnownAddressUpsertParams{UserID: userID, Address: addr, LastAt: now})
}

// knownAddress: the user signed in (or registered) from addr lately.
func (s *Server) knownAddress(ctx context.Context, userID int64, addr string, now time.Time) (bool, error) {
	ok, err := s.Q.LoginKnownAddressExists(ctx, dbq.LoginKnownAddressExistsParams{UserID: userID, Address: addr, LastAt: now.Add(-knownAddressFor)})
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// refused answers err, if there is one, and says so: a throttled attempt's
// 429 with its wait, or the error's problem.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	if wait, ok := throttledFor(err); ok {
		s.throttled(w, r, wait)
		return true
	}
	if err != nil {
		s.writeError(w, r, err)
		return true
	}
	return false
}

// throttled answers 429 login_throttled with the wait in whole seconds.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait))
	s.writeError(w, r, errs.New(errs.LoginThrottled, "wait %s", wait))
}

// retryAfter is a wait as Retry-After says it: whole seconds, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1))
}
