package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
)

// TestConcurrentPostsConserveMoney runs 8 writers × 50 random movements over a
// few shared accounts. Request numbers are drawn from a pool smaller than the
// number of attempts, so the same movement is often posted by several writers
// at once; what a request number means is derived from the number alone, as a
// retried bank call's would be. At the end the books must be coherent and hold
// exactly what the accepted movements say.
func TestConcurrentPostsConserveMoney(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 4)
	ctx := context.Background()

	for i, u := range users {
		mustPost(t, pool, ledger.Recharge(fmt.Sprintf("seed-%d", i), u, d("500.00"), day))
	}
	accounts := []string{ledger.PlatformFee, ledger.PlatformBonus, ledger.PlatformRiskReserve}
	for _, u := range users {
		accounts = append(accounts, ledger.UserAvailable(u))
	}

	// movement is what request number n asks for: a transfer, a recharge or a
	// withdrawal with a fee, in amounts from 0.01 to 150.00.
	movement := func(n int) ledger.Entry {
		r := rand.New(rand.NewPCG(uint64(n), 42))
		amount := decimal.New(r.Int64N(15000)+1, -2)
		reqNo := fmt.Sprintf("req-%d", n)
		user := users[r.IntN(len(users))]
		switch k := r.IntN(10); {
		case k == 0:
			return ledger.Recharge(reqNo, user, amount, day)
		case k == 1:
			return ledger.Withdrawal(reqNo, user, amount, decimal.New(r.Int64N(300), -2), day)
		default:
			from := accounts[r.IntN(len(accounts))]
			to := accounts[r.IntN(len(accounts))]
			for to == from {
				to = accounts[r.IntN(len(accounts))]
			}
			return ledger.Transfer(reqNo, r.IntN(2), ledger.TypeBonus, from, to, amount, "", day)
		}
	}

	const writers, perWriter, distinct = 8, 50, 250
	var (
		mu       sync.Mutex
		accepted = map[string]ledger.Entry{}
		replays  int
		refused  int
	)
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range perWriter {
				e := movement(r.IntN(distinct))
				var isNew bool
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					var err error
					isNew, err = ledger.Post(ctx, tx, e)
					return err
				})
				mu.Lock()
				switch {
				case err == nil && isNew:
					k := fmt.Sprintf("%s/%d", e.RequestNo, e.Leg)
					if _, dup := accepted[k]; dup {
						errc <- fmt.Errorf("%s accepted twice", k)
					}
					accepted[k] = e
				case err == nil:
					replays++
				case errs.Code(err) == errs.InsufficientBalance:
					refused++
				default:
					// Deadlocks, serialization failures, a refused replay:
					// none is acceptable.
					errc <- fmt.Errorf("%s/%d: %w", e.RequestNo, e.Leg, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Logf("accepted %d, replays %d, refused for balance %d", len(accepted), replays, refused)
	assert.Positive(t, replays, "the test should exercise concurrent replays")

	require.NoError(t, ledger.CheckConservation(ctx, pool))

	// The books hold exactly the seed plus what was accepted.
	want := map[string]decimal.Decimal{ledger.ExternalCards: d("-2000.00")}
	for _, u := range users {
		want[ledger.UserAvailable(u)] = d("500.00")
	}
	for _, e := range accepted {
		for _, p := range e.Postings {
			want[p.Account] = want[p.Account].Add(p.Amount)
		}
	}
	custody := decimal.Zero
	for code, b := range want {
		requireDecimal(t, b.StringFixed(2), balance(t, pool, code), code)
		if code != ledger.ExternalCards {
			custody = custody.Add(b)
		}
	}
	requireDecimal(t, want[ledger.ExternalCards].Neg().StringFixed(2), custody)
	assert.Equal(t, len(accepted)+len(users), count(t, pool, `SELECT count(*) FROM journal_entries`))
}

func TestCheckConservationReportsEveryViolation(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 3)
	inv, borrower, other := users[0], users[1], users[2]
	ctx := context.Background()

	mustPost(t, pool, ledger.Recharge("rc-1", inv, d("1000.00"), day))
	mustPost(t, pool, ledger.Recharge("rc-2", other, d("10.00"), day))
	mustPost(t, pool, ledger.Freeze("fz-1", inv, d("100.00"), "bid:1", day))
	frozenBid(t, pool, borrower, inv, d("100.00"))
	require.NoError(t, ledger.CheckConservation(ctx, pool))

	// A bid the bank never froze.
	frozenBid(t, pool, borrower, other, d("50.00"))
	// Money from nowhere: an external posting outside a recharge/withdrawal.
	mustPost(t, pool, ledger.Transfer("gift-1", 0, ledger.TypeBonus, ledger.ExternalCards, ledger.PlatformBonus, d("7.00"), "", day))
	// Tampering that only the table owner can do, with the guards switched off.
	for _, stmt := range []string{
		`ALTER TABLE ledger_accounts DISABLE TRIGGER USER`,
		`UPDATE ledger_accounts SET balance = balance + 0.02 WHERE code = 'platform:bonus'`,
		`ALTER TABLE ledger_accounts ENABLE TRIGGER USER`,
		`ALTER TABLE postings DISABLE TRIGGER USER`,
		`UPDATE postings SET amount = amount + 1 WHERE id = (
			SELECT p.id FROM postings p JOIN journal_entries e ON e.id = p.entry_id
			JOIN ledger_accounts a ON a.id = p.account_id
			WHERE e.request_no = 'rc-2' AND a.code = '` + ledger.UserAvailable(other) + `')`,
		`ALTER TABLE postings ENABLE TRIGGER USER`,
	} {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}

	err := ledger.CheckConservation(ctx, pool)
	var ce *ledger.ConservationError
	require.ErrorAs(t, err, &ce)
	t.Log(err)
	joined := fmt.Sprint(ce.Violations)
	for _, want := range []string{
		fmt.Sprintf("user %d: frozen balance 0.00, frozen bids 50.00", other),
		"account platform:bonus: balance 7.02, but its postings sum to 7.00",
		fmt.Sprintf("account %s: balance 10.00, but its postings sum to 11.00", ledger.UserAvailable(other)),
		fmt.Sprintf("account %s, posting", ledger.UserAvailable(other)),
		"(rc-2 leg 0): 2 posting(s) summing to 1.00",
		"posting(s) on external:cards in entries that are not recharges",
		"money appeared or vanished",
	} {
		assert.Contains(t, joined, want)
	}
}
