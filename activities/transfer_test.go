package activities_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/transfer"
)

// listedClaim is disbursedLoan (3,000.00 at 11 % over 3 months, disbursed 31
// January, due 28 February) with the first investor's claim (its bid of
// 1,000.00: principal shares 330.30 / 333.32 / 336.38, interest 9.17 / 6.14
// / 3.08) listed on 10 February at a 1 % discount.
func listedClaim(t *testing.T) (*testEnv, dbq.Loan, []dbq.User, dbq.Transfer, time.Time) {
	e, loan, _, invs := disbursedLoan(t, "3080.00")
	day := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	h, err := e.Q.HoldingsByHolder(e.Ctx, invs[0].ID)
	require.NoError(t, err)
	require.Len(t, h, 1)
	require.Equal(t, "bid", h[0].Source)
	res, err := e.acts.OfferTransfer(e.Ctx, activities.OfferTransferInput{LoanID: loan.ID, Seq: 11, HoldingID: h[0].HoldingID,
		SellerID: invs[0].ID, Discount: decimal.RequireFromString("0.01"), Today: day})
	require.NoError(t, err)
	require.Empty(t, res.Code, res.Detail)
	again, err := e.acts.OfferTransfer(e.Ctx, activities.OfferTransferInput{LoanID: loan.ID, Seq: 11, HoldingID: h[0].HoldingID,
		SellerID: invs[0].ID, Discount: decimal.RequireFromString("0.01"), Today: day})
	require.NoError(t, err)
	require.Equal(t, res.TransferID, again.TransferID, "the step retried finds its listing")
	tr, err := e.Q.TransferGet(e.Ctx, res.TransferID)
	require.NoError(t, err)
	require.Equal(t, "2026-02-23", tr.ExpiresOn.Format(time.DateOnly), "5 days before 28 February")
	return e, loan, invs, tr, day
}

// win takes the listing for buyer as the service does (transfer.Service):
// the guarded update, then the purchase row.
func win(t *testing.T, e *testEnv, tr dbq.Transfer, buyer dbq.User, price string, day time.Time) int {
	won, err := e.Q.TransferWin(e.Ctx, tr.ID)
	require.NoError(t, err)
	require.NoError(t, e.Q.TransferPurchaseInsert(e.Ctx, dbq.TransferPurchaseInsertParams{TransferID: tr.ID, Attempt: won.Attempt,
		BuyerID: buyer.ID, Price: decimal.RequireFromString(price), QuotedOn: day}))
	return int(won.Attempt)
}

