package ledger_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/ledger"
)

// Every entry Post writes is an event of the feed, ledger.<type>, written by
// the same statement: one per entry, in the order posted, with its loan, its
// one user and every posting; a replay, or an entry whose transaction rolls
// back, writes none.
func TestEveryEntryIsAnEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	u := newUsers(t, pool, 3)
	mustPost(t, pool, ledger.Recharge("rc-1", u[0], d("500.00"), day))
	_, err := post(t, pool, ledger.Recharge("rc-1", u[0], d("500.00"), day))
	require.NoError(t, err, "a replay")
	freeze := ledger.Freeze("bid-9-freeze", u[0], d("300.00"), "bid:9", day)
	freeze.LoanID = 7
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.PostAll(ctx, tx, freeze, ledger.Recharge("rc-2", u[1], d("100.00"), day))
		return err
	}))
	rolledBack, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = ledger.Post(ctx, rolledBack, ledger.Recharge("rc-3", u[2], d("1.00"), day))
	require.NoError(t, err)
	require.NoError(t, rolledBack.Rollback(ctx))
	batch := ledger.Entry{RequestNo: "loan-7-repay-1", Type: ledger.TypeRepayment, Ref: "loan:7", BusinessDate: day, Postings: []ledger.Posting{
		{Account: ledger.UserAvailable(u[1]), Amount: d("-100.00"), Counterpart: "claim holders"},
		{Account: ledger.UserAvailable(u[0]), Amount: d("60.00"), Counterpart: "user:2"},
		{Account: ledger.UserAvailable(u[2]), Amount: d("40.00"), Counterpart: "user:2"},
	}}
	mustPost(t, pool, batch)

	feed, err := events.Feed(ctx, pool, 0, 100)
	require.NoError(t, err)
	type row struct {
		id             int64
		typ            string
		loan, user     int64
		amount, reqNo  string
		postings       int
		firstAccount   string
		firstPostingAt string
	}
	var got []row
	for _, e := range feed {
		var data ledger.EntryData
		require.NoError(t, json.Unmarshal(e.Data, &data))
		assert.Equal(t, day, e.BusinessDate)
		got = append(got, row{e.ID, e.Type, e.LoanID, e.UserID, data.Amount, data.RequestNo, len(data.Postings),
			data.Postings[0].Account, data.Postings[0].Amount})
	}
	assert.Equal(t, []row{
		{1, "ledger.recharge", 0, u[0], "500.00", "rc-1", 2, "external:cards", "-500.00"},
		{2, "ledger.freeze", 7, u[0], "300.00", "bid-9-freeze", 2, ledger.UserAvailable(u[0]), "-300.00"},
		{3, "ledger.recharge", 0, u[1], "100.00", "rc-2", 2, "external:cards", "-100.00"},
		{4, "ledger.repayment", 7, 0, "100.00", "loan-7-repay-1", 3, ledger.UserAvailable(u[1]), "-100.00"},
	}, got)
	var data ledger.EntryData
	require.NoError(t, json.Unmarshal(feed[3].Data, &data))
	assert.Equal(t, []ledger.PostingEvent{
		{Account: ledger.UserAvailable(u[1]), UserID: u[1], Amount: "-100.00", Counterpart: "claim holders"},
		{Account: ledger.UserAvailable(u[0]), UserID: u[0], Amount: "60.00", Counterpart: "user:2"},
		{Account: ledger.UserAvailable(u[2]), UserID: u[2], Amount: "40.00", Counterpart: "user:2"},
	}, data.Postings, "the repayment by holder")
}
