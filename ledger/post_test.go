package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
)

func TestBuildersBalance(t *testing.T) {
	t.Parallel()
	entries := map[string]ledger.Entry{
		"recharge":        ledger.Recharge("r", 1, d("10.00"), day),
		"withdrawal":      ledger.Withdrawal("w", 1, d("10.00"), d("3.00"), day),
		"free withdrawal": ledger.Withdrawal("w", 1, d("10.00"), d("0"), day),
		"reversal":        ledger.WithdrawalReversal("v", 1, d("10.00"), d("0.00"), "w", day),
		"freeze":          ledger.Freeze("f", 1, d("10.00"), "bid:1", day),
		"unfreeze":        ledger.Unfreeze("u", 1, d("10.00"), "bid:1", day),
		"transfer":        ledger.Transfer("t", 3, ledger.TypeBonus, ledger.PlatformBonus, ledger.UserAvailable(1), d("10.00"), "", day),
	}
	for name, e := range entries {
		total := d("0")
		for _, p := range e.Postings {
			total = total.Add(p.Amount)
			assert.NotEmpty(t, p.Counterpart, name)
		}
		assert.True(t, total.IsZero(), name)
	}
	assert.Len(t, entries["withdrawal"].Postings, 4)
	assert.Len(t, entries["free withdrawal"].Postings, 2, "a zero fee adds no zero postings")
	assert.Equal(t, 3, entries["transfer"].Leg)
	assert.Equal(t, "user:7:available", ledger.UserAvailable(7))
	assert.Equal(t, "user:7:frozen", ledger.UserFrozen(7))
}

