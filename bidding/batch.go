package bidding

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/groupcommit"
)

// Admission is batched per listing. A listing's bids all pass through one
// row, the loan's raised amount, whose lock each admitting transaction holds
// until its commit: one bid a commit capped a hot listing at what one commit
// (its WAL flush) takes, however many bids waited. So the bids that arrive
// while a listing's transaction runs are admitted together in the next one
// (group commit): one transaction takes their investors' locks (ascending,
// so two batches never deadlock), claims their keys, reads their facts,
// judges each bid in arrival order against what the ones before it left,
// and admits those that pass with one guarded increment of raised, still the
// single authority, and one insert. A refused bid in a batch writes nothing
// but its claim, which the API then answers; an error aborts the batch and
// every bid in it, none of which was admitted. No goroutine runs the queue
// (groupcommit): a bid that finds its listing idle leads, running batches until
// its own is done, then hands the lead on.

// maxBatch bounds a batch: the transaction's statements grow with it, and a
// bid waits for the whole of its batch.
const maxBatch = 64

type admission struct {
	investorID int64
	amount     decimal.Decimal
	today      time.Time // zero: the platform's business date
	auto       bool
	key        *string
	c          *Claim
	couponID   int64 // the investor's coupon to attach; 0: none

	bid       dbq.Bid
	accountNo string
	day       time.Time
	err       error
	repeat    bool // the key made bid already: answer it again
	claimed   bool // the claim is in the batch's transaction

	w groupcommit.Waiter
}

type batcher struct {
	mu     sync.Mutex
	queues map[int64]*groupcommit.Queue[*admission]
}

// admitQueued admits a on loanID in a batch (groupcommit.Run).
func (s *Service) admitQueued(ctx context.Context, loanID int64, a *admission) {
	a.w = groupcommit.NewWaiter()
	b := &s.batch
	b.mu.Lock()
	if b.queues == nil {
		b.queues = map[int64]*groupcommit.Queue[*admission]{}
	}
	q := b.queues[loanID]
	if q == nil {
		q = &groupcommit.Queue[*admission]{}
		b.queues[loanID] = q
	}
	b.mu.Unlock()
	// The batch's work is done for every bid in it: it outlives this request.
	bctx := context.WithoutCancel(ctx)
	groupcommit.Run(&b.mu, q, a, func(a *admission) *groupcommit.Waiter { return &a.w }, take,
		func(batch []*admission) { s.admitBatch(bctx, loanID, batch) },
		func() { delete(b.queues, loanID) })
}

// take removes the next batch from q: the oldest bids on one business date,
// one per investor (an investor's second bid goes in a later batch, so that
// it is judged with the first one's amount in flight).
func take(q *groupcommit.Queue[*admission]) []*admission {
	var batch, rest []*admission
	seen := map[int64]bool{}
	for _, a := range q.Waiting {
		if len(batch) == maxBatch || seen[a.investorID] || (len(batch) > 0 && !a.today.Equal(batch[0].today)) {
			rest = append(rest, a)
			continue
		}
		seen[a.investorID] = true
		batch = append(batch, a)
	}
	q.Waiting = rest
	return batch
}

// admitBatch runs one batch's transaction and gives every bid in it its
// result; a deadlock or serialization failure runs it again (nothing of it
// was committed).
func (s *Service) admitBatch(ctx context.Context, loanID int64, batch []*admission) {
	batchSize.Observe(float64(len(batch)))
	defer prometheus.NewTimer(batchSeconds).ObserveDuration()
	var err error
	for try := 0; ; try++ {
		err = groupcommit.Unpanicked(func() error {
			return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.admitIn(ctx, db.Queries(tx), loanID, batch) })
		})
		var pgErr *pgconn.PgError
		if try < 3 && errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
			continue
		}
		break
	}
	for _, a := range batch {
		if err != nil {
			a.bid, a.repeat, a.claimed, a.err = dbq.Bid{}, false, false, err
		}
		if a.c != nil {
			a.c.Claimed = a.claimed
			a.c.Taken = a.c.Taken && err == nil
		}
		a.w.Done()
	}
}

