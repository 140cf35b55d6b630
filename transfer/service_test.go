package transfer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/transfer"
	"github.com/lendflow/lendflow/workflows"
)

// loans stands in for the loans' workflows: it carries out each request by
// the real activities, one at a time, as a loan's main loop does; and
// records every update ID it was sent.
type loans struct {
	mu      sync.Mutex
	e       *testenv.Env
	acts    *activities.Activities
	loanID  int64
	seq     int
	ids     []string
	answers map[string]transfer.Reply
	// before, when set, answers a request first (a refusal, ErrProcessing).
	before func(id string) error
}

func (l *loans) Send(ctx context.Context, loanID int64, kind transfer.Kind, id string, r transfer.Request) (transfer.Reply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, id)
	if a, ok := l.answers[id]; ok && id != "" {
		return a, nil
	}
	if l.before != nil {
		if err := l.before(id); err != nil {
			return transfer.Reply{}, err
		}
	}
	l.seq += 10
	var res activities.TransferResult
	var err error
	switch kind {
	case transfer.KindOffer:
		res, err = l.acts.OfferTransfer(ctx, activities.OfferTransferInput{LoanID: loanID, Seq: l.seq, HoldingID: r.HoldingID,
			SellerID: r.UserID, Discount: r.Discount, Today: r.Today})
	case transfer.KindBuy:
		res, err = l.acts.BuyTransfer(ctx, activities.BuyTransferInput{LoanID: loanID, Seq: l.seq, TransferID: r.TransferID,
			Attempt: r.Attempt, BuyerID: r.UserID, Price: r.Price, Today: r.Today})
	case transfer.KindCancel:
		res, err = l.acts.CancelTransfer(ctx, activities.CancelTransferInput{LoanID: loanID, Seq: l.seq, TransferID: r.TransferID,
			SellerID: r.UserID, Today: r.Today})
	}
	if err != nil {
		return transfer.Reply{}, err
	}
	if res.Code != "" {
		return transfer.Reply{}, errs.New(res.Code, "%s", res.Detail)
	}
	reply := transfer.Reply{TransferID: res.TransferID, HoldingID: res.HoldingID, Price: res.Price, Status: "done"}
	l.answers[id] = reply
	return reply, nil
}

func (l *loans) sent() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}

