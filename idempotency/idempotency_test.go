package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
)

type effect struct {
	id     int64
	amount string
}

// Made finds what a key made: nothing (no key, or nothing yet) lets the
// caller make the effect; the same request is answered the effect; another
// request is idempotency_key_reused, naming what the key made.
func TestMadeAnswersARequestSentAgain(t *testing.T) {
	stored := map[string]effect{"k1": {id: 7, amount: "500.00"}}
	get := func(key *string) (effect, error) {
		e, ok := stored[*key]
		if !ok {
			return effect{}, db.ErrNotFound
		}
		return e, nil
	}
	what := func(e effect) string { return "bid 7, of " + e.amount }
	sameAs := func(amount string) func(effect) bool { return func(e effect) bool { return e.amount == amount } }

	_, found, err := idempotency.Made(nil, get, sameAs("500.00"), what)
	require.NoError(t, err)
	assert.False(t, found, "no key")
	_, found, err = idempotency.Made(idempotency.Key(""), get, sameAs("500.00"), what)
	require.NoError(t, err)
	assert.False(t, found, "an empty key is none")
	_, found, err = idempotency.Made(idempotency.Key("k2"), get, sameAs("500.00"), what)
	require.NoError(t, err)
	assert.False(t, found, "the key made nothing yet")

	prev, found, err := idempotency.Made(idempotency.Key("k1"), get, sameAs("500.00"), what)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, effect{id: 7, amount: "500.00"}, prev, "the same request: what it made")

	prev, found, err = idempotency.Made(idempotency.Key("k1"), get, sameAs("600.00"), what)
	assert.True(t, found)
	assert.Equal(t, errs.IdempotencyKeyReused, errs.Code(err), "another request under the key")
	assert.Contains(t, err.Error(), "bid 7, of 500.00")
	assert.Equal(t, int64(7), prev.id)

	broken := errors.New("connection lost")
	_, found, err = idempotency.Made(idempotency.Key("k1"), func(*string) (effect, error) { return effect{}, broken }, sameAs("500.00"), what)
	assert.ErrorIs(t, err, broken)
	assert.False(t, found)
}

// The store: the first request claims its key; another finds it held (in
// flight, then answered, then replayed); a released key is taken again by
// the same request only.
func TestStoreClaimsAnswersAndReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := idempotency.NewStore(pool)
	c := idempotency.Claim{Owner: 0, Key: "k", Method: "POST", Path: "/v1/x", RequestHash: "h", StaleSeconds: 600}

	ok, err := s.Claim(ctx, c)
	require.NoError(t, err)
	assert.True(t, ok, "the first request claims the key")
	ok, err = s.Claim(ctx, c)
	require.NoError(t, err)
	assert.False(t, ok, "a duplicate in flight finds it held")
	a, err := s.Get(ctx, 0, "k")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Answer{RequestHash: "h"}, a, "in flight: no answer yet")

	require.NoError(t, s.Release(ctx, 0, "k"))
	other := c
	other.RequestHash = "another body"
	ok, err = s.Claim(ctx, other)
	require.NoError(t, err)
	assert.False(t, ok, "a released key is not another request's")
	ok, err = s.Claim(ctx, c)
	require.NoError(t, err)
	assert.True(t, ok, "the same request takes a released key again")

	require.NoError(t, s.Complete(ctx, 0, "k", 201, []byte(`{"id":1}`)))
	ok, err = s.Claim(ctx, c)
	require.NoError(t, err)
	assert.False(t, ok, "an answered key is replayed, not claimed")
	a, err = s.Get(ctx, 0, "k")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Answer{RequestHash: "h", Status: 201, Body: []byte(`{"id":1}`)}, a)

	_, err = s.Get(ctx, 0, "never")
	assert.ErrorIs(t, err, db.ErrNotFound)
}

// Purge drops keys answered more than a day ago, never one still in flight;
// a second pass finds nothing (two workers may purge at once).
func TestPurgeDropsKeysAnsweredADayAgo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	_, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status_code, response, created_at)
		SELECT 0, k.key, 'POST', '/x', 'h', k.status, k.body, now() - k.age FROM (VALUES
		('old-done', 201, '{}'::bytea, interval '25 hours'),
		('new-done', 201, '{}'::bytea, interval '23 hours'),
		('old-in-flight', NULL, NULL, interval '25 hours')) AS k(key, status, body, age)`)
	require.NoError(t, err)

	n, err := idempotency.Purge(ctx, db.Queries(pool), time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	var left []string
	rows, err := pool.Query(ctx, `SELECT key FROM idempotency_keys ORDER BY key`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		left = append(left, k)
	}
	assert.Equal(t, []string{"new-done", "old-in-flight"}, left)

	again, err := idempotency.Purge(ctx, db.Queries(pool), time.Now())
	require.NoError(t, err)
	assert.Zero(t, again, "a second pass finds nothing")
}
