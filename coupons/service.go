package coupons

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

// Limits of a grant (docs/coupons.md "Granting").
var (
	MaxExtraRate = decimal.RequireFromString("0.24") // the rate cap of docs/rules.md "Due diligence"
	MaxMonths    = lending.MaxTermMonths
)

// Service is coupons as the API and the console call them.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	bank  bank.Client
	today func(context.Context) (time.Time, error)
	log   *slog.Logger
}

// New builds the service; today is the business date.
func New(pool *pgxpool.Pool, bc bank.Client, today func(context.Context) (time.Time, error), log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{pool: pool, q: db.Queries(pool), bank: bc, today: today, log: log}
}

// Grant is what ops ask for.
type Grant struct {
	UserID    int64
	Kind      Kind
	Amount    decimal.Decimal // cash
	ExtraRate decimal.Decimal // interest
	Months    int             // interest
	MinBid    decimal.Decimal
	ExpiresOn time.Time
	Note      string
	OpsID     int64
	// Key is the request's Idempotency-Key: the same grant sent again finds
	// the coupon it made (docs/idempotency.md "The effect carries the key").
	Key string
}

// Check is a grant's own fields, before the budget: a cash coupon's face an
// amount of money, an interest coupon's extra rate above 0 and at most
// MaxExtraRate with 1 to MaxMonths months, a minimum bid not negative, an
// expiry not before today.
func (g Grant) Check(today time.Time) error {
	switch g.Kind {
	case Cash:
		if err := money.ValidAmount(g.Amount); err != nil {
			return errs.Invalid("amount", "a cash coupon needs an amount above 0.00 with at most 2 decimals")
		}
	case Interest:
		if g.ExtraRate.Sign() <= 0 || g.ExtraRate.GreaterThan(MaxExtraRate) || !g.ExtraRate.Equal(g.ExtraRate.Truncate(4)) {
			return errs.Invalid("extra_rate", "an interest coupon needs an extra_rate above 0 and at most %s, 4 decimals at most", MaxExtraRate)
		}
		if g.Months < 1 || g.Months > MaxMonths {
			return errs.Invalid("months", "an interest coupon covers 1 to %d months", MaxMonths)
		}
	default:
		return errs.Invalid("kind", "kind is cash or interest")
	}
	if g.MinBid.IsNegative() || !g.MinBid.Equal(g.MinBid.Truncate(2)) {
		return errs.Invalid("min_bid", "min_bid is an amount of 0.00 or more")
	}
	if g.ExpiresOn.Before(today) {
		return errs.Invalid("expires_on", "expires_on is today (%s) or later", today.Format(time.DateOnly))
	}
	return nil
}

