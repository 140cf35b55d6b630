package replica

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db"
)

// Exclusive runs fn unless another process is running the job named job,
// and reports whether it ran. Every worker runs every background job on its
// ticker; the first to get the job's lock does the round, the others skip
// it. The lock is a PostgreSQL session lock held on one of the pool's
// connections for as long as fn runs, so a process that dies mid-round
// frees it with its connection, at once.
//
// The lock spares work; it is not what keeps a unit of work from being done
// twice. A round whose lock connection broke may overlap the next holder's,
// so each job's units are safe to repeat on their own (docs/replicas.md
// says how, job by job).
func Exclusive(ctx context.Context, pool *pgxpool.Pool, job string, fn func(context.Context)) (ran bool, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("replica: %s: %w", job, err)
	}
	q := db.Queries(conn)
	got, err := q.JobLockTry(ctx, job)
	if err != nil || !got {
		conn.Release()
		jobRounds.WithLabelValues(job, "skipped").Inc()
		if err != nil {
			return false, fmt.Errorf("replica: %s: %w", job, err)
		}
		return false, nil
	}
	defer func() {
		// A connection that might still hold the lock must not go back to
		// the pool, where it would keep the job from every process forever.
		held, uerr := q.JobUnlock(context.WithoutCancel(ctx), job)
		if uerr != nil || !held {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
	}()
	jobRounds.WithLabelValues(job, "ran").Inc()
	fn(ctx)
	return true, nil
}