// A sale, carried out twice (a retried step), moves the money once: the
// buyer pays the price, the seller receives it less the fee, the fee account
// the fee; the claim's open installments are the buyer's from then on, and
// the next auto-debit pays the buyer the whole installment.
//
// On 10 February the claim's R is 1,000.00; its share of installment 1's
// interest is 9.17, of which 10 of the period's 28 days have accrued:
// round(9.17 × 10 / 28) = round(3.275) = 3.28; price round(1,003.28 × 0.99) =
// round(993.2472) = 993.25; held 11 days, the fee is 1 % of R, 10.00.
func TestASaleMovesTheClaimOnce(t *testing.T) {
	e, loan, invs, tr, day := listedClaim(t)
	buyer := e.Investor("C3", "1000.00")
	attempt := win(t, e, tr, buyer, "993.25", day)
	in := activities.BuyTransferInput{LoanID: loan.ID, Seq: 21, TransferID: tr.ID, Attempt: attempt, BuyerID: buyer.ID,
		Price: decimal.RequireFromString("993.25"), Today: day}
	res, err := e.acts.BuyTransfer(e.Ctx, in)
	require.NoError(t, err)
	require.Empty(t, res.Code, res.Detail)
	assert.Equal(t, []string{"993.25", "10.00"}, []string{res.Price.StringFixed(2), res.Fee.StringFixed(2)})
	again, err := e.acts.BuyTransfer(e.Ctx, in)
	require.NoError(t, err)
	assert.Equal(t, res.HoldingID, again.HoldingID)

	seller, _ := e.Balance(*invs[0].CustodyAccountNo)
	bought, _ := e.Balance(*buyer.CustodyAccountNo)
	fee, _ := e.Balance(bank.AccountFee)
	assert.Equal(t, "983.25", seller, "price − fee, once")
	assert.Equal(t, "6.75", bought, "1,000.00 − 993.25, once")
	assert.Equal(t, "70.00", fee, "the disbursement's 60.00 and the sale's 10.00")
	sold, err := e.Q.TransferGet(e.Ctx, tr.ID)
	require.NoError(t, err)
	assert.Equal(t, "sold", sold.Status)
	assert.Equal(t, []string{"1000.00", "3.28", "993.25", "10.00"},
		[]string{sold.Principal.StringFixed(2), sold.AccruedInterest.StringFixed(2), sold.Price.StringFixed(2), sold.Fee.StringFixed(2)})
	was, err := e.Q.HoldingGet(e.Ctx, tr.HoldingID)
	require.NoError(t, err)
	assert.Equal(t, "transferred", was.Status)
	now, err := e.Q.HoldingGet(e.Ctx, res.HoldingID)
	require.NoError(t, err)
	assert.Equal(t, []any{buyer.ID, "transfer", "1000.00", "993.25", "held"},
		[]any{now.HolderID, now.Source, now.Principal.StringFixed(2), now.Cost.StringFixed(2), now.Status})

	// 28 February: installment 1 is the buyer's, whole: 330.30 + 9.17.
	due := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	col, err := e.acts.Collect(e.Ctx, activities.CollectInput{LoanID: loan.ID, Seq: 31, On: due,
		Steps: []lending.Step{lending.StepAutoDebit}, Installment: 1, Attempt: 1})
	require.NoError(t, err)
	require.True(t, col.Repay.Paid)
	bought, _ = e.Balance(*buyer.CustodyAccountNo)
	seller, _ = e.Balance(*invs[0].CustodyAccountNo)
	assert.Equal(t, "346.22", bought, "6.75 + 330.30 + 9.17")
	assert.Equal(t, "983.25", seller, "nothing more to the seller")
	views, err := e.Q.HoldingsByHolder(e.Ctx, buyer.ID)
	require.NoError(t, err)
	require.Len(t, views, 1)
	assert.Equal(t, []string{"330.30", "9.17", "669.70", "9.22"}, []string{views[0].ReceivedPrincipal.StringFixed(2),
		views[0].ReceivedInterest.StringFixed(2), views[0].PendingPrincipal.StringFixed(2), views[0].PendingInterest.StringFixed(2)})

	// The fund logs (docs/money.md "Fund log"): the seller's sale line leaves
	// nothing owed to it; the buyer's purchase line owes it the claim's
	// 1,000.00 + 18.39 of interest, less each part it then received.
	assert.Equal(t, []fundLine{
		{ledger.TypeTransfer, ledger.TypeTransfer, "983.25", "983.25", "0.00", "0.00"},
		{ledger.TypeDisbursement, ledger.TypeDisbursement, "-1000.00", "0.00", "0.00", "1018.39"},
	}, fundLog(t, e.Env, invs[0])[:2])
	assert.Equal(t, []fundLine{
		{ledger.TypeRepayment, ledger.KindInterest, "9.17", "346.22", "0.00", "678.92"},
		{ledger.TypeRepayment, ledger.KindPrincipal, "330.30", "337.05", "0.00", "688.09"},
		{ledger.TypeTransfer, ledger.TypeTransfer, "-993.25", "6.75", "0.00", "1018.39"},
		{ledger.TypeRecharge, ledger.TypeRecharge, "1000.00", "1000.00", "0.00", "0.00"},
	}, fundLog(t, e.Env, buyer))

	kinds := map[int64][]string{}
	for _, u := range []int64{invs[0].ID, buyer.ID} {
		notes, err := e.Q.NotificationListByUser(e.Ctx, dbq.NotificationListByUserParams{UserID: u, Today: due, Lim: 50})
		require.NoError(t, err)
		for _, n := range notes {
			kinds[u] = append(kinds[u], n.Kind)
		}
	}
	assert.Contains(t, kinds[invs[0].ID], string(lending.NoticeTransferSold))
	assert.Contains(t, kinds[buyer.ID], string(lending.NoticeTransferBought))
	assert.Contains(t, kinds[buyer.ID], string(lending.NoticeRepaymentReceived))

	// The listing's events, and the sale's money as its ledger event, each once.
	var types []string
	rows, err := e.Pool.Query(e.Ctx, `SELECT type FROM events WHERE type LIKE 'transfer.%' OR type = 'ledger.transfer' ORDER BY seq`)
	require.NoError(t, err)
	for rows.Next() {
		var ty string
		require.NoError(t, rows.Scan(&ty))
		types = append(types, ty)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"transfer.listed", "ledger.transfer", "transfer.sold"}, types)
}