// Grant gives an investor a coupon, if the bonus account's headroom covers
// its most (bonus_budget_exceeded otherwise). Grants are judged one at a time
// under a lock in PostgreSQL, so two at once never both spend the same
// headroom; the coupon_granted notice is written with the coupon.
func (s *Service) Grant(ctx context.Context, g Grant) (Coupon, error) {
	today, err := s.today(ctx)
	if err != nil {
		return Coupon{}, err
	}
	if err := g.Check(today); err != nil {
		return Coupon{}, err
	}
	var out dbq.Coupon
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		u, err := q.UserGet(ctx, g.UserID)
		if errors.Is(err, db.ErrNotFound) || (err == nil && u.Role != lending.RoleInvestor) {
			return errs.Invalid("user_id", "user %d is not an investor", g.UserID)
		}
		if err != nil {
			return err
		}
		if err := q.CouponBudgetLock(ctx); err != nil {
			return err
		}
		// Under the grants' lock, so two requests under one key never both insert.
		if g.OpsID != 0 {
			prev, found, err := idempotency.Made(idempotency.Key(g.Key),
				func(key *string) (dbq.Coupon, error) {
					return q.CouponByKey(ctx, dbq.CouponByKeyParams{GrantedBy: &g.OpsID, IdempotencyKey: key})
				},
				func(c dbq.Coupon) bool { return g.same(From(c)) },
				func(c dbq.Coupon) string { return fmt.Sprintf("coupon %d", c.ID) })
			if found || err != nil {
				out = prev
				return err
			}
		}
		budget, err := budgetOf(ctx, q)
		if err != nil {
			return err
		}
		most := Most(g.Kind, g.Amount, g.ExtraRate, g.Months)
		if err := budget.Admit(most); err != nil {
			return err
		}
		p := dbq.CouponInsertParams{UserID: g.UserID, Kind: string(g.Kind), MinBid: g.MinBid, ExpiresOn: g.ExpiresOn, Most: most,
			Note: g.Note, GrantedOn: today, IdempotencyKey: idempotency.Key(g.Key)}
		if g.OpsID != 0 {
			p.GrantedBy = &g.OpsID
		}
		what := ""
		if g.Kind == Cash {
			p.Amount = &g.Amount
			what = fmt.Sprintf("a cash coupon of %s", g.Amount.StringFixed(2))
		} else {
			months := int32(g.Months)
			p.ExtraRate, p.Months = &g.ExtraRate, &months
			what = fmt.Sprintf("an interest coupon of +%s%% a year for %d months", g.ExtraRate.Shift(2).String(), g.Months)
		}
		if out, err = q.CouponInsert(ctx, p); err != nil {
			return err
		}
		if err := event(ctx, q, out, EventGranted, today, 0); err != nil {
			return err
		}
		if g.OpsID != 0 {
			if _, err := audit.Record(ctx, q, audit.Entry{OpsUserID: g.OpsID, Action: audit.CouponGrant, Target: audit.User(g.UserID),
				Note: fmt.Sprintf("coupon %d: %s; %s", out.ID, what, g.Note)}); err != nil {
				return err
			}
		}
		return contact.Write(ctx, q, contact.Notice{UserID: g.UserID, Kind: lending.NoticeCouponGranted, On: today,
			Dedupe: fmt.Sprintf("coupon-%d-granted", out.ID),
			Message: fmt.Sprintf("You have %s (coupon %d) for a bid of at least %s, until %s.", what, out.ID,
				g.MinBid.StringFixed(2), g.ExpiresOn.Format(time.DateOnly))})
	})
	return From(out), err
}

// same reports whether c is the coupon g asks for: a grant sent again.
func (g Grant) same(c Coupon) bool {
	return c.UserID == g.UserID && c.Kind == g.Kind && c.Amount.Equal(g.Amount) && c.ExtraRate.Equal(g.ExtraRate) &&
		c.Months == g.Months && c.MinBid.Equal(g.MinBid) && c.ExpiresOn.Equal(g.ExpiresOn) && c.Note == g.Note
}

func budgetOf(ctx context.Context, q *dbq.Queries) (Budget, error) {
	available, err := q.BonusAccountAvailable(ctx)
	if err != nil {
		return Budget{}, err
	}
	liabilities, err := q.CouponLiabilities(ctx)
	if err != nil {
		return Budget{}, err
	}
	return NewBudget(available, liabilities), nil
}

// Budget is the bonus account now: available, liabilities, headroom.
func (s *Service) Budget(ctx context.Context) (Budget, error) { return budgetOf(ctx, s.q) }

// List is the investor's coupons, newest first, each with what it has paid.
func (s *Service) List(ctx context.Context, userID int64) ([]Coupon, error) {
	rows, err := s.q.CouponListByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Coupon, len(rows))
	for i, r := range rows {
		out[i] = From(dbq.Coupon{ID: r.ID, UserID: r.UserID, Kind: r.Kind, Amount: r.Amount, ExtraRate: r.ExtraRate, Months: r.Months,
			MinBid: r.MinBid, ExpiresOn: r.ExpiresOn, Most: r.Most, Note: r.Note, Status: r.Status, BidID: r.BidID, LoanID: r.LoanID,
			GrantedBy: r.GrantedBy, GrantedOn: r.GrantedOn, CreatedAt: r.CreatedAt})
		out[i].Paid = r.Paid
	}
	return out, nil
}

