package bidding

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/groupcommit"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// Freezes the bank has answered are booked in groups, as bids are admitted
// (batch.go): those that come back while one booking transaction runs share
// the next, one ledger.PostAll for their entries (their accounts locked at
// once, in code order, like every Post; the entries written by one
// statement) and one statement marking the bids frozen with their answers, so
// a bid's booking costs a share of one BEGIN, one account lock, two writes and
// one COMMIT instead of its own. Should the group's transaction fail, each
// booking is tried again in a transaction of its own, so one bad booking
// cannot fail the others.

type booking struct {
	orig  dbq.Bid
	entry ledger.Entry
	// The API's answer, stored under its request's Idempotency-Key (key ""
	// for none) by the statement that marks the bid frozen.
	keyOwner int64
	key      string
	code     int32
	answer   []byte

	bid  dbq.Bid
	loan dbq.BidSetFrozenManyRow
	err  error

	w groupcommit.Waiter
}

type bookings struct {
	mu sync.Mutex
	q  groupcommit.Queue[*booking]
}

// bookQueued books b in a group (groupcommit.Run).
func (s *Service) bookQueued(ctx context.Context, b *booking) {
	b.w = groupcommit.NewWaiter()
	// The group's work is done for every booking in it: a leader whose
	// client went away must not fail the others' bookings.
	ctx = context.WithoutCancel(ctx)
	groupcommit.Run(&s.books.mu, &s.books.q, b, func(b *booking) *groupcommit.Waiter { return &b.w },
		func(q *groupcommit.Queue[*booking]) []*booking { return groupcommit.TakeFirst(q, maxBatch) },
		func(group []*booking) { s.bookGroup(ctx, group) }, func() {})
}

func (s *Service) bookGroup(ctx context.Context, group []*booking) {
	bookGroupSize.Observe(float64(len(group)))
	groupcommit.RunEachOnError(group,
		func(g []*booking) error {
			return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return bookIn(ctx, tx, g) })
		},
		func(b *booking, err error) { b.err = err; b.w.Done() })
}

// bookIn posts the group's freezes and marks its bids frozen in tx.
func bookIn(ctx context.Context, tx pgx.Tx, group []*booking) error {
	entries := make([]ledger.Entry, len(group))
	params := dbq.BidSetFrozenManyParams{
		Ids:         make([]int64, len(group)),
		KeyOwners:   make([]int64, len(group)),
		Keys:        make([]string, len(group)),
		StatusCodes: make([]int32, len(group)),
		Responses:   make([][]byte, len(group)),
	}
	for i, b := range group {
		b.bid, b.loan = b.orig, dbq.BidSetFrozenManyRow{}
		entries[i] = b.entry
		params.Ids[i], params.KeyOwners[i], params.Keys[i], params.StatusCodes[i], params.Responses[i] =
			b.orig.ID, b.keyOwner, b.key, b.code, b.answer
	}
	if _, err := ledger.PostAll(ctx, tx, entries...); err != nil {
		return err
	}
	q := db.Queries(tx)
	rows, err := q.BidSetFrozenMany(ctx, params)
	if err != nil {
		return err
	}
	frozen := make(map[int64]dbq.BidSetFrozenManyRow, len(rows))
	for _, r := range rows {
		frozen[r.BidID] = r
	}
	for _, b := range group {
		if row, ok := frozen[b.orig.ID]; ok {
			b.bid.Status, b.loan = lending.BidFrozen, row
			continue
		}
		// The settlement sweep and the request finished the same freeze.
		if b.bid, err = q.BidGet(ctx, b.orig.ID); err != nil {
			return err
		}
		l, err := q.LoanGet(ctx, b.bid.LoanID)
		if err != nil {
			return err
		}
		b.loan = dbq.BidSetFrozenManyRow{BidID: b.bid.ID, ID: l.ID, WorkflowID: l.WorkflowID, Status: l.Status, Amount: l.Amount, Raised: l.Raised}
	}
	return nil
}
