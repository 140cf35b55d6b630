package auth

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Sign-in throttling (docs/security.md "Sign-in"). Only failures are
// counted: a failure is charged, before its password is looked at, to the
// keys of the channel the attempt came through (signInKeys), and a right
// password takes its charge back. A key's count is its failures of the last
// ThrottleWindow; up to its free allowance they cost nothing, from there the
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
	// AccountFreeFailures: failures against one account (or one device, or
	// one known address) before it waits.
	AccountFreeFailures = 5
	// AddressFreeFailures: failures from one address, over all accounts.
	AddressFreeFailures = 20
	throttleFirstDelay  = time.Second
	throttleMaxDelay    = 15 * time.Minute
	// NewcomerMaxDelay caps what a registration waits on its address's
	// failures: a new person behind an address under attack waits seconds,
	// not minutes (issue 23). It is also the pace at which registration can
	// probe for accounts from such an address, each probe a failure.
	NewcomerMaxDelay = 5 * time.Second
	// ThrottleWindow: a failure older than this no longer counts.
	ThrottleWindow = 24 * time.Hour
	// KnownAddressFor: how long a sign-in (or registration) keeps its address
	// known to the account.
	KnownAddressFor = 90 * 24 * time.Hour
)

// The keys a failure can be charged to (login_failures.scope).
const (
	scopeAddress = "address" // the client address, over every account
	scopeAccount = "account" // the normalized email, from unrecognized clients
	scopeKnown   = "known"   // one account at one address it signed in from
	scopeDevice  = "device"  // one account on one device it signed in on
)

// ThrottleDelay is the wait after n failures with free of them free: none
// within the allowance, then 1 s, 2 s, 4 s, … up to 15 minutes.
func ThrottleDelay(n, free int) time.Duration {
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
	// cap, when set, bounds the wait this key imposes (NewcomerMaxDelay).
	cap time.Duration
}

func (k throttleKey) delay(n int) time.Duration {
	d := ThrottleDelay(n, k.free)
	if k.cap > 0 {
		d = min(d, k.cap)
	}
	return d
}

func addressKey(addr string) throttleKey {
	return throttleKey{scope: scopeAddress, key: addr, free: AddressFreeFailures}
}

// charge is what an admitted attempt was charged: failures until the
// attempt turns out right (forgive).
type charge []int64

// admit charges one failure to each key, in one transaction, unless a key is
// still waiting; then it answers the wait and charges nothing. The keys are
// locked in a fixed order, so attempts arriving together neither deadlock
// nor pass on one count.
func (s *service) admit(ctx context.Context, now time.Time, keys ...throttleKey) (time.Duration, charge, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b throttleKey) int { return cmp.Or(cmp.Compare(a.scope, b.scope), cmp.Compare(a.key, b.key)) })
	var wait time.Duration
	var ids charge
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		wait, ids = 0, nil
		for _, k := range keys {
			if err := q.LoginThrottleLock(ctx, dbq.LoginThrottleLockParams{Scope: k.scope, Key: k.key}); err != nil {
				return err
			}
			c, err := q.LoginFailureCount(ctx, dbq.LoginFailureCountParams{Scope: k.scope, Key: k.key, Since: now.Add(-ThrottleWindow)})
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
func (s *service) signInKeys(ctx context.Context, u *dbq.User, device *dbq.LoginDevice, email, addr string, now time.Time) ([]throttleKey, error) {
	if device != nil {
		return []throttleKey{{scope: scopeDevice, key: strconv.FormatInt(device.ID, 10), free: AccountFreeFailures}}, nil
	}
	if u != nil {
		known, err := s.knownAddress(ctx, u.ID, addr, now)
		if err != nil {
			return nil, err
		}
		if known {
			return []throttleKey{{scope: scopeKnown, key: knownKey(u.ID, addr), free: AccountFreeFailures}}, nil
		}
	}
	return []throttleKey{addressKey(addr), {scope: scopeAccount, key: email, free: AccountFreeFailures}}, nil
}

func knownKey(userID int64, addr string) string { return strconv.FormatInt(userID, 10) + " " + addr }

// signedInThrough ends the attempt's charge and clears the failures of the
// channel it came through, but never an address's: the owner has shown the
// failures on their account (or device, or known address) were not a
// guesser's who is still at it, while an address's failures may be anyone's
// (an attacker must not clear their address by signing in to an account of
// their own). The address becomes one the account is known at.
func (s *service) signedInThrough(ctx context.Context, q *dbq.Queries, keys []throttleKey, c charge, userID int64, addr string, now time.Time) error {
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
func (s *service) knownAddress(ctx context.Context, userID int64, addr string, now time.Time) (bool, error) {
	ok, err := s.q.LoginKnownAddressExists(ctx, dbq.LoginKnownAddressExistsParams{UserID: userID, Address: addr, LastAt: now.Add(-KnownAddressFor)})
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return ok, err
}
