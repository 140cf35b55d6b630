package activities_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// told lists user id, kind, amount of every notice of the kinds asked, by id.
func told(t *testing.T, e *testenv.Env, kinds ...lending.NoticeKind) [][3]string {
	t.Helper()
	rows, err := e.Pool.Query(e.Ctx, `SELECT user_id::text, kind, COALESCE(amount::text, '') FROM notifications
		WHERE kind = ANY($1) ORDER BY id`, lending.Strings(kinds...))
	require.NoError(t, err)
	defer rows.Close()
	var out [][3]string
	for rows.Next() {
		var r [3]string
		require.NoError(t, rows.Scan(&r[0], &r[1], &r[2]))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func id(u int64) string { return decimal.NewFromInt(u).String() }

// A disbursement tells the borrower what reached their account (3,000.00
// less the 60.00 fee and the 60.00 reserve) and each investor that what they
// lent is now their claim; retried, it tells nobody twice.
func TestDisbursementIsAnnounced(t *testing.T) {
	e, acts, loan, borrower, invs := fundedLoan(t)
	in := activities.DisburseInput{LoanID: loan.ID, Attempt: 1, Today: e.Today}
	for range 2 {
		_, err := acts.Disburse(e.Ctx, in)
		require.NoError(t, err)
	}
	assert.Equal(t, [][3]string{
		{id(borrower.ID), "disbursed", "2880.00"},
		{id(invs[0].ID), "disbursed", "1000.00"},
		{id(invs[1].ID), "disbursed", "2000.00"},
	}, told(t, e, lending.NoticeDisbursed))
	var msg string
	require.NoError(t, e.Pool.QueryRow(e.Ctx, `SELECT message FROM notifications WHERE kind = 'disbursed' AND user_id = $1`, borrower.ID).Scan(&msg))
	assert.Contains(t, msg, "2880.00 reached your account (service fee 60.00 and risk reserve 60.00 deducted)")
}

// A listing that expires (流标) tells its borrower, with what was bid; each
// bid it releases tells its investor, once; each recharge the bank confirms
// tells its user.
func TestExpiryReleaseAndRechargeAreAnnounced(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	acts := activities.New(e.Pool, e.Bank, e.Log, false)
	borrower := e.User(lending.RoleBorrower, "")
	loan := e.ListedLoan(borrower, "2000.00", "C", "0.11", 3, false)
	invs := []int64{e.Investor("C3", "500.00").ID, e.Investor("C3", "800.00").ID}
	bids := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: mocks.NewClient(t)}, e.Log)
	for i, amount := range []string{"300.00", "800.00"} {
		_, err := bids.Place(e.Ctx, invs[i], loan.ID, decimal.RequireFromString(amount), e.Today)
		require.NoError(t, err)
	}
	assert.Equal(t, [][3]string{{id(invs[0]), "recharge_succeeded", "500.00"}, {id(invs[1]), "recharge_succeeded", "800.00"}},
		told(t, e, lending.NoticeRechargeSucceeded))

	expiry := e.Today.AddDate(0, 0, 7)
	in := activities.CloseInput{LoanID: loan.ID, Seq: 1, From: []lending.Status{lending.StatusListed}, To: lending.StatusExpired, Note: "expired", Today: expiry}
	for range 2 {
		res, err := acts.Close(e.Ctx, in)
		require.NoError(t, err)
		require.True(t, res.Closed)
	}
	assert.Equal(t, [][3]string{
		{id(borrower.ID), "listing_expired", "1100.00"},
		{id(invs[0]), "bid_released", "300.00"},
		{id(invs[1]), "bid_released", "800.00"},
	}, told(t, e, lending.NoticeListingExpired, lending.NoticeBidReleased))
}