// admitIn is the batch's transaction (see the top of this file).
func (s *Service) admitIn(ctx context.Context, q *dbq.Queries, loanID int64, batch []*admission) error {
	byInvestor := make(map[int64]*admission, len(batch))
	ids := make([]int32, 0, len(batch))
	var claims dbq.BidClaimManyParams
	for _, a := range batch {
		a.bid, a.accountNo, a.err, a.repeat, a.claimed = dbq.Bid{}, "", nil, false, false
		if a.c != nil {
			a.c.Taken = false
		}
		byInvestor[a.investorID] = a
		ids = append(ids, int32(a.investorID))
		if c := a.c; c != nil {
			claims.UserIds = append(claims.UserIds, a.investorID)
			claims.Keys = append(claims.Keys, c.Key)
			claims.Methods = append(claims.Methods, c.Method)
			claims.Paths = append(claims.Paths, c.Path)
			claims.RequestHashes = append(claims.RequestHashes, c.RequestHash)
			// One process's batch: its claims share the replica and the rule.
			claims.ReplicaID, claims.StaleSeconds = c.Replica, c.StaleSeconds
		}
	}
	slices.Sort(ids)
	if err := q.UserLockManyForMoney(ctx, ids); err != nil {
		return err
	}
	judged := batch
	if len(claims.UserIds) > 0 {
		won, err := q.BidClaimMany(ctx, claims)
		if err != nil {
			return err
		}
		for _, id := range won {
			byInvestor[id].claimed = true
		}
		judged = nil
		for _, a := range batch {
			if a.c != nil && !a.claimed {
				a.c.Taken, a.err = true, ErrKeyTaken
				continue
			}
			judged = append(judged, a)
		}
		if len(judged) == 0 {
			return nil
		}
	}

	el := dbq.BidEligibilityManyParams{LoanID: loanID}
	if !judged[0].today.IsZero() {
		el.Today = &judged[0].today
	}
	for _, a := range judged {
		el.InvestorIds = append(el.InvestorIds, a.investorID)
		el.Keys = append(el.Keys, deref0(a.key))
	}
	rows, err := q.BidEligibilityMany(ctx, el)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		for _, a := range judged {
			a.err = errs.New(errs.NotFound, "no listing %d", loanID)
		}
		return nil
	}
	if len(rows) != len(judged) {
		return errors.New("bidding: a batch's investor is missing")
	}
	for i, r := range rows {
		a := judged[i]
		a.day = r.Today
		if r.KeyBidID != 0 {
			if a.bid, err = q.BidGet(ctx, r.KeyBidID); err != nil {
				return err
			}
			a.repeat = true
		}
	}
	loan := rows[0].Loan
	day := rows[0].Today
	attached, err := s.couponsOf(ctx, q, judged)
	if err != nil {
		return err
	}
	for range 5 {
		// Judged in arrival order, each against what the bids before it left.
		var in dbq.BidAdmitManyParams
		in.LoanID, in.Today, in.Total = loanID, day, decimal.Zero
		raised := loan.Raised
		var admitted []*admission
		for i, r := range rows {
			a := judged[i]
			if a.repeat {
				continue
			}
			l := loan
			l.Raised = raised
			a.err = s.judge(r, l, a.amount, day)
			if a.err == nil && a.couponID != 0 {
				a.err = usable(attached[a.couponID], a, day)
			}
			if a.err != nil {
				continue
			}
			raised = raised.Add(a.amount)
			admitted = append(admitted, a)
			a.accountNo = *r.User.CustodyAccountNo
			in.InvestorIds = append(in.InvestorIds, a.investorID)
			in.Amounts = append(in.Amounts, a.amount.String())
			in.Autos = append(in.Autos, a.auto)
			in.Keys = append(in.Keys, deref0(a.key))
			in.Total = in.Total.Add(a.amount)
		}
		if len(admitted) == 0 {
			return nil
		}
		bids, err := q.BidAdmitMany(ctx, in)
		if err != nil {
			return err
		}
		if len(bids) == len(admitted) {
			for _, b := range bids {
				a := byInvestor[b.InvestorID]
				a.bid = b
				if a.couponID != 0 {
					if err := coupons.Reserve(ctx, q, a.couponID, b.ID, loanID, a.investorID, day); err != nil {
						return err
					}
				}
			}
			return nil
		}
		// The listing moved since it was read (another process admitted, it
		// closed or expired): judge the batch again on it as it is now.
		if loan, err = q.LoanGet(ctx, loanID); err != nil {
			return err
		}
	}
	return errors.New("bidding: the listing kept moving under a batch")
}

// couponsOf reads, locked, the coupons the batch's bids would attach, by id.
// The investors' locks already keep two bids of one investor apart; the row
// lock keeps the clock's expiry off a coupon being judged.
func (s *Service) couponsOf(ctx context.Context, q *dbq.Queries, batch []*admission) (map[int64]*dbq.Coupon, error) {
	out := map[int64]*dbq.Coupon{}
	for _, a := range batch {
		if a.couponID == 0 || a.repeat {
			continue
		}
		c, err := q.CouponGetForUpdate(ctx, a.couponID)
		if errors.Is(err, db.ErrNotFound) {
			out[a.couponID] = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		out[a.couponID] = &c
	}
	return out, nil
}

// usable is coupons.Usable for a bid of the batch: a coupon that does not
// exist is refused as one that is not the investor's.
func usable(c *dbq.Coupon, a *admission, day time.Time) error {
	if c == nil {
		return coupons.NotUsable(coupons.ReasonNotYours)
	}
	return coupons.Usable(coupons.From(*c), a.investorID, a.amount, day)
}

// judge applies every bid rule to one bid of a batch: eligible's, then, as
// under the investor's lock, the newbie rule and what they may spend.
func (s *Service) judge(r dbq.BidEligibilityManyRow, loan dbq.Loan, amount decimal.Decimal, day time.Time) error {
	if err := s.eligible(r.User, loan, amount, day); err != nil {
		return err
	}
	if loan.Newbie && r.BidsMade > 0 {
		return errs.New(errs.NewbieOnly, "a newbie listing is only for investors who have never bid")
	}
	if free := r.Available.Sub(r.InFlight); free.LessThan(amount) {
		return errs.New(errs.InsufficientBalance, "available %s (%s of it in flight) does not cover %s",
			r.Available.StringFixed(2), r.InFlight.StringFixed(2), amount.StringFixed(2))
	}
	return nil
}

func deref0(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
