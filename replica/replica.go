// Package replica is a process's place among the replicas of its kind
// (docs/replicas.md): a lease in PostgreSQL that says it is alive, which
// the others read to take over what a dead one held (an Idempotency-Key
// claim, the console's clock advance) and to share a budget among the live
// ones (the API's rate limit); and Jobs, which lets one process at a time
// do a round of a background job.
//
// Liveness is a lease, not a connection: a replica renews its row every
// Beat and is taken for dead once its lease has not been renewed for Lease.
// A process killed outright (SIGKILL, a lost node) is known dead Lease after
// its last renewal, whatever became of its TCP connections; one that stops
// cleanly deletes its row and is known dead at once. A replica taken for
// dead by mistake (stalled longer than Lease) loses nothing that matters:
// what others take over from it is safe to do twice (each effect carries its
// key), which is why the takeover may be quick.
package replica

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

const (
	// Beat is how often a replica renews its lease.
	Beat = 2 * time.Second
	// Lease is how long a replica that stopped renewing is still taken for
	// alive: five beats, so a busy database or a slow beat is not a death.
	Lease = 10 * time.Second
)

// Kinds of replica.
const (
	KindAPI = "api"
)

// Replica is this process's lease.
type Replica struct {
	q     *dbq.Queries
	kind  string
	addr  string // the address it listens on, which it holds; "" none
	log   *slog.Logger
	lease time.Duration

	id      atomic.Int64
	live    atomic.Int32
	renewed atomic.Int64 // unix nanoseconds of the last renewal that held
}

// Join registers this process as a live replica of kind. Renew, every
// Beat, keeps it alive; Leave ends it.
//
// addr, when not "", is the address the process listens on, bound before
// it joins: a replica of its kind that joined from the same host and address
// is its predecessor, killed and started again in its place, and is known
// dead at once (its claims taken over, its share of the rate limit given
// back) instead of when its lease runs out.
func Join(ctx context.Context, d db.DBTX, kind, addr string, log *slog.Logger) (*Replica, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Replica{q: db.Queries(d), kind: kind, addr: addr, log: log, lease: Lease}
	if err := r.join(ctx, addr != ""); err != nil {
		return nil, err
	}
	return r, nil
}

// join inserts the lease; succeed: in the place of a predecessor (Join).
func (r *Replica) join(ctx context.Context, succeed bool) error {
	host, _ := os.Hostname()
	if r.addr != "" {
		host += " " + r.addr
	}
	id, err := r.q.ReplicaInsert(ctx, dbq.ReplicaInsertParams{Kind: r.kind, Host: host, Pid: int32(os.Getpid()),
		LeaseSeconds: r.lease.Seconds(), Succeed: succeed})
	if err != nil {
		return fmt.Errorf("replica: join as %s: %w", r.kind, err)
	}
	r.id.Store(id)
	r.renewed.Store(time.Now().UnixNano())
	if r.live.Load() == 0 {
		r.live.Store(1)
	}
	r.log.Info("replica: joined", "kind", r.kind, "replica", id)
	return nil
}

// ID is the replica's id, which what it claims carries (replica_id).
func (r *Replica) ID() int64 { return r.id.Load() }

// Live is how many replicas of its kind were alive at the last renewal,
// this one included: at least 1.
func (r *Replica) Live() int { return max(int(r.live.Load()), 1) }

// Renew renews the lease and learns how many replicas are alive; call it
// every Beat. It does not leave when ctx ends: the caller leaves once the
// work the lease covers is done (an API drains its requests first). A
// renewal that fails is logged and tried again at the next beat; past the
// lease, the others may take over what this replica holds, which is safe
// (see the package comment) but worth a warning.
func (r *Replica) Renew(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, r.lease)
	defer cancel()
	row, err := r.q.ReplicaRenew(ctx, dbq.ReplicaRenewParams{Kind: r.kind, ID: r.ID(), LeaseSeconds: r.lease.Seconds()})
	if err != nil {
		if parent.Err() == nil {
			r.log.Warn("replica: lease not renewed", "kind", r.kind, "replica", r.ID(),
				"since_renewal", time.Since(time.Unix(0, r.renewed.Load())).Round(time.Millisecond), "error", err)
		}
		return
	}
	if !row.Renewed {
		// Dropped as long dead: whatever it held is someone else's now.
		r.log.Warn("replica: lease found gone; joining again", "kind", r.kind, "replica", r.ID())
		if err := r.join(ctx, false); err != nil {
			r.log.Warn("replica: join again", "error", err)
			return
		}
	} else {
		if gap := time.Since(time.Unix(0, r.renewed.Load())); gap > r.lease {
			r.log.Warn("replica: lease lapsed before this renewal; others may have taken over its claims", "kind", r.kind, "replica", r.ID(), "gap", gap.Round(time.Millisecond))
		}
		r.renewed.Store(time.Now().UnixNano())
	}
	r.live.Store(row.Live)
	live.WithLabelValues(r.kind).Set(float64(row.Live))
}

// Leave deletes the lease: whatever this replica held is free at once.
func (r *Replica) Leave(ctx context.Context) error {
	if err := r.q.ReplicaDelete(ctx, r.ID()); err != nil {
		return fmt.Errorf("replica: leave: %w", err)
	}
	r.log.Info("replica: left", "kind", r.kind, "replica", r.ID())
	return nil
}

// Retention: a replica whose lease ran out this long ago is dropped. Its row
// only says it is dead, which a missing row says too.
const Retention = 24 * time.Hour

// Purge drops the replicas dead for Retention and answers how many went; a
// second call at once finds none, so workers may run it together.
func Purge(ctx context.Context, q *dbq.Queries, now time.Time) (int64, error) {
	return q.ReplicaDeleteExpiredBefore(ctx, now.Add(-Retention))
}
