package replica

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testwait"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// joined is a replica of kind that joined on pool, listening on addr.
func joined(t *testing.T, pool *pgxpool.Pool, kind, addr string) *Replica {
	t.Helper()
	r, err := Join(context.Background(), pool, kind, addr, quiet)
	require.NoError(t, err)
	return r
}

func alive(t *testing.T, pool *pgxpool.Pool, id *int64) bool {
	t.Helper()
	var ok bool
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT replica_alive($1)`, id).Scan(&ok))
	return ok
}

// A replica is alive while it renews its lease, dead once it leaves or its
// lease runs out unrenewed (a process killed outright); the others learn how
// many are alive at each renewal. A claim made by no replica (NULL) is never
// known dead.
func TestLeaseSaysWhoIsAlive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a := joined(t, pool, KindAPI, "")
	b := joined(t, dbtest.Another(t, pool), KindAPI, "")
	w := joined(t, pool, "worker", "")
	assert.NotEqual(t, a.ID(), b.ID())
	assert.Equal(t, 1, a.Live(), "before its first renewal a replica counts itself")

	a.Renew(ctx)
	assert.Equal(t, 2, a.Live(), "two API replicas; the worker is another kind")
	w.Renew(ctx)
	assert.Equal(t, 1, w.Live())
	idA, idB := a.ID(), b.ID()
	assert.True(t, alive(t, pool, &idA))
	assert.True(t, alive(t, pool, &idB))
	assert.True(t, alive(t, pool, nil))

	// b is killed: it renews no more, and Lease after its last renewal it is dead.
	_, err := pool.Exec(ctx, `UPDATE replicas SET expires_at = now() - interval '1 millisecond' WHERE id = $1`, idB)
	require.NoError(t, err)
	assert.False(t, alive(t, pool, &idB))
	a.Renew(ctx)
	assert.Equal(t, 1, a.Live(), "a dead replica's share goes to the living")

	require.NoError(t, a.Leave(ctx))
	assert.False(t, alive(t, pool, &idA), "a replica that leaves is dead at once")
}

// A replica started again where a killed one listened (the same host and
// address, which it holds) takes its place: the killed one is dead at once,
// not when its lease runs out. Replicas listening elsewhere are left alone.
func TestReplicaStartedAgainTakesThePlaceOfTheKilledOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	killed := joined(t, pool, KindAPI, "127.0.0.1:8080")
	other := joined(t, pool, KindAPI, "127.0.0.1:8081")
	worker := joined(t, pool, "worker", "127.0.0.1:8080")
	old, otherID, workerID := killed.ID(), other.ID(), worker.ID()
	again := joined(t, pool, KindAPI, "127.0.0.1:8080")
	id := again.ID()
	assert.False(t, alive(t, pool, &old), "its predecessor is dead at once")
	assert.True(t, alive(t, pool, &id))
	assert.True(t, alive(t, pool, &otherID), "another address is another replica")
	assert.True(t, alive(t, pool, &workerID), "another kind is another replica")
	again.Renew(ctx)
	assert.Equal(t, 2, again.Live())
}

// A lease unrenewed for its length lapses by itself: nothing but time.
func TestLeaseLapsesWithoutRenewal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	r := &Replica{q: db.Queries(pool), kind: KindAPI, log: quiet, lease: 300 * time.Millisecond}
	require.NoError(t, r.join(ctx, false))
	id := r.ID()
	require.True(t, alive(t, pool, &id))
	testwait.Within(10*time.Second).Every(20*time.Millisecond).For(t, "the lease to lapse", func() bool {
		return !alive(t, pool, &id)
	})
	r.Renew(ctx)
	assert.True(t, alive(t, pool, &id), "a late renewal revives the same replica")
	assert.Equal(t, id, r.ID())
}

// A replica whose row was dropped (housekeeping, after a long stall) joins
// again under a new id rather than renewing nothing.
func TestRenewAfterTheRowIsGoneJoinsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	r := joined(t, pool, KindAPI, "")
	old := r.ID()
	_, err := pool.Exec(ctx, `DELETE FROM replicas`)
	require.NoError(t, err)
	r.Renew(ctx)
	assert.NotEqual(t, old, r.ID())
	id := r.ID()
	assert.True(t, alive(t, pool, &id))
	assert.False(t, alive(t, pool, &old))
}

// A renewal runs the lease on from now.
func TestRenewRunsTheLeaseOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	r := joined(t, pool, KindAPI, "")
	expires := func() (at time.Time) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT expires_at FROM replicas WHERE id = $1`, r.ID()).Scan(&at))
		return at
	}
	before := expires()
	r.Renew(ctx)
	assert.True(t, expires().After(before))
}

