package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/replica"
	"github.com/lendflow/lendflow/transfer"
	"github.com/lendflow/lendflow/workflows"
)

// sentCount is a notification gateway that counts what it was given.
type sentCount struct {
	mu   sync.Mutex
	sent map[int64]int
}

func (s *sentCount) Send(_ context.Context, o contact.Outgoing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[o.ID]++
	return nil
}

func (s *sentCount) counts() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]int{}
	for k, v := range s.sent {
		out[k] = v
	}
	return out
}

// Two workers run every background job of the worker at once against one
// database, round after round, as two worker replicas do: each unit of work
// is done once. Pending bids are frozen once at the bank and in the ledger,
// a recharge left unanswered is credited once, each notification goes out
// once, each business date is closed (reconciled) once and has one
// disclosure snapshot, and the housekeeping deletes each row once.
func TestTwoWorkersDoEachUnitOfWorkOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	ctx := e.Ctx
	tc := mocks.NewClient(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalListingFull, mock.Anything).Return(nil).Maybe()
	sender := &sentCount{sent: map[int64]int{}}
	worker := func(pool *pgxpool.Pool) ([]job, *bidding.Service, *clock.Clock) {
		clk := clock.New(pool, nil, nil, e.Log)
		bids := bidding.New(pool, e.Bank, workflows.Signals{Client: tc}, e.Log)
		return workerJobs(jobDeps{pool: pool, clock: clk, bids: bids, accounts: accounts.New(pool, e.Bank, e.Log), files: e.Bank,
			transfers: transfer.New(pool, workflows.Transfers{Client: tc}, clk.Date, e.Log),
			loans:     loans.New(loans.Deps{Pool: pool, Temporal: tc, Clock: clk, Log: e.Log}),
			sender:    sender, log: e.Log, sweepEvery: time.Second, sandbox: true}), bids, clk
	}
	pools := []*pgxpool.Pool{e.Pool, dbtest.Another(t, e.Pool)}
	locks := []*replica.Jobs{replica.NewJobs(pools[0]), replica.NewJobs(pools[1])}
	t.Cleanup(locks[0].Close)
	t.Cleanup(locks[1].Close)
	jobsA, bids, clk := worker(pools[0])
	jobsB, _, _ := worker(pools[1])
	require.NoError(t, clk.Init(ctx, clock.Sandbox, e.Today))
	require.Len(t, jobsB, len(jobsA))

	// The work, on 2026-01-31: four bids and a recharge the bank did not
	// answer, notices due, sessions expired.
	borrower := e.User(lending.RoleBorrower, "0")
	loan := e.ListedLoan(borrower, "10000.00", "C", "0.11", 6, false)
	var investors []dbq.User
	for range 4 {
		investors = append(investors, e.Investor("C3", "1000.00"))
	}
	topUp := e.User(lending.RoleInvestor, "0")
	e.Sim.SetFaults(sim.FaultConfig{ErrorBefore: 1})
	for _, inv := range investors {
		b, err := bids.Place(ctx, inv.ID, loan.ID, decimal.RequireFromString("500.00"), e.Today)
		require.NoError(t, err)
		require.Equal(t, lending.BidPending, b.Status)
	}
	rc, err := e.Accounts.Recharge(ctx, topUp.ID, decimal.RequireFromString("300.00"), e.Today)
	require.NoError(t, err)
	require.Equal(t, "processing", rc.Status, "left for the sweep")
	e.Sim.SetFaults(sim.FaultConfig{})
	for i := range 60 {
		require.NoError(t, e.Q.NotificationInsert(ctx, dbq.NotificationInsertParams{UserID: borrower.ID, Kind: string(lending.NoticeRepaymentReceived),
			BusinessDate: e.Today, At: lending.ContactAt(e.Today), Message: "paid", Dedupe: fmt.Sprintf("n-%d", i)}))
	}
	_, err = e.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at)
		SELECT 'expired-' || i, $1, now() - interval '1 minute' FROM generate_series(1, 7) i`, borrower.ID)
	require.NoError(t, err)
	_, err = e.Pool.Exec(ctx, `UPDATE loans SET next_event_on = NULL`) // no workflow here to tell
	require.NoError(t, err)

	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, e.Pool.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}
	// Every job of both workers at once, a round at a time, until done.
	rounds := func(done func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !done() {
			require.True(t, time.Now().Before(deadline), "the jobs never finished the work")
			var wg sync.WaitGroup
			for i := range jobsA {
				for w, jobs := range [][]job{jobsA, jobsB} {
					wg.Add(1)
					go func() { defer wg.Done(); runJob(ctx, locks[w], jobs[i], e.Log) }()
				}
			}
			wg.Wait()
		}
	}
	rounds(func() bool {
		return count(`SELECT count(*) FROM bids WHERE status = 'pending'`) == 0 &&
			count(`SELECT count(*) FROM recharges WHERE status = 'processing'`) == 0 &&
			count(`SELECT count(*) FROM notifications WHERE delivered_at IS NULL`) == 0 &&
			count(`SELECT count(*) FROM disclosure_snapshots`) == 1
	})
	// The next day: 2026-01-31 is closed.
	next := e.Today.AddDate(0, 0, 1)
	require.NoError(t, clk.Advance(ctx, next))
	require.NoError(t, e.Bank.SetClock(ctx, next))
	rounds(func() bool {
		return count(`SELECT count(*) FROM reconciliation_runs WHERE business_date = $1`, e.Today) > 0 &&
			count(`SELECT count(*) FROM disclosure_snapshots`) == 2
	})
	rounds(func() bool { return true }) // one more round of everything, with nothing left to do

	for _, inv := range investors {
		avail, frozen := e.Balance(*inv.CustodyAccountNo)
		assert.Equal(t, "500.00", avail, "investor %d", inv.ID)
		assert.Equal(t, "500.00", frozen, "investor %d: frozen once", inv.ID)
	}
	assert.Equal(t, 4, count(`SELECT count(*) FROM journal_entries WHERE request_no LIKE 'bid-%-freeze'`), "one freeze entry a bid")
	avail, _ := e.Balance(*topUp.CustodyAccountNo)
	assert.Equal(t, "300.00", avail, "the recharge credited once")
	sent := sender.counts()
	assert.Len(t, sent, count(`SELECT count(*) FROM notifications`), "every notice sent: the 60 above, and the recharges' own")
	assert.GreaterOrEqual(t, len(sent), 60)
	for id, n := range sent {
		assert.Equal(t, 1, n, "notification %d sent %d times", id, n)
	}
	assert.Equal(t, 1, count(`SELECT count(*) FROM reconciliation_runs WHERE business_date = $1 AND origin = 'close'`, e.Today), "the day closed once")
	assert.Equal(t, 1, count(`SELECT count(*) FROM reconciliation_runs WHERE business_date = $1 AND status = 'matched'`, e.Today))
	assert.Equal(t, 2, count(`SELECT count(*) FROM disclosure_snapshots`), "one snapshot a day")
	assert.Zero(t, count(`SELECT count(*) FROM sessions WHERE token_hash LIKE 'expired-%'`))
}