// TopUp is one top-up of the bonus account.
type TopUp struct {
	ID     int64
	Amount decimal.Decimal
	Status string
}

// topUpTries: the bank is asked this many times under the same number
// before the caller is told to try again.
const topUpTries = 3

// TopUp fills the bonus account from the platform's card: the row first
// (carrying the request's Idempotency-Key), then the bank under the row's
// request number, then the ledger's bonus_top_up entry (money into custody,
// as conservation counts it) on the bank's day. The same request sent again
// finds its row: settled, it answers it; still processing (the bank did not
// answer, or the API died), it asks the bank again under the same number,
// which moves the money once. Errors: validation_failed,
// idempotency_key_reused, bank_unavailable (the top-up stays processing).
func (s *Service) TopUp(ctx context.Context, opsID int64, key string, amount decimal.Decimal) (TopUp, error) {
	if err := money.ValidAmount(amount); err != nil {
		return TopUp{}, errs.Invalid("amount", "amount is above 0.00 with at most 2 decimals")
	}
	today, err := s.today(ctx)
	if err != nil {
		return TopUp{}, err
	}
	var ops *int64
	if opsID != 0 {
		ops = &opsID
	}
	row, err := s.q.BonusTopUpInsert(ctx, dbq.BonusTopUpInsertParams{Amount: amount, OpsID: ops, IdempotencyKey: idempotency.Key(key)})
	if errors.Is(err, db.ErrNotFound) { // the key made a top-up already
		if row, err = s.q.BonusTopUpByKey(ctx, dbq.BonusTopUpByKeyParams{OpsID: ops, IdempotencyKey: idempotency.Key(key)}); err != nil {
			return TopUp{}, err
		}
		if _, err := idempotency.Again(row, row.Amount.Equal(amount), fmt.Sprintf("top-up %d of %s", row.ID, row.Amount.StringFixed(2))); err != nil {
			return TopUp{}, err
		}
		switch row.Status {
		case "succeeded":
			return TopUp{ID: row.ID, Amount: row.Amount, Status: row.Status}, nil
		case "failed":
			return TopUp{ID: row.ID, Amount: row.Amount, Status: row.Status}, errs.New(errs.Conflict, "the bank refused the top-up: %s", deref(row.FailureCode))
		}
	}
	if err != nil {
		return TopUp{}, err
	}
	reqNo := bank.BonusTopUp(row.ID)
	var res bank.Result
	for try := 0; try < topUpTries; try++ {
		res, err = s.bank.TopUp(ctx, bank.TopUpRequest{RequestNo: reqNo, Amount: amount})
		if _, _, oerr := bank.Outcome(res, err); oerr == nil {
			break
		}
	}
	ok, code, err := bank.Outcome(res, err)
	if err != nil {
		s.log.Warn("coupons: bonus top-up unanswered", "top_up", row.ID, "error", err)
		return TopUp{ID: row.ID, Amount: amount, Status: "processing"}, errs.New(errs.BankUnavailable, "the bank did not answer; top-up %d is processing", row.ID)
	}
	ctx = context.WithoutCancel(ctx)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		status := "failed"
		var failure *string
		if ok {
			status = "succeeded"
			if _, err := ledger.Post(ctx, tx, ledger.BonusTopUp(reqNo, amount, fmt.Sprintf("bonus_top_up:%d", row.ID), res.Day(today))); err != nil {
				return err
			}
		} else {
			failure = &code
		}
		settled, err := q.BonusTopUpSettle(ctx, dbq.BonusTopUpSettleParams{ID: row.ID, Status: status, FailureCode: failure})
		if errors.Is(err, db.ErrNotFound) { // settled by the request's other copy
			row, err = q.BonusTopUpGet(ctx, row.ID)
			return err
		}
		if err != nil || opsID == 0 {
			row = settled
			return err
		}
		row = settled
		_, err = audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: audit.BonusTopUp, Target: audit.BonusAccount,
			Note: fmt.Sprintf("top-up %d of %s: %s", row.ID, amount.StringFixed(2), status)})
		return err
	})
	if err != nil {
		return TopUp{}, err
	}
	if !ok {
		return TopUp{ID: row.ID, Amount: amount, Status: row.Status}, errs.New(errs.Conflict, "the bank refused the top-up: %s", code)
	}
	return TopUp{ID: row.ID, Amount: row.Amount, Status: row.Status}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Payment is one coupon payment, as ops see their task list.
