package replica

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db"
)

// Jobs lets one process at a time do a round of each background job. Every
// worker runs every job on its ticker; the first to take the job's lock
// does the round, the others skip it. The locks are PostgreSQL session
// locks held on one connection of the process's own, outside its pool (a
// round holding a pool connection while it waits for another could starve
// a small pool): a process that dies frees its jobs with that connection,
// at once.
//
// The lock spares work; it is not all that keeps a unit of work from being
// done twice. A round whose lock connection broke may overlap the next
// holder's, so each job's units are safe to repeat on their own
// (docs/replicas.md says how, job by job).
type Jobs struct {
	cfg  *pgx.ConnConfig
	mu   sync.Mutex
	conn *pgx.Conn       // nil until the first round, and after it broke
	held map[string]bool // the jobs this process is doing a round of
}

// NewJobs is the jobs of a process that works on pool's database. Its one
// connection counts outside pool's size.
func NewJobs(pool *pgxpool.Pool) *Jobs {
	return &Jobs{cfg: pool.Config().ConnConfig.Copy(), held: map[string]bool{}}
}

// Run does a round of job (fn) unless another process, or this one, is
// doing one, and reports whether it did.
func (j *Jobs) Run(ctx context.Context, job string, fn func(context.Context)) (ran bool, err error) {
	conn, err := j.lock(ctx, job)
	if err != nil || conn == nil {
		jobRounds.WithLabelValues(job, "skipped").Inc()
		if err != nil {
			return false, fmt.Errorf("replica: %s: %w", job, err)
		}
		return false, nil
	}
	defer j.unlock(context.WithoutCancel(ctx), conn, job)
	jobRounds.WithLabelValues(job, "ran").Inc()
	fn(ctx)
	return true, nil
}

// lock takes job's lock, answering the connection holding it, or nil when
// another holds it.
func (j *Jobs) lock(ctx context.Context, job string) (*pgx.Conn, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.held[job] {
		return nil, nil // a session lock is reentrant: this process's own round is checked here
	}
	if j.conn == nil || j.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, j.cfg)
		if err != nil {
			return nil, err
		}
		j.conn = conn
	}
	got, err := db.Queries(j.conn).JobLockTry(ctx, job)
	if err != nil {
		j.drop()
		return nil, err
	}
	if !got {
		return nil, nil
	}
	j.held[job] = true
	return j.conn, nil
}

func (j *Jobs) unlock(ctx context.Context, conn *pgx.Conn, job string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.held, job)
	if conn != j.conn {
		return // that connection broke and went, and its locks with it
	}
	if held, err := db.Queries(conn).JobUnlock(ctx, job); err != nil || !held {
		// Whether it still holds the lock is unknown: a connection that might
		// must not live on, keeping the job from every process.
		j.drop()
	}
}

// drop closes the connection, and every lock on it; the next round connects
// again. Called with mu held.
func (j *Jobs) drop() {
	if j.conn != nil {
		_ = j.conn.Close(context.Background())
		j.conn = nil
	}
}

// Close ends the connection and so every lock this process holds.
func (j *Jobs) Close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.drop()
}
