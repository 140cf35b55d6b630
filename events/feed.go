package events

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
)

// numberBatch is how many events one numbering transaction takes.
const numberBatch = 5000

// MaxPage is the most events a page of the feed holds.
const MaxPage = 1000

// Number gives the events committed since the last numbering their ids in
// the feed, one transaction at a time across every process
// (docs/events.md "Ids a reader cannot skip"), and answers how many it
// numbered. Events still being written are not seen, and are numbered by a
// later call once committed: after every event already numbered.
func Number(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	total := 0
	for {
		n := 0
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			q := db.Queries(tx)
			last, err := q.EventFeedLock(ctx)
			if err != nil {
				return err
			}
			// A statement of its own: its snapshot is taken now, with the
			// lock held, and sees every event numbered before it.
			res, err := q.EventNumber(ctx, dbq.EventNumberParams{LastID: last, Lim: numberBatch})
			if err != nil || res.Numbered == 0 {
				return err
			}
			n = int(res.Numbered)
			if err := q.EventFeedHeadSet(ctx, res.LastID); err != nil {
				return err
			}
			return fanOut(ctx, q, last, res.LastID)
		})
		if err != nil {
			return total, err
		}
		total += n
		numbered.Add(float64(n))
		if n < numberBatch {
			return total, nil
		}
	}
}

// Feed is up to limit events after the id after, in id order: what
// GET /v1/ops/events answers. It numbers what has committed first, so a
// reader sees every event committed before it asked.
func Feed(ctx context.Context, pool *pgxpool.Pool, after int64, limit int) ([]Event, error) {
	if after < 0 {
		return nil, errs.Invalid("after", "an event id, 0 or more")
	}
	if limit < 1 || limit > MaxPage {
		return nil, errs.Invalid("limit", "from 1 to 1000")
	}
	if _, err := Number(ctx, pool); err != nil {
		return nil, err
	}
	rows, err := db.Queries(pool).EventListAfter(ctx, dbq.EventListAfterParams{After: after, Lim: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{ID: r.ID, Type: r.Type, At: r.At, BusinessDate: r.BusinessDate, Data: json.RawMessage(r.Data)}
		if r.LoanID != nil {
			out[i].LoanID = *r.LoanID
		}
		if r.UserID != nil {
			out[i].UserID = *r.UserID
		}
	}
	return out, nil
}