// market: a 3,000.00 loan at 11 % over 3 months disbursed on 31 January,
// bids of 1,000.00 and 2,000.00; on 10 February the first bidder lists its
// claim at a 1 % discount: priced 993.25 that day (activities' test works it).
func market(t *testing.T) (*testenv.Env, *transfer.Service, *loans, transfer.Listing, []dbq.User) {
	t.Parallel()
	e := testenv.New(t)
	acts := activities.New(e.Pool, e.Bank, e.Log, false)
	tc := mocks.NewClient(t)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything).Return(nil)
	bids := bidding.New(e.Pool, e.Bank, workflows.Signals{Client: tc}, e.Log)
	borrower := e.User("borrower", "200.00")
	loan := e.ListedLoan(borrower, "3000.00", "C", "0.11", 3, false)
	invs := []dbq.User{e.Investor("C3", "1000.00"), e.Investor("C3", "2000.00")}
	for i, amt := range []string{"1000.00", "2000.00"} {
		_, err := bids.Place(e.Ctx, invs[i].ID, loan.ID, decimal.RequireFromString(amt), e.Today)
		require.NoError(t, err)
	}
	_, err := e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'disbursing' WHERE id = $1`, loan.ID)
	require.NoError(t, err)
	_, err = acts.Disburse(e.Ctx, activities.DisburseInput{LoanID: loan.ID, Seq: 1, Attempt: 1, Today: e.Today})
	require.NoError(t, err)
	day := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	l := &loans{e: e, acts: acts, loanID: loan.ID, seq: 100, answers: map[string]transfer.Reply{}}
	svc := transfer.New(e.Pool, l, func(context.Context) (time.Time, error) { return day, nil }, e.Log)
	held, err := svc.Holdings(e.Ctx, invs[0].ID)
	require.NoError(t, err)
	listing, err := svc.Offer(e.Ctx, invs[0].ID, held[0].ID, decimal.RequireFromString("0.01"), "offer-1")
	require.NoError(t, err)
	require.Equal(t, "993.25", listing.Quote.Price.StringFixed(2))
	return e, svc, l, listing, invs
}

// Twenty buyers at once: exactly one wins the listing and its purchase alone
// reaches the loan; the others are refused transfer_not_open at once, and
// not a fen of theirs moves.
func TestOneBuyerWinsAListing(t *testing.T) {
	e, svc, l, listing, invs := market(t)
	const n = 20
	buyers := make([]dbq.User, n)
	for i := range buyers {
		buyers[i] = e.Investor("C3", "1000.00")
	}
	var won atomic.Int32
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b, err := svc.Purchase(e.Ctx, buyers[i].ID, listing.ID, fmt.Sprintf("buy-%d", i))
			if err == nil {
				require.Equal(t, transfer.Sold, b.Status)
				won.Add(1)
				return
			}
			codes[i] = errs.Code(err)
		}(i)
	}
	wg.Wait()
	require.EqualValues(t, 1, won.Load())
	refused := 0
	for i, c := range codes {
		if c != "" {
			assert.Equal(t, errs.TransferNotOpen, c)
			refused++
			avail, frozen := e.Balance(*buyers[i].CustodyAccountNo)
			assert.Equal(t, []string{"1000.00", "0.00"}, []string{avail, frozen}, "a loser's money is untouched")
		}
	}
	assert.Equal(t, n-1, refused)
	buys := 0
	for _, id := range l.sent() {
		if id != "" && id[:3] == "buy" {
			buys++
		}
	}
	assert.Equal(t, 1, buys, "one purchase reached the loan")
	seller, _ := e.Balance(*invs[0].CustodyAccountNo)
	assert.Equal(t, "983.25", seller)
}

// A purchase sent again under its Idempotency-Key is the same purchase:
// while the loan has not answered, the same update again; once sold, the
// sale.
func TestAPurchaseSentAgainIsTheSamePurchase(t *testing.T) {
	e, svc, l, listing, invs := market(t)
	buyer := e.Investor("C3", "1000.00")
	slow := true
	l.before = func(id string) error {
		if slow && id[:3] == "buy" {
			return transfer.ErrProcessing
		}
		return nil
	}
	_, err := svc.Purchase(e.Ctx, buyer.ID, listing.ID, "k1")
	require.ErrorIs(t, err, transfer.ErrProcessing)
	got, err := svc.Get(e.Ctx, buyer.ID, listing.ID)
	require.NoError(t, err)
	assert.Equal(t, transfer.Buying, got.Status)
	_, err = svc.Purchase(e.Ctx, e.Investor("C3", "1000.00").ID, listing.ID, "k2")
	assert.Equal(t, errs.TransferNotOpen, errs.Code(err), "being bought: not open to another")
	slow = false
	b, err := svc.Purchase(e.Ctx, buyer.ID, listing.ID, "k1")
	require.NoError(t, err)
	again, err := svc.Purchase(e.Ctx, buyer.ID, listing.ID, "k1")
	require.NoError(t, err)
	assert.Equal(t, b.HoldingID, again.HoldingID)
	assert.Equal(t, "993.25", again.Price.StringFixed(2))
	ids := l.sent()
	assert.Equal(t, ids[len(ids)-1], ids[len(ids)-2], "the same update ID both times")
	assert.Equal(t, fmt.Sprintf("buy-transfer-%d-1", listing.ID), ids[len(ids)-1])
	avail, _ := e.Balance(*buyer.CustodyAccountNo)
	seller, _ := e.Balance(*invs[0].CustodyAccountNo)
	assert.Equal(t, []string{"6.75", "983.25"}, []string{avail, seller}, "paid once")
	_, err = svc.Purchase(e.Ctx, buyer.ID, listing.ID+1, "k1")
	assert.Equal(t, errs.IdempotencyKeyReused, errs.Code(err))
}

// A purchase the loan refuses moved nothing: the listing is open again, and
// the same key answers the same refusal.
func TestAPurchaseRefusedOpensTheListingAgain(t *testing.T) {
	other, svc2, l2, listing2, _ := market(t)
	buyer2 := other.Investor("C3", "1000.00")
	l2.before = func(id string) error { return errs.New(errs.TransferNotOpen, "the listing lapsed") }
	_, err := svc2.Purchase(other.Ctx, buyer2.ID, listing2.ID, "k")
	assert.Equal(t, errs.TransferNotOpen, errs.Code(err))
	open, err := svc2.Get(other.Ctx, buyer2.ID, listing2.ID)
	require.NoError(t, err)
	assert.Equal(t, transfer.Listed, open.Status)
	l2.before = nil
	_, err = svc2.Purchase(other.Ctx, buyer2.ID, listing2.ID, "k")
	assert.Equal(t, errs.TransferNotOpen, errs.Code(err), "the same key answers the same refusal")
	_, err = svc2.Purchase(other.Ctx, buyer2.ID, listing2.ID, "k-new")
	require.NoError(t, err, "a new purchase may buy it")
}

// A purchase won whose request died before it heard the answer is sent to
// the loan again by the sweep, under its own update ID.
func TestTheSweepSettlesAPurchaseLeftBeingMade(t *testing.T) {
	e, svc, l, listing, _ := market(t)
	buyer := e.Investor("C3", "1000.00")
	l.before = func(id string) error {
		if id[:3] == "buy" {
			return errs.New(errs.Unavailable, "Temporal did not answer")
		}
		return nil
	}
	_, err := svc.Purchase(e.Ctx, buyer.ID, listing.ID, "k")
	require.Equal(t, errs.Unavailable, errs.Code(err))
	n, err := svc.Settle(e.Ctx, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n, "not stale yet")
	l.before = nil
	n, err = svc.Settle(e.Ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	sold, err := svc.Get(e.Ctx, buyer.ID, listing.ID)
	require.NoError(t, err)
	assert.Equal(t, transfer.Sold, sold.Status)
	b, err := svc.Purchase(e.Ctx, buyer.ID, listing.ID, "k")
	require.NoError(t, err, "the key answers the sale")
	assert.Equal(t, transfer.Sold, b.Status)
}

// Cancel: only the seller, only while listed; cancelled again answers as it is.
func TestOnlyTheSellerCancelsAnOpenListing(t *testing.T) {
	e, svc, _, listing, invs := market(t)
	_, err := svc.Cancel(e.Ctx, invs[1].ID, listing.ID)
	assert.Equal(t, errs.NotFound, errs.Code(err))
	c, err := svc.Cancel(e.Ctx, invs[0].ID, listing.ID)
	require.NoError(t, err)
	assert.Equal(t, transfer.Cancelled, c.Status)
	c, err = svc.Cancel(e.Ctx, invs[0].ID, listing.ID)
	require.NoError(t, err)
	assert.Equal(t, transfer.Cancelled, c.Status)
	_, err = svc.Purchase(e.Ctx, invs[1].ID, listing.ID, "")
	assert.Equal(t, errs.TransferNotOpen, errs.Code(err))
	_, err = svc.Get(e.Ctx, invs[1].ID, listing.ID)
	assert.Equal(t, errs.NotFound, errs.Code(err), "a closed listing is its parties' only")
	mine, err := svc.Mine(e.Ctx, invs[0].ID, nil, 10)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, transfer.Cancelled, mine[0].Status)
	assert.False(t, mine[0].Priced)
}
