// Package disclosure computes the platform's published operating figures
// (信息披露, docs/rules.md "Disclosure") and keeps their history: one snapshot per
// business date, which the console charts (overdue amounts by DPD bucket
// over time). GET /v1/stats and the snapshots use the same Compute, so the
// chart and the live figures cannot disagree on a rule.
package disclosure

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

// Buckets are the DPD buckets of the overdue figures, in order (lending.Bucket).
var Buckets = []string{
	lending.Bucket(1), lending.Bucket(lending.M2FromDPD), lending.Bucket(lending.M3FromDPD), lending.Bucket(lending.WriteOffAfterDPD + 1),
}

// M3Plus is the bucket past 90 days, published on its own as the M3+ amount.
var M3Plus = Buckets[3]

// Figures are the disclosure figures as of one business date.
type Figures struct {
	AsOf                 time.Time
	CumulativeVolume     decimal.Decimal // everything ever disbursed
	OutstandingPrincipal decimal.Decimal // unpaid principal of loans being repaid
	Borrowers, Investors int64
	// OverdueByBucket is the unpaid principal + interest of installments
	// past their due date, by each installment's days past due; every
	// bucket of Buckets is present.
	OverdueByBucket    map[string]decimal.Decimal
	WrittenOff         decimal.Decimal
	RiskReserveBalance decimal.Decimal
	// Debt transfer (docs/transfer.md "Books"): the claims sold on or before
	// the date, what their buyers paid (the transfer volume) and the fees
	// their sellers paid the platform.
	TransfersSold  int64
	TransferVolume decimal.Decimal
	TransferFees   decimal.Decimal
}

// Overdue is the overdue amount over every bucket.
func (f Figures) Overdue() decimal.Decimal {
	sum := decimal.Zero
	for _, b := range Buckets {
		sum = sum.Add(f.OverdueByBucket[b])
	}
	return sum
}

// Rate is amount ÷ the outstanding principal, to 4 places (half up), as
// the API publishes rates of the outstanding book; 0 with nothing outstanding.
func (f Figures) Rate(amount decimal.Decimal) decimal.Decimal {
	if f.OutstandingPrincipal.Sign() <= 0 {
		return decimal.Zero
	}
	return amount.DivRound(f.OutstandingPrincipal, 4)
}

func emptyBuckets() map[string]decimal.Decimal {
	m := make(map[string]decimal.Decimal, len(Buckets))
	for _, b := range Buckets {
		m[b] = decimal.Zero
	}
	return m
}

// Compute reads the figures as of today from the platform's records.
func Compute(ctx context.Context, q *dbq.Queries, today time.Time) (Figures, error) {
	f := Figures{AsOf: today, OverdueByBucket: emptyBuckets()}
	vol, err := q.StatsVolume(ctx)
	if err != nil {
		return f, err
	}
	f.CumulativeVolume, f.Borrowers, f.Investors = vol.CumulativeVolume, vol.Borrowers, vol.Investors
	if f.OutstandingPrincipal, err = q.StatsOutstanding(ctx); err != nil {
		return f, err
	}
	buckets, err := q.StatsOverdueBuckets(ctx, today)
	if err != nil {
		return f, err
	}
	for _, b := range buckets {
		if _, ok := f.OverdueByBucket[b.Bucket]; !ok {
			return f, fmt.Errorf("disclosure: unknown bucket %q", b.Bucket)
		}
		f.OverdueByBucket[b.Bucket] = b.Amount
	}
	if f.WrittenOff, err = q.StatsWrittenOff(ctx); err != nil {
		return f, err
	}
	if f.RiskReserveBalance, err = q.StatsAccountBalance(ctx, ledger.PlatformRiskReserve); err != nil {
		return f, err
	}
	tr, err := q.StatsTransfers(ctx, today)
	if err != nil {
		return f, err
	}
	f.TransfersSold, f.TransferVolume, f.TransferFees = tr.Sold, tr.Volume, tr.Fees
	return f, nil
}

// Record writes today's snapshot unless the date has one, and answers
// whether it wrote it. It waits for the day: while any loan still has an
// event due on or before today (the clock is handing the date out, or a
// loan has not reached its next wait) it records nothing, so a snapshot is
// the day's figures after its scheduled work — due dates debited, overdue
// installments marked. A date is written once (the table's key), so any
// number of workers may call Record, and a snapshot is never recomputed.
//
// A date the clock passes without the worker seeing it settle (a sandbox
// advance over many days) has no snapshot; the history has a gap there.
func Record(ctx context.Context, q *dbq.Queries, today time.Time) (bool, error) {
	have, err := q.DisclosureSnapshotList(ctx, dbq.DisclosureSnapshotListParams{FromDate: today, ToDate: today})
	if err != nil || len(have) > 0 {
		return false, err
	}
	due, err := q.LoanCountEventsDue(ctx, &today)
	if err != nil || due > 0 {
		return false, err
	}
	f, err := Compute(ctx, q, today)
	if err != nil {
		return false, err
	}
	n, err := q.DisclosureSnapshotInsert(ctx, dbq.DisclosureSnapshotInsertParams{
		BusinessDate: today, CumulativeVolume: f.CumulativeVolume, OutstandingPrincipal: f.OutstandingPrincipal,
		OverdueM1: f.OverdueByBucket[Buckets[0]], OverdueM2: f.OverdueByBucket[Buckets[1]],
		OverdueM3: f.OverdueByBucket[Buckets[2]], OverdueM3Plus: f.OverdueByBucket[Buckets[3]],
		WrittenOff: f.WrittenOff, RiskReserveBalance: f.RiskReserveBalance, Borrowers: f.Borrowers, Investors: f.Investors,
		TransfersSold: f.TransfersSold, TransferVolume: f.TransferVolume, TransferFees: f.TransferFees,
	})
	return n > 0, err
}

// History is the snapshots from one date to another, oldest first.
func History(ctx context.Context, q *dbq.Queries, from, to time.Time) ([]Figures, error) {
	rows, err := q.DisclosureSnapshotList(ctx, dbq.DisclosureSnapshotListParams{FromDate: from, ToDate: to})
	if err != nil {
		return nil, err
	}
	out := make([]Figures, 0, len(rows))
	for _, r := range rows {
		out = append(out, Figures{
			AsOf: r.BusinessDate, CumulativeVolume: r.CumulativeVolume, OutstandingPrincipal: r.OutstandingPrincipal,
			Borrowers: r.Borrowers, Investors: r.Investors, WrittenOff: r.WrittenOff, RiskReserveBalance: r.RiskReserveBalance,
			TransfersSold: r.TransfersSold, TransferVolume: r.TransferVolume, TransferFees: r.TransferFees,
			OverdueByBucket: map[string]decimal.Decimal{
				Buckets[0]: r.OverdueM1, Buckets[1]: r.OverdueM2, Buckets[2]: r.OverdueM3, Buckets[3]: r.OverdueM3Plus,
			},
		})
	}
	return out, nil
}
