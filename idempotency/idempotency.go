// Package idempotency keeps the platform's promise that a request sent again
// under its Idempotency-Key makes no second effect (docs/idempotency.md). Two
// things keep it, and both live here:
//
//   - the effect carries the key: each money POST's row (a loan, a recovery, a
//     recharge, a withdrawal, a bid) is written with the key, and a request
//     sent again finds it (Made, Again), whatever became of the first answer;
//   - the replay store (Store, table idempotency_keys) replays a final answer
//     byte for byte and refuses another request under a key. It only
//     replays: it is not what keeps an effect from happening twice.
package idempotency

import (
	"errors"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/errs"
)

// Made looks for what key made, with get, the effect's lookup by key
// (db.ErrNotFound: the key made nothing yet). found false: there is no key,
// or it made nothing; the caller makes the effect. Found, it answers the
// request sent again as Again does. Call it where the effect is inserted,
// under the lock that orders requests under one key, so that two of them
// cannot both find nothing and both insert.
func Made[T any](key *string, get func(key *string) (T, error), same func(T) bool, what func(T) string) (prev T, found bool, err error) {
	if key == nil || *key == "" {
		return prev, false, nil
	}
	prev, err = get(key)
	switch {
	case errors.Is(err, db.ErrNotFound):
		var zero T
		return zero, false, nil
	case err != nil:
		return prev, false, err
	}
	prev, err = Again(prev, same(prev), what(prev))
	return prev, true, err
}

// Again answers a request sent again under the key that made prev: prev
// itself when the request is the one that made it (same), or
// idempotency_key_reused naming what the key made (what, as "bid 7, of
// 500.00") when it is another. The effect answers this, not the replay
// store, so it holds after the store has dropped the key.
func Again[T any](prev T, same bool, what string) (T, error) {
	if !same {
		return prev, errs.New(errs.IdempotencyKeyReused, "this Idempotency-Key made %s", what)
	}
	return prev, nil
}

// Key is a key as an effect's row stores it: nil for none.
func Key(key string) *string {
	if key == "" {
		return nil
	}
	return &key
}
