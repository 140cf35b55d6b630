package sim

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim/simdb"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/groupcommit"
)

// Freezes are applied in groups (group commit): those that arrive while one
// group's transaction runs share the next, whose FreezeApply statements go
// to the server together in one round trip, in the batch's implicit
// transaction, so a bid's freeze costs a share of one commit's WAL flush
// instead of its own. The group is ordered by account number, the order
// every request locks accounts in (lockAccounts), so it cannot deadlock with
// them over accounts; two freezes of one account keep their arrival order.
// (A repeat of one of its numbers going the long way at the same moment
// takes the number's row before the account, the other way round, and
// PostgreSQL breaks such a deadlock by aborting one of the two, which is
// then tried again.) Should the group's transaction fail (a number already
// taken, a deadlock, a panic), nothing of it was committed, and each freeze
// is tried again alone, so one bad freeze cannot fail another. A freeze that
// comes back without a row (refused) wrote nothing and is decided the long
// way once its group is over.

// maxFreezeGroup bounds a group: a freeze waits for the whole of its group.
const maxFreezeGroup = 64

type freezing struct {
	r      bank.FreezeRequest
	params simdb.FreezeApplyParams

	row     simdb.Request
	applied bool // committed: row is the request's result

	w groupcommit.Waiter
}

type freezeQueue struct {
	mu sync.Mutex
	q  groupcommit.Queue[*freezing]
}

// freezeQueued tries f in a group (groupcommit.Run).
func (s *Sim) freezeQueued(ctx context.Context, f *freezing) {
	// The group's work is done for every freeze in it: one whose caller
	// went away must not cut the others short.
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workTimeout)
	defer cancel()
	groupcommit.Run(&s.freezes.mu, &s.freezes.q, f, func(f *freezing) *groupcommit.Waiter { return &f.w },
		func(q *groupcommit.Queue[*freezing]) []*freezing { return groupcommit.TakeFirst(q, maxFreezeGroup) },
		func(group []*freezing) { s.freezeGroup(gctx, group) }, func() {})
}

func (s *Sim) freezeGroup(ctx context.Context, group []*freezing) {
	freezeGroupSize.Observe(float64(len(group)))
	slices.SortStableFunc(group, func(a, b *freezing) int { return strings.Compare(a.params.AccountNo, b.params.AccountNo) })
	// A freeze's error is not kept: one not applied goes the long way
	// (freezeDecided), which meets the error again or finds the number's
	// result behind it.
	groupcommit.RunEachOnError(group, func(g []*freezing) error { return s.applyFreezes(ctx, g) },
		func(f *freezing, _ error) { f.w.Done() })
}

// applyFreezes sends the group's statements in one batch. Its results count
// only once the batch's implicit transaction has committed: a statement that
// fails rolls back the ones before it too.
func (s *Sim) applyFreezes(ctx context.Context, group []*freezing) error {
	params := make([]simdb.FreezeApplyParams, len(group))
	for i, f := range group {
		params[i] = f.params
	}
	rows := make([]*simdb.Request, len(group))
	var err error
	c := &commitChecked{Batcher: s.pool}
	queries(c).FreezeApply(ctx, params).QueryRow(func(i int, row simdb.Request, rerr error) {
		switch rerr = db.NotFound(rerr); {
		case rerr == nil:
			rows[i] = &row
		case errors.Is(rerr, db.ErrNotFound): // refused: wrote nothing
		case err == nil:
			err = rerr
		}
	})
	if err == nil {
		err = c.err
	}
	if err != nil {
		return err
	}
	for i, f := range group {
		if rows[i] != nil {
			f.row, f.applied = *rows[i], true
		}
	}
	return nil
}

// commitChecked keeps the error of closing a batch's results, which sqlc's
// generated code drops: with the batch's statements in one implicit
// transaction, a commit that failed shows only there.
type commitChecked struct {
	db.Batcher
	err error
}

func (c *commitChecked) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return &closeKept{BatchResults: c.Batcher.SendBatch(ctx, b), err: &c.err}
}

type closeKept struct {
	pgx.BatchResults
	err *error
}

func (c *closeKept) Close() error {
	err := c.BatchResults.Close()
	if *c.err == nil {
		*c.err = err
	}
	return err
}