type Payment struct {
	ID, CouponID, LoanID, UserID int64
	Installment                  int
	Amount                       decimal.Decimal
	Status                       string
	Attempt                      int
	RequestNo, FailureCode       string
}

func paymentFrom(p dbq.CouponPayment) Payment {
	out := Payment{ID: p.ID, CouponID: p.CouponID, LoanID: p.LoanID, UserID: p.UserID, Installment: int(p.InstallmentNo),
		Amount: p.Amount, Status: p.Status, Attempt: int(p.Attempt)}
	if p.RequestNo != nil {
		out.RequestNo = *p.RequestNo
	}
	if p.FailureCode != nil {
		out.FailureCode = *p.FailureCode
	}
	return out
}

// Failed is the ops task list: the payments the bank refused.
func (s *Service) Failed(ctx context.Context) ([]Payment, error) {
	rows, err := s.q.CouponPaymentsFailed(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Payment, len(rows))
	for i, r := range rows {
		out[i] = paymentFrom(r)
	}
	return out, nil
}

// Retry sends a refused payment again, under the next attempt's request
// number (the bank's refusal is final for the old one), and answers it as
// the bank left it: paid, or failed again. Errors: not_found, invalid_state
// (not failed).
func (s *Service) Retry(ctx context.Context, opsID, paymentID int64) (Payment, error) {
	today, err := s.today(ctx)
	if err != nil {
		return Payment{}, err
	}
	cur, err := s.q.CouponPaymentGet(ctx, paymentID)
	if errors.Is(err, db.ErrNotFound) {
		return Payment{}, errs.New(errs.NotFound, "no coupon payment %d", paymentID)
	}
	if err != nil {
		return Payment{}, err
	}
	if cur.Status == PaymentFailed {
		reqNo := bank.BonusPayment(cur.LoanID, int(cur.InstallmentNo), cur.CouponID, int(cur.Attempt)+1)
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := db.Queries(tx)
			if _, err := q.CouponPaymentRetry(ctx, dbq.CouponPaymentRetryParams{ID: paymentID, RequestNo: &reqNo}); err != nil {
				return err
			}
			if opsID == 0 {
				return nil
			}
			_, err := audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: audit.BonusRetry, Target: audit.CouponPayment(paymentID),
				Note: fmt.Sprintf("%s of loan %d sent again as %s", cur.Amount.StringFixed(2), cur.LoanID, reqNo)})
			return err
		})
		if err != nil && !errors.Is(err, db.ErrNotFound) { // another retry won: pay what it made due
			return Payment{}, err
		}
	} else if cur.Status != PaymentDue {
		return Payment{}, errs.New(errs.InvalidState, "coupon payment %d is %s", paymentID, cur.Status)
	}
	if err := PayDue(ctx, s.pool, s.bank, cur.LoanID, today, s.log); err != nil {
		return Payment{}, err
	}
	after, err := s.q.CouponPaymentGet(ctx, paymentID)
	if err != nil {
		return Payment{}, err
	}
	return paymentFrom(dbq.CouponPayment{ID: after.ID, CouponID: after.CouponID, LoanID: after.LoanID, UserID: after.UserID,
		InstallmentNo: after.InstallmentNo, Amount: after.Amount, Status: after.Status, Attempt: after.Attempt,
		RequestNo: after.RequestNo, FailureCode: after.FailureCode}), nil
}
