package ledger_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
)

// postAll posts entries in a transaction of its own, committing only on success.
func postAll(tb testing.TB, pool *pgxpool.Pool, entries ...ledger.Entry) (int, error) {
	tb.Helper()
	ctx := context.Background()
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		n, err = ledger.PostAll(ctx, tx, entries...)
		return err
	})
	return n, err
}

// pay is a bonus-typed transfer of amount from a user's available balance to
// platform:fee: a debit the balance must cover, and no frozen money, so
// CheckConservation needs no bids.
func pay(reqNo string, user int64, amount string) ledger.Entry {
	return ledger.Transfer(reqNo, 0, ledger.TypeBonus, ledger.UserAvailable(user), ledger.PlatformFee, d(amount), "", day)
}

// recharged makes n users holding 100.00 each, recharged under rc-0, rc-1…
func recharged(tb testing.TB, pool *pgxpool.Pool, n int) []int64 {
	tb.Helper()
	users := newUsers(tb, pool, n)
	for i, u := range users {
		mustPost(tb, pool, ledger.Recharge(fmt.Sprintf("rc-%d", i), u, d("100.00"), day))
	}
	return users
}

// Not parallel: it counts postings (TestPostCountsThePostingsItWrites).
func TestPostAllChecksTheKeysRecordedAlready(t *testing.T) {
	pool := dbtest.New(t)
	users := recharged(t, pool, 3)
	mustPost(t, pool, pay("pay-1", users[1], "10.00"))
	group := func(amount string) []ledger.Entry {
		return []ledger.Entry{pay("pay-0", users[0], "10.00"), pay("pay-1", users[1], amount), pay("pay-2", users[2], "10.00")}
	}

	// Other money under a recorded key: refused, and the group's transaction
	// rolled back, so none of it holds.
	_, err := postAll(t, pool, group("20.00")...)
	assert.Equal(t, errs.Conflict, errs.Code(err), "%v", err)
	requireDecimal(t, "100.00", balance(t, pool, ledger.UserAvailable(users[0])))
	requireDecimal(t, "90.00", balance(t, pool, ledger.UserAvailable(users[1])))
	requireDecimal(t, "100.00", balance(t, pool, ledger.UserAvailable(users[2])))
	assert.Equal(t, 4, count(t, pool, `SELECT count(*) FROM journal_entries`))

	// The same money: the recorded entry is not posted again, the others are.
	before := postingsCounted(t, ledger.TypeBonus)
	n, err := postAll(t, pool, group("10.00")...)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the recorded key is not new")
	assert.Equal(t, before+4, postingsCounted(t, ledger.TypeBonus), "only the new entries' postings")
	for _, u := range users {
		requireDecimal(t, "90.00", balance(t, pool, ledger.UserAvailable(u)), "paid once each")
	}
	requireDecimal(t, "30.00", balance(t, pool, ledger.PlatformFee))
	assert.Equal(t, 6, count(t, pool, `SELECT count(*) FROM journal_entries`))
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
}

func TestPostAllMovesOneAccountInEntryOrder(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := recharged(t, pool, 2)
	user, other := users[0], users[1]

	// The user's available balance is paid from three times, once twice in
	// one entry (amount and fee), with another user's entry in between.
	n, err := postAll(t, pool,
		pay("pay-1", user, "30.00"),
		pay("pay-2", other, "5.00"),
		ledger.Withdrawal("wd-1", user, d("50.00"), d("3.00"), day),
		pay("pay-3", user, "17.00"))
	require.NoError(t, err)
	assert.Equal(t, 4, n)

	rows, err := pool.Query(context.Background(), `
		SELECT e.request_no, p.balance_after::text FROM postings p
		JOIN journal_entries e ON e.id = p.entry_id JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.code = $1 ORDER BY p.entry_id, p.id`, ledger.UserAvailable(user))
	require.NoError(t, err)
	history, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var reqNo, after string
		err := r.Scan(&reqNo, &after)
		return reqNo + " " + after, err
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"rc-0 100.00", "pay-1 70.00", "wd-1 20.00", "wd-1 17.00", "pay-3 0.00"}, history)
	requireDecimal(t, "95.00", balance(t, pool, ledger.UserAvailable(other)))
	requireDecimal(t, "55.00", balance(t, pool, ledger.PlatformFee))
	require.NoError(t, ledger.CheckConservation(context.Background(), pool), "running balances follow (entry, posting) order")
}

func TestPostAllWithAnOverdraftPostsOneAtATime(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := append(recharged(t, pool, 2), newUsers(t, pool, 1)...)
	ctx := context.Background()

	// The entry that would overdraw is refused before it is written, as Post
	// refuses it, and the transaction can go on.
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n, err := ledger.PostAll(ctx, tx, pay("pay-0", users[0], "60.00"), pay("pay-1", users[1], "100.01"), pay("pay-2", users[0], "30.00"))
		require.Equal(t, errs.InsufficientBalance, errs.Code(err), "%v", err)
		assert.Equal(t, 1, n, "the entry before it is written")
		_, err = ledger.Post(ctx, tx, pay("pay-3", users[1], "100.00"))
		return err
	}))
	requireDecimal(t, "40.00", balance(t, pool, ledger.UserAvailable(users[0])))
	requireDecimal(t, "0.00", balance(t, pool, ledger.UserAvailable(users[1])))

	// A replayed credit moves nothing, so the debit after it in the group is
	// judged without it: refused cleanly, not by the database's check (which
	// would abort the transaction).
	mustPost(t, pool, ledger.Recharge("rc-9", users[2], d("100.00"), day))
	mustPost(t, pool, ledger.Withdrawal("wd-9", users[2], d("97.00"), d("3.00"), day))
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n, err := ledger.PostAll(ctx, tx, ledger.Recharge("rc-9", users[2], d("100.00"), day), pay("pay-9", users[2], "100.00"))
		require.Equal(t, errs.InsufficientBalance, errs.Code(err), "%v", err)
		assert.Equal(t, 0, n)
		_, err = ledger.Post(ctx, tx, ledger.Recharge("rc-10", users[2], d("1.00"), day))
		return err
	}))
	requireDecimal(t, "1.00", balance(t, pool, ledger.UserAvailable(users[2])))

	// A credit the group itself makes may be spent by a later entry of it.
	n, err := postAll(t, pool, ledger.Recharge("rc-11", users[2], d("50.00"), day), pay("pay-11", users[2], "51.00"))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	requireDecimal(t, "0.00", balance(t, pool, ledger.UserAvailable(users[2])))
	require.NoError(t, ledger.CheckConservation(ctx, pool))
}