// One process at a time runs a job: while one holds it the others skip their
// round (and so does the holder's own second round); once it is done, or its
// process dies, the next may run it. Platforms in schemas of their own do not
// exclude each other.
func TestJobsRunOneAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	mine, theirs := NewJobs(pool), NewJobs(dbtest.Another(t, pool))
	t.Cleanup(mine.Close)
	t.Cleanup(theirs.Close)

	inside, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ran, err := mine.Run(ctx, "settle", func(context.Context) { close(inside); <-release })
		assert.NoError(t, err)
		assert.True(t, ran)
	}()
	<-inside
	ran, err := theirs.Run(ctx, "settle", func(context.Context) { t.Error("ran while the other held it") })
	require.NoError(t, err)
	assert.False(t, ran, "held by the other process")
	ran, err = mine.Run(ctx, "settle", func(context.Context) { t.Error("ran twice at once in one process") })
	require.NoError(t, err)
	assert.False(t, ran, "held by this process's own round")
	ran, err = theirs.Run(ctx, "deliver", func(context.Context) {})
	require.NoError(t, err)
	assert.True(t, ran, "another job is free")
	elsewhere := NewJobs(dbtest.New(t))
	t.Cleanup(elsewhere.Close)
	ran, err = elsewhere.Run(ctx, "settle", func(context.Context) {})
	require.NoError(t, err)
	assert.True(t, ran, "another schema is another platform")
	close(release)
	wg.Wait()
	ran, err = theirs.Run(ctx, "settle", func(context.Context) {})
	require.NoError(t, err)
	assert.True(t, ran, "free once the holder is done")

	// A holder that dies frees the job with its connection.
	inside, release = make(chan struct{}), make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = mine.Run(ctx, "settle", func(context.Context) { close(inside); <-release })
	}()
	<-inside
	ran, err = theirs.Run(ctx, "settle", func(context.Context) {})
	require.NoError(t, err)
	require.False(t, ran)
	_, err = pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7433 AND granted
		AND objid = hashtext(current_schema() || ':settle')::oid`)
	require.NoError(t, err)
	testwait.Within(10*time.Second).Every(10*time.Millisecond).For(t, "a dead holder's lock to go", func() bool {
		ran, err = theirs.Run(ctx, "settle", func(context.Context) {})
		require.NoError(t, err)
		return ran
	})
	close(release) // its unlock fails on the dead connection, which it lets go
	wg.Wait()
	ran, err = mine.Run(ctx, "settle", func(context.Context) {})
	require.NoError(t, err)
	assert.True(t, ran, "and it connects again for its next round")
}

// A round leaves no lock behind, even one whose job panicked.
func TestJobsLeaveNoLockBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	jobs := NewJobs(pool)
	t.Cleanup(jobs.Close)
	held := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7433 AND granted
			AND objid = hashtext(current_schema() || ':settle')::oid`).Scan(&n))
		return n
	}
	ran, err := jobs.Run(ctx, "settle", func(context.Context) { assert.Equal(t, 1, held()) })
	require.NoError(t, err)
	require.True(t, ran)
	assert.Zero(t, held())
	assert.Panics(t, func() { _, _ = jobs.Run(ctx, "settle", func(context.Context) { panic("job") }) })
	assert.Zero(t, held())
	ran, err = jobs.Run(ctx, "settle", func(context.Context) {})
	require.NoError(t, err)
	assert.True(t, ran, "free again after the panic")
}

// Purge drops replicas dead for a day; a missing row reads as dead, so
// nothing a dead replica held is kept by it, and the living stay. A second
// pass finds nothing.
func TestPurgeDropsLongDeadReplicas(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, `INSERT INTO replicas (kind, host, pid, expires_at) VALUES
		('api', 'gone', 1, now() - interval '25 hours'), ('api', 'lately', 2, now() - interval '1 hour'), ('api', 'alive', 3, now() + interval '10 seconds')`)
	require.NoError(t, err)
	n, err := Purge(ctx, db.Queries(pool), time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	var hosts []string
	rows, err := pool.Query(ctx, `SELECT host FROM replicas ORDER BY pid`)
	require.NoError(t, err)
	for rows.Next() {
		var h string
		require.NoError(t, rows.Scan(&h))
		hosts = append(hosts, h)
	}
	assert.Equal(t, []string{"lately", "alive"}, hosts)
	again, err := Purge(ctx, db.Queries(pool), time.Now())
	require.NoError(t, err)
	assert.Zero(t, again)
}