func TestPostMovesBalancesToTheCent(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 3)
	inv, other, borrower := users[0], users[1], users[2]

	mustPost(t, pool, ledger.Recharge("rc-1", inv, d("1000.01"), day))
	mustPost(t, pool, ledger.Withdrawal("wd-1", inv, d("100.10"), d("3.00"), day))
	mustPost(t, pool, ledger.Freeze("fz-1", inv, d("200.55"), "bid:1", day))
	mustPost(t, pool, ledger.Unfreeze("uf-1", inv, d("50.25"), "bid:1", day))
	mustPost(t, pool, ledger.Transfer("tr-1", 0, ledger.TypeBonus, ledger.UserAvailable(inv), ledger.UserAvailable(other), d("0.01"), "", day))
	mustPost(t, pool, ledger.WithdrawalReversal("rv-1", inv, d("100.10"), d("3.00"), "wd-1", day))

	// 1000.01 − 100.10 − 3.00 − 200.55 + 50.25 − 0.01 + 100.10 + 3.00
	requireDecimal(t, "849.70", balance(t, pool, ledger.UserAvailable(inv)))
	requireDecimal(t, "150.30", balance(t, pool, ledger.UserFrozen(inv)))
	requireDecimal(t, "0.01", balance(t, pool, ledger.UserAvailable(other)))
	requireDecimal(t, "0.00", balance(t, pool, ledger.PlatformFee), "the reversal returned the fee")
	requireDecimal(t, "-1000.01", balance(t, pool, ledger.ExternalCards))

	var userID *int64
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT user_id FROM ledger_accounts WHERE code = $1`, ledger.UserFrozen(inv)).Scan(&userID))
	require.NotNil(t, userID)
	assert.Equal(t, inv, *userID)

	// The frozen money is a bid the business knows of.
	frozenBid(t, pool, borrower, inv, d("150.30"))
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
}

func TestPostReplayIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	user := newUsers(t, pool, 1)[0]

	mustPost(t, pool, ledger.Recharge("rc-1", user, d("100.00"), day))
	w := ledger.Withdrawal("wd-1", user, d("97.00"), d("3.00"), day)
	mustPost(t, pool, w)

	// The balance is now 0: a replay must still be recognised as one, not
	// judged as a new withdrawal the balance cannot cover.
	for range 3 {
		isNew, err := post(t, pool, w)
		require.NoError(t, err)
		assert.False(t, isNew)
	}
	// Counterpart labels are not money: a retry that labels differently is still a replay.
	relabelled := ledger.Recharge("rc-1", user, d("100.00"), day)
	relabelled.Postings[1].Counterpart = "card ****1234"
	isNew, err := post(t, pool, relabelled)
	require.NoError(t, err)
	assert.False(t, isNew)

	requireDecimal(t, "0.00", balance(t, pool, ledger.UserAvailable(user)))
	requireDecimal(t, "3.00", balance(t, pool, ledger.PlatformFee))
	assert.Equal(t, 2, count(t, pool, `SELECT count(*) FROM journal_entries`))
	assert.Equal(t, 6, count(t, pool, `SELECT count(*) FROM postings`))

	// PostAll counts only the new ones.
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n, err := ledger.PostAll(ctx, tx, w, ledger.Recharge("rc-2", user, d("5.00"), day))
		assert.Equal(t, 1, n)
		return err
	}))
	require.NoError(t, ledger.CheckConservation(ctx, pool))
}

func TestPostRefusesReusedRequestNo(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 2)
	mustPost(t, pool, ledger.Recharge("rc-1", users[0], d("100.00"), day))

	reuses := map[string]ledger.Entry{
		"other amount":  ledger.Recharge("rc-1", users[0], d("100.01"), day),
		"other user":    ledger.Recharge("rc-1", users[1], d("100.00"), day),
		"other type":    ledger.Transfer("rc-1", 0, ledger.TypeBonus, ledger.ExternalCards, ledger.UserAvailable(users[0]), d("100.00"), "", day),
		"more postings": ledger.Withdrawal("rc-1", users[0], d("1.00"), d("3.00"), day),
	}
	for name, e := range reuses {
		_, err := post(t, pool, e)
		require.Error(t, err, name)
		assert.Equal(t, errs.Conflict, errs.Code(err), "%s: %v", name, err)
	}
	// Another leg of the same request is a different movement.
	mustPost(t, pool, ledger.Transfer("rc-1", 1, ledger.TypeBonus, ledger.UserAvailable(users[0]), ledger.UserAvailable(users[1]), d("1.00"), "", day))

	requireDecimal(t, "99.00", balance(t, pool, ledger.UserAvailable(users[0])))
	requireDecimal(t, "1.00", balance(t, pool, ledger.UserAvailable(users[1])))
}

func TestPostRefusesMalformedEntries(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	user := newUsers(t, pool, 1)[0]
	mustPost(t, pool, ledger.Recharge("rc-1", user, d("100.00"), day))
	avail := ledger.UserAvailable(user)

	good := func() ledger.Entry { return ledger.Recharge("bad", user, d("1.00"), day) }
	cases := map[string]func(e *ledger.Entry){
		"unbalanced":          func(e *ledger.Entry) { e.Postings[1].Amount = d("1.01") },
		"zero posting":        func(e *ledger.Entry) { e.Postings = append(e.Postings, ledger.Posting{Account: ledger.PlatformFee}) },
		"three decimals":      func(e *ledger.Entry) { e.Postings[0].Amount = d("-1.005"); e.Postings[1].Amount = d("1.005") },
		"unknown account":     func(e *ledger.Entry) { e.Postings[1].Account = "platform:cash" },
		"non-canonical user":  func(e *ledger.Entry) { e.Postings[1].Account = "user:0" + avail[len("user:"):] },
		"user zero":           func(e *ledger.Entry) { e.Postings[1].Account = ledger.UserAvailable(0) },
		"one posting":         func(e *ledger.Entry) { e.Postings = e.Postings[:1] },
		"no request number":   func(e *ledger.Entry) { e.RequestNo = "" },
		"no type":             func(e *ledger.Entry) { e.Type = "" },
		"no business date":    func(e *ledger.Entry) { e.BusinessDate = time.Time{} },
		"negative leg":        func(e *ledger.Entry) { e.Leg = -1 },
		"unbalanced two legs": func(e *ledger.Entry) { e.Postings[0].Amount = d("-2.00") },
	}
	for name, mutate := range cases {
		e := good()
		mutate(&e)
		isNew, err := post(t, pool, e)
		assert.False(t, isNew, name)
		assert.Equal(t, errs.ValidationFailed, errs.Code(err), "%s: %v", name, err)
	}

	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.PostAll(ctx, tx, good(), good())
		return err
	})
	assert.Equal(t, errs.ValidationFailed, errs.Code(err), "one key twice in one PostAll: %v", err)

	_, err = post(t, pool, ledger.Recharge("ghost", user+1000, d("1.00"), day))
	assert.ErrorContains(t, err, "names a user that does not exist")

	requireDecimal(t, "100.00", balance(t, pool, avail))
	assert.Equal(t, 1, count(t, pool, `SELECT count(*) FROM journal_entries`))
}

func TestPostRefusesOverdraft(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	users := newUsers(t, pool, 2)
	user, other := users[0], users[1]
	mustPost(t, pool, ledger.Recharge("rc-1", user, d("100.00"), day))

	// docs/rules.md "Withdrawal fee": the balance must cover amount and fee.
	_, err := post(t, pool, ledger.Withdrawal("wd-1", user, d("98.00"), d("3.00"), day))
	assert.Equal(t, errs.InsufficientBalance, errs.Code(err), "%v", err)
	_, err = post(t, pool, ledger.Freeze("fz-1", user, d("100.01"), "bid:1", day))
	assert.Equal(t, errs.InsufficientBalance, errs.Code(err), "%v", err)
	_, err = post(t, pool, ledger.Unfreeze("uf-1", user, d("0.01"), "bid:1", day))
	assert.Equal(t, errs.InsufficientBalance, errs.Code(err), "frozen cannot go negative: %v", err)

	// Balances move in posting order: paying first and being paid later in the
	// same entry is still an overdraft in between.
	payThenReceive := ledger.Entry{RequestNo: "mix-1", Type: ledger.TypeBonus, BusinessDate: day, Postings: []ledger.Posting{
		{Account: ledger.UserAvailable(other), Amount: d("-5.00")},
		{Account: ledger.UserAvailable(user), Amount: d("5.00")},
		{Account: ledger.UserAvailable(user), Amount: d("-5.00")},
		{Account: ledger.UserAvailable(other), Amount: d("5.00")},
	}}
	_, err = post(t, pool, payThenReceive)
	assert.Equal(t, errs.InsufficientBalance, errs.Code(err), "%v", err)

	// The refusal happens before anything is written, so the transaction can go on.
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.Post(ctx, tx, ledger.Withdrawal("wd-2", user, d("98.00"), d("3.00"), day))
		require.Equal(t, errs.InsufficientBalance, errs.Code(err))
		_, err = ledger.Post(ctx, tx, ledger.Withdrawal("wd-3", user, d("97.00"), d("3.00"), day))
		return err
	}))
	requireDecimal(t, "0.00", balance(t, pool, ledger.UserAvailable(user)))
	assert.Equal(t, 2, count(t, pool, `SELECT count(*) FROM journal_entries`))

	// The database refuses an overdraft that bypasses Go.
	_, err = pool.Exec(ctx, `
		WITH e AS (INSERT INTO journal_entries (request_no, type, business_date) VALUES ('raw-1', 'bonus', $1) RETURNING id)
		INSERT INTO postings (entry_id, account_id, amount, balance_after)
		SELECT e.id, a.id, x.amount, 0
		FROM e, (VALUES ($2, -1.00), ('platform:fee', 1.00)) AS x (code, amount)
		JOIN ledger_accounts a ON a.code = x.code`, day, ledger.UserAvailable(user))
	requirePgCode(t, err, "23514")
	require.NoError(t, ledger.CheckConservation(ctx, pool))
}

func TestDatabaseRefusesUnbalancedEntry(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	user := newUsers(t, pool, 1)[0]
	mustPost(t, pool, ledger.Recharge("rc-1", user, d("100.00"), day))
	ctx := context.Background()

	// Raw SQL, bypassing Post: one leg of a transfer only. Each statement
	// succeeds; the deferred trigger refuses at commit.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	var entryID int64
	require.NoError(t, tx.QueryRow(ctx,
		`INSERT INTO journal_entries (request_no, type, business_date) VALUES ('raw-1', 'bonus', $1) RETURNING id`, day).Scan(&entryID))
	_, err = tx.Exec(ctx, `
		INSERT INTO postings (entry_id, account_id, amount, balance_after)
		SELECT $1, id, 10.00, 0 FROM ledger_accounts WHERE code = $2`, entryID, ledger.UserAvailable(user))
	require.NoError(t, err)
	requirePgCode(t, tx.Commit(ctx), "23514")

	// An entry with no postings at all is refused too.
	tx, err = pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO journal_entries (request_no, type, business_date) VALUES ('raw-2', 'bonus', $1)`, day)
	require.NoError(t, err)
	requirePgCode(t, tx.Commit(ctx), "23514")

	// Nor can a committed entry be changed by a posting added later.
	tx, err = pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `
		INSERT INTO postings (entry_id, account_id, amount, balance_after)
		SELECT e.id, a.id, 10.00, 0 FROM journal_entries e, ledger_accounts a
		WHERE e.request_no = 'rc-1' AND a.code = $1`, ledger.UserAvailable(user))
	require.NoError(t, err)
	requirePgCode(t, tx.Commit(ctx), "23514")

	// balance_after is the database's to compute; a wrong one sent is overwritten.
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			WITH e AS (INSERT INTO journal_entries (request_no, type, business_date) VALUES ('raw-3', 'withdrawal', $1) RETURNING id)
			INSERT INTO postings (entry_id, account_id, amount, balance_after)
			SELECT e.id, a.id, x.amount, 999999
			FROM e, (VALUES ($2, -1.00), ('external:cards', 1.00)) AS x (code, amount)
			JOIN ledger_accounts a ON a.code = x.code`, day, ledger.UserAvailable(user))
		return err
	}))
	requireDecimal(t, "99.00", balance(t, pool, ledger.UserAvailable(user)))
	assert.Equal(t, 0, count(t, pool, `SELECT count(*) FROM postings WHERE balance_after = 999999`))

	// A balance moves only through postings, and an account opens empty.
	_, err = pool.Exec(ctx, `UPDATE ledger_accounts SET balance = balance + 1 WHERE code = $1`, ledger.UserAvailable(user))
	requirePgCode(t, err, "23514")
	_, err = pool.Exec(ctx, `INSERT INTO ledger_accounts (code, balance) VALUES ('platform:bonus', 5)`)
	requirePgCode(t, err, "23514")

	requireDecimal(t, "99.00", balance(t, pool, ledger.UserAvailable(user)))
	require.NoError(t, ledger.CheckConservation(ctx, pool))
}

func TestPostingsAreAppendOnly(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	user := newUsers(t, pool, 1)[0]
	mustPost(t, pool, ledger.Recharge("rc-1", user, d("100.00"), day))
	ctx := context.Background()

	for _, stmt := range []string{
		`UPDATE postings SET amount = amount * 2`,
		`UPDATE postings SET counterpart = 'someone else'`,
		`DELETE FROM postings`,
		`TRUNCATE postings CASCADE`,
		`UPDATE journal_entries SET request_no = 'rc-2'`,
		`DELETE FROM journal_entries`,
		`UPDATE ledger_accounts SET code = 'platform:bonus' WHERE code = 'platform:fee' OR user_id IS NULL`,
	} {
		_, err := pool.Exec(ctx, stmt)
		requirePgCode(t, err, "23514", stmt)
	}
	assert.Equal(t, 2, count(t, pool, `SELECT count(*) FROM postings`))
	requireDecimal(t, "100.00", balance(t, pool, ledger.UserAvailable(user)))
}

func requirePgCode(tb testing.TB, err error, code string, msgAndArgs ...any) {
	tb.Helper()
	var pgErr *pgconn.PgError
	require.True(tb, errors.As(err, &pgErr), "want PostgreSQL error %s, got %v %v", code, err, msgAndArgs)
	require.Equal(tb, code, pgErr.Code, "%s %v", pgErr.Message, msgAndArgs)
}