// A buyer whose balance does not cover the price is refused with nothing
// moved, and the listing is open to the next buyer, whose purchase carries
// the next attempt's request number.
func TestAPurchaseShortOfMoneyMovesNothing(t *testing.T) {
	e, loan, invs, tr, day := listedClaim(t)
	poor := e.Investor("C3", "500.00")
	attempt := win(t, e, tr, poor, "993.25", day)
	res, err := e.acts.BuyTransfer(e.Ctx, activities.BuyTransferInput{LoanID: loan.ID, Seq: 21, TransferID: tr.ID, Attempt: attempt,
		BuyerID: poor.ID, Price: decimal.RequireFromString("993.25"), Today: day})
	require.NoError(t, err)
	assert.Equal(t, errs.InsufficientBalance, res.Code)
	avail, _ := e.Balance(*poor.CustodyAccountNo)
	seller, _ := e.Balance(*invs[0].CustodyAccountNo)
	assert.Equal(t, []string{"500.00", "0.00"}, []string{avail, seller})
	open, err := e.Q.TransferGet(e.Ctx, tr.ID)
	require.NoError(t, err)
	assert.Equal(t, "listed", open.Status)
	p, err := e.Q.TransferPurchaseGet(e.Ctx, dbq.TransferPurchaseGetParams{TransferID: tr.ID, Attempt: int32(attempt)})
	require.NoError(t, err)
	assert.Equal(t, []string{"refused", errs.InsufficientBalance}, []string{p.Status, *p.Code})

	rich := e.Investor("C3", "2000.00")
	next := win(t, e, open, rich, "993.25", day)
	assert.Equal(t, attempt+1, next)
	res, err = e.acts.BuyTransfer(e.Ctx, activities.BuyTransferInput{LoanID: loan.ID, Seq: 31, TransferID: tr.ID, Attempt: next,
		BuyerID: rich.ID, Price: decimal.RequireFromString("993.25"), Today: day})
	require.NoError(t, err)
	require.Empty(t, res.Code)
	_, err = e.Q.BankRequestGet(e.Ctx, transfer.RequestNo(tr.ID, next))
	require.NoError(t, err, "the second buyer's own request number")
	avail, _ = e.Balance(*rich.CustodyAccountNo)
	assert.Equal(t, "1006.75", avail)
}

// A price quoted on a day the claim no longer has, or a purchase dated in
// the blackout, is refused and moves nothing; a lapse closes every open
// listing of the loan, refuses a purchase still being made of it, and tells
// the seller.
func TestStaleQuotesAndLapses(t *testing.T) {
	e, loan, invs, tr, day := listedClaim(t)
	buyer := e.Investor("C3", "2000.00")
	attempt := win(t, e, tr, buyer, "993.00", day)
	res, err := e.acts.BuyTransfer(e.Ctx, activities.BuyTransferInput{LoanID: loan.ID, Seq: 21, TransferID: tr.ID, Attempt: attempt,
		BuyerID: buyer.ID, Price: decimal.RequireFromString("993.00"), Today: day})
	require.NoError(t, err)
	assert.Equal(t, errs.TransferNotOpen, res.Code, "the price on 10 February is 993.25")
	blackout := time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC)
	attempt = win(t, e, tr, buyer, "994.39", blackout)
	res, err = e.acts.BuyTransfer(e.Ctx, activities.BuyTransferInput{LoanID: loan.ID, Seq: 31, TransferID: tr.ID, Attempt: attempt,
		BuyerID: buyer.ID, Price: decimal.RequireFromString("994.39"), Today: blackout})
	require.NoError(t, err)
	assert.Equal(t, errs.TransferNotOpen, res.Code, "the listing lapses on 23 February")

	attempt = win(t, e, tr, buyer, "993.25", day)
	lapsed, err := e.acts.LapseTransfers(e.Ctx, activities.LapseTransfersInput{LoanID: loan.ID, Seq: 41, Reason: transfer.LapsedBlackout,
		Today: blackout})
	require.NoError(t, err)
	assert.Equal(t, []int64{tr.ID}, lapsed.Lapsed)
	p, err := e.Q.TransferPurchaseGet(e.Ctx, dbq.TransferPurchaseGetParams{TransferID: tr.ID, Attempt: int32(attempt)})
	require.NoError(t, err)
	assert.Equal(t, "refused", p.Status)
	res, err = e.acts.BuyTransfer(e.Ctx, activities.BuyTransferInput{LoanID: loan.ID, Seq: 51, TransferID: tr.ID, Attempt: attempt,
		BuyerID: buyer.ID, Price: decimal.RequireFromString("993.25"), Today: day})
	require.NoError(t, err)
	assert.Equal(t, errs.TransferNotOpen, res.Code)
	avail, _ := e.Balance(*buyer.CustodyAccountNo)
	assert.Equal(t, "2000.00", avail, "nothing moved")
	notes, err := e.Q.NotificationListByUser(e.Ctx, dbq.NotificationListByUserParams{UserID: invs[0].ID, Today: blackout, Lim: 50})
	require.NoError(t, err)
	require.NotEmpty(t, notes)
	assert.Equal(t, string(lending.NoticeTransferLapsed), notes[0].Kind)

	// Lapsed, the claim may be offered again once the due date has passed.
	again, err := e.acts.LapseTransfers(e.Ctx, activities.LapseTransfersInput{LoanID: loan.ID, Seq: 41, Reason: transfer.LapsedBlackout,
		Today: blackout})
	require.NoError(t, err)
	assert.Empty(t, again.Lapsed, "lapsed once")
}
