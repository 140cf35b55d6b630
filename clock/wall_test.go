package clock

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

// counted stands for Temporal: it counts each advance-clock update by loan
// and date, and each loan answers that it has nothing dated left.
type counted struct {
	client.Client
	mu   sync.Mutex
	told map[string]int
}

func (u *counted) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.told[o.WorkflowID+" "+o.UpdateID]++
	return answered{}, nil
}

func (u *counted) times() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string]int{}
	for k, v := range u.told {
		out[k] = v
	}
	return out
}

// race runs TurnWall on every clock at once and answers how many turned.
func race(t *testing.T, clocks []*Clock, now time.Time) int {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	turned := 0
	for _, c := range clocks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := c.TurnWall(context.Background(), now)
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				turned++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return turned
}

// dueLoans makes loans in pool, each with its first dated step on due (a
// new loan's is its application date), and answers its workflow id.
func dueLoans(t *testing.T, pool *pgxpool.Pool) func(i int, due time.Time) string {
	ctx := context.Background()
	q := db.Queries(pool)
	b, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "b@test", PasswordHash: "x", Role: lending.RoleBorrower, Name: "b", IDNumber: "x", Phone: "x"}))
	require.NoError(t, err)
	return func(i int, due time.Time) string {
		l, err := q.LoanInsert(ctx, dbq.LoanInsertParams{BorrowerID: b.ID, Amount: decimal.NewFromInt(1000), TermMonths: 3,
			RepaymentMethod: "bullet", Purpose: "x", MonthlyIncome: decimal.NewFromInt(1), WorkflowID: fmt.Sprintf("loan-%d", i), AppliedOn: due})
		require.NoError(t, err)
		return l.WorkflowID
	}
}

// Two workers, each with its wall clock, race to turn the day at midnight
// on one database: the day turns once, and every loan due hears the date
// once. A day one of them left half turned (it died telling the loans) is
// finished by the other, telling only the loans still due.
func TestWallDayTurnsOnceWithTwoWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	u := &counted{told: map[string]int{}}
	workers := []*Clock{New(pool, u, nil, log), New(dbtest.Another(t, pool), u, nil, log)}
	require.NoError(t, workers[0].Init(ctx, Wall, time.Time{}))
	require.NoError(t, workers[1].Init(ctx, Wall, time.Time{}))
	today, _, err := workers[0].Today(ctx)
	require.NoError(t, err)

	q := db.Queries(pool)
	loan := dueLoans(t, pool)
	day1, day2 := today.AddDate(0, 0, 1), today.AddDate(0, 0, 2)
	want := map[string]int{}
	for i := range 20 {
		due := day1
		if i%2 == 1 {
			due = day2
		}
		want[loan(i, due)+" clock-"+due.Format(time.DateOnly)] = 1
	}

	midnight := func(d time.Time) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 1, 0, lending.Shanghai)
	}
	assert.Equal(t, 1, race(t, workers, midnight(day1)), "day 1 turns once")
	assert.Equal(t, 1, race(t, workers, midnight(day2)), "day 2 turns once")
	assert.Equal(t, 0, race(t, workers, midnight(day2).Add(30*time.Second)), "nothing left to turn")

	// A worker died telling day 3's loans: the date is set, three loans of
	// the day are still due.
	day3 := today.AddDate(0, 0, 3)
	for i := 20; i < 23; i++ {
		want[loan(i, day3)+" clock-"+day3.Format(time.DateOnly)] = 1
	}
	_, err = pool.Exec(ctx, `UPDATE platform_clock SET today = $1`, day3)
	require.NoError(t, err)
	assert.Equal(t, 1, race(t, workers, midnight(day3).Add(time.Hour)), "the half-turned day is finished once")

	assert.Equal(t, want, u.times(), "each loan told each of its dates once")
	now, _, err := workers[1].Today(ctx)
	require.NoError(t, err)
	assert.Equal(t, day3, now)
	var due int64
	due, err = q.LoanCountEventsDue(ctx, &day3)
	require.NoError(t, err)
	assert.Zero(t, due)
}

// Two API replicas in sandbox mode advance at once (two ops, two consoles):
// the advances are serialized across them, the second finds the first's
// work done, and every loan hears each of its dates once.
func TestTwoAdvancesAtOnceTellEachLoanOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	u := &counted{told: map[string]int{}}
	start := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	replicas := []*Clock{New(pool, u, nil, log), New(dbtest.Another(t, pool), u, nil, log)}
	require.NoError(t, replicas[0].Init(ctx, Sandbox, start))
	loan := dueLoans(t, pool)
	want := map[string]int{}
	for i := range 30 {
		due := start.AddDate(0, 0, 1+i%5)
		want[loan(i, due)+" clock-"+due.Format(time.DateOnly)] = 1
	}
	to := start.AddDate(0, 0, 6)
	var wg sync.WaitGroup
	for _, c := range replicas {
		wg.Add(1)
		go func() { defer wg.Done(); assert.NoError(t, c.Advance(ctx, to)) }()
	}
	wg.Wait()
	assert.Equal(t, want, u.times())
	today, _, err := replicas[1].Today(ctx)
	require.NoError(t, err)
	assert.Equal(t, to, today)
}
