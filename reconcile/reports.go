package reconcile

import (
	"context"
	"time"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Reports are the reconciliation ops read (GET /v1/ops/reconciliation, the
// console's page): one business date compared on demand, and the days the
// daily close found mismatched or matched.
type Reports struct {
	q    *dbq.Queries
	bank Source
}

// NewReports reads the ledger in d (a pool) and the bank's files from bank.
func NewReports(d db.DBTX, bank Source) *Reports {
	return &Reports{q: db.Queries(d), bank: bank}
}

// Day compares date's file with the ledger as of the platform's business
// date (Run) and answers the business date with it.
func (r *Reports) Day(ctx context.Context, date time.Time) (Report, time.Time, error) {
	c, err := r.q.ClockGet(ctx)
	if err != nil {
		return Report{}, time.Time{}, err
	}
	rep, err := Run(ctx, r.q, r.bank, date, c.Today)
	return rep, c.Today, err
}

// Closed is ListClosed.
func (r *Reports) Closed(ctx context.Context, status string, before *time.Time, limit int) ([]ClosedDay, error) {
	return ListClosed(ctx, r.q, status, before, limit)
}
