package auth

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestThrottleDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 0, 4: 0, 5: time.Second, 6: 2 * time.Second, 9: 16 * time.Second, 15: 15 * time.Minute, 1 << 30: 15 * time.Minute} {
		assert.Equal(t, want, ThrottleDelay(n, AccountFreeFailures), "n=%d", n)
	}
}

// TestPurge: expired sessions, failed sign-ins past the throttle's window,
// addresses and devices unused for 90 days; nothing else. A second pass
// finds nothing.
func TestPurge(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	u, err := db.Queries(pool).UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "keep@test.cn", PasswordHash: "x", Role: lending.RoleInvestor,
		Name: "张三", IDNumber: "330106199003011234", Phone: "13800138001"}))
	require.NoError(t, err)
	now := time.Now()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ('expired', $1, now() - interval '1 minute'), ('live', $1, now() + interval '1 hour')`, u.ID)
	exec(`INSERT INTO login_failures (scope, key, at) VALUES
		('account', 'stale', now() - interval '25 hours'),
		('account', 'recent', now() - interval '2 hours'),
		('address', 'waiting', now() - interval '1 minute')`)
	exec(`INSERT INTO login_known_addresses (user_id, address, last_at) VALUES ($1, 'old', now() - interval '91 days'), ($1, 'new', now())`, u.ID)
	exec(`INSERT INTO login_devices (user_id, token_hash, created_at, last_at) VALUES
		($1, 'old-device', now() - interval '200 days', now() - interval '91 days'),
		($1, 'new-device', now() - interval '200 days', now() - interval '89 days')`, u.ID)

	p, err := Purge(ctx, db.Queries(pool), now)
	require.NoError(t, err)
	assert.Equal(t, Purged{Sessions: 1, Failures: 1, KnownAddresses: 1, Devices: 1}, p)
	left := func(sql string) []string {
		rows, err := pool.Query(ctx, sql)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			out = append(out, k)
		}
		return out
	}
	assert.Equal(t, []string{"live"}, left(`SELECT token_hash FROM sessions`))
	assert.ElementsMatch(t, []string{"recent", "waiting"}, left(`SELECT key FROM login_failures`))
	assert.ElementsMatch(t, []string{"new"}, left(`SELECT address FROM login_known_addresses`))
	assert.ElementsMatch(t, []string{"new-device"}, left(`SELECT token_hash FROM login_devices`))

	again, err := Purge(ctx, db.Queries(pool), now)
	require.NoError(t, err)
	assert.Equal(t, Purged{}, again, "a second pass finds nothing")
	assert.GreaterOrEqual(t, ThrottleRetention, ThrottleWindow, "a purged failure is one the throttle no longer counts")
}

// The keys the platform makes itself are cached by each process after its
// first read, which is correct per process because the first to make a key
// wins and every process reads that one: two replicas (two pools, two
// services) asking at once for a key nobody made get the same.
func TestServerKeysAreOneForTheFleet(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	replicas := []*service{
		New(Deps{Pool: pool, Log: quiet}).(*service),
		New(Deps{Pool: dbtest.Another(t, pool), Log: quiet}).(*service),
	}
	keys := make([][]byte, 2)
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Go(func() {
			k, err := r.serverKey(ctx, "replicas-test")
			assert.NoError(t, err)
			keys[i] = k
		})
	}
	wg.Wait()
	require.Len(t, keys[0], 32)
	assert.Equal(t, keys[0], keys[1])
	again, err := replicas[1].serverKey(ctx, "replicas-test")
	require.NoError(t, err)
	assert.Equal(t, keys[0], again)
}

// The service hashes at its own cost, production's unless told otherwise,
// and an unknown email is compared against a hash of that same cost, so it
// costs what a wrong password costs at any setting.
func TestPasswordCostIsTheServicesOwn(t *testing.T) {
	for _, tc := range []struct {
		given, want int
	}{{0, bcrypt.DefaultCost}, {bcrypt.MinCost, bcrypt.MinCost}} {
		s := New(Deps{PasswordCost: tc.given}).(*service)
		hash, err := s.hashPassword("password-1")
		require.NoError(t, err)
		got, err := bcrypt.Cost(hash)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "a password's hash, cost %d given", tc.given)
		got, err = bcrypt.Cost([]byte(s.noSuchUser))
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "the unknown email's hash, cost %d given", tc.given)
	}
	assert.Equal(t, noSuchUserHash, New(Deps{}).(*service).noSuchUser, "production's is the constant")
}
