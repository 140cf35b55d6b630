// Package support is customer service (docs/support.md): ops find a user by
// e-mail, phone, ID number or id and read one page of everything the
// platform knows of their money (the account as the platform's ledger and as
// the bank see it, loans, claims, bids, withdrawals, coupons, transfers,
// notifications, fund log, and what ops did to them), the person masked; a
// reveal of the person's data names its reason and is audited in the same
// transaction that reads it (docs/rules.md "Personal data").
package support

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/claims"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/transfer"
	"github.com/lendflow/lendflow/users"
)

// How much of each list the page shows: the newest. A person's whole fund
// log pages on through FundLog.
const (
	PageRows     = 50
	FundLogRows  = 100
	maxQuery     = 254 // an e-mail address's longest
	bankDeadline = 3 * time.Second
)

// Service is customer service.
type Service struct {
	pool      *pgxpool.Pool
	q         *dbq.Queries
	bank      bank.Client
	transfers *transfer.Service
	coupons   *coupons.Service
	log       *slog.Logger
}

// New is the service; transfers and coupons list a person's transfers
// (docs/transfer.md) and coupons (docs/coupons.md), nil: none listed.
func New(pool *pgxpool.Pool, b bank.Client, transfers *transfer.Service, cs *coupons.Service, log *slog.Logger) *Service {
	return &Service{pool: pool, q: db.Queries(pool), bank: b, transfers: transfers, coupons: cs, log: log}
}

// Person is a user as ops see them: name, ID number and phone masked
// (kyc.Mask*), the e-mail whole (it is how the customer wrote in).
type Person struct {
	UserID    int64
	Role      lending.Role
	Name      string
	Email     string
	Phone     string
	IDNumber  string
	Locked    bool
	CreatedAt time.Time
}

func personOf(row dbq.User) (Person, error) {
	u, err := users.From(row)
	if err != nil {
		return Person{}, err
	}
	return Person{UserID: u.ID, Role: u.Role, Name: kyc.MaskName(u.Name), Email: u.Email, Phone: kyc.MaskPhone(u.Phone),
		IDNumber: kyc.MaskIDNumber(u.IDNumber), Locked: u.Locked, CreatedAt: row.CreatedAt}, nil
}

// Search finds the users q names: by id (digits), e-mail, or the keyed hash
// of an ID number or a phone (pii.Hash), which is how a number sealed at
// rest is found. Errors: validation_failed (q empty or too long).
func (s *Service) Search(ctx context.Context, q string) ([]Person, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > maxQuery {
		return nil, errs.Invalid("q", "an e-mail, a phone, an ID number or a user id")
	}
	p := dbq.UserSearchParams{ID: -1, Email: q, Hash: pii.Hash(q)}
	if id, err := strconv.ParseInt(q, 10, 64); err == nil {
		p.ID = id
	}
	rows, err := s.q.UserSearch(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]Person, 0, len(rows))
	for _, r := range rows {
		pr, err := personOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// Page is the one page of a user.
type Page struct {
	Person
	// Account is the platform's ledger: available, frozen, pending
	// principal and interest, total assets.
	Account ledger.Summary
	// Bank is the custody account as the bank answers its balance call, nil
	// without an account or when the bank did not answer (BankError says).
	Bank      *bank.Balance
	BankError string
	Loans     []Loan
	// Holdings are the claims held, and bids not yet disbursed.
	Holdings    []claims.HoldingView
	Bids        []bidding.Bid
	Withdrawals []accounts.Withdrawal
	// Coupons are the investor's coupons, each with what it has paid.
	Coupons       []coupons.Coupon
	Transfers     []transfer.Listing
	Notifications []contact.Item
	FundLog       []ledger.FundLogItem
	// Actions are the audit log's entries on the user, newest first.
	Actions []audit.Item
}

// Loan is one of the person's loans as borrower.
type Loan struct {
	ID         int64
	Amount     string
	TermMonths int32
	Status     lending.Status
	AppliedOn  time.Time
}

// Page gathers the user's page. The bank is asked last, under a deadline of
// its own, so a bank that does not answer leaves the rest of the page whole.
// Errors: not_found.
func (s *Service) Page(ctx context.Context, id int64) (Page, error) {
	row, err := s.q.UserGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return Page{}, errs.New(errs.NotFound, "no such user")
	}
	if err != nil {
		return Page{}, err
	}
	var p Page
	if p.Person, err = personOf(row); err != nil {
		return p, err
	}
	if p.Account, err = ledger.AccountSummary(ctx, s.pool, id); err != nil {
		return p, err
	}
	loans, err := s.q.LoanListByBorrower(ctx, id)
	if err != nil {
		return p, err
	}
	for _, l := range loans {
		p.Loans = append(p.Loans, Loan{ID: l.ID, Amount: l.Amount.StringFixed(2), TermMonths: l.TermMonths, Status: l.Status, AppliedOn: l.AppliedOn})
	}
	if p.Holdings, err = claims.HoldingsOf(ctx, s.q, id); err != nil {
		return p, err
	}
	bids, err := s.q.BidPageByInvestor(ctx, dbq.BidPageByInvestorParams{InvestorID: id, Lim: PageRows})
	if err != nil {
		return p, err
	}
	for _, b := range bids {
		p.Bids = append(p.Bids, bidding.Bid{ID: b.ID, LoanID: b.LoanID, InvestorID: b.InvestorID, Amount: b.Amount,
			Status: b.Status, Auto: b.Auto, CreatedAt: b.CreatedAt})
	}
	ws, err := s.q.WithdrawalListByUser(ctx, dbq.WithdrawalListByUserParams{UserID: id, Lim: PageRows})
	if err != nil {
		return p, err
	}
	for _, w := range ws {
		p.Withdrawals = append(p.Withdrawals, accounts.Withdrawal{ID: w.ID, UserID: w.UserID, Amount: w.Amount, Fee: w.Fee,
			Route: w.Route, Status: w.Status, BusinessDate: w.BusinessDate})
	}
	if s.coupons != nil {
		if p.Coupons, err = s.coupons.List(ctx, id); err != nil {
			return p, err
		}
	}
	if s.transfers != nil {
		if p.Transfers, err = s.transfers.Mine(ctx, id, nil, PageRows); err != nil {
			return p, err
		}
	}
	if p.Notifications, err = contact.NewInbox(s.pool).List(ctx, id, nil); err != nil {
		return p, err
	}
	if p.FundLog, _, err = ledger.FundLog(ctx, s.pool, id, 0, FundLogRows); err != nil {
		return p, err
	}
	if p.Actions, err = audit.List(ctx, s.q, audit.Filter{Target: audit.User(id), Limit: PageRows}); err != nil {
		return p, err
	}
	if row.CustodyAccountNo != nil && s.bank != nil {
		bctx, cancel := context.WithTimeout(ctx, bankDeadline)
		defer cancel()
		b, err := s.bank.Balance(bctx, *row.CustodyAccountNo)
		if err != nil {
			s.log.Warn("support: the bank's balance", "user_id", id, "error", err)
			p.BankError = "the bank did not answer"
		} else {
			p.Bank = &b
		}
	}
	return p, nil
}

// FundLog is the user's fund log, as GET /v1/me/fund-logs pages it.
// Errors: not_found.
func (s *Service) FundLog(ctx context.Context, id, afterID int64, limit int) ([]ledger.FundLogItem, int64, error) {
	if _, err := s.q.UserGet(ctx, id); errors.Is(err, db.ErrNotFound) {
		return nil, 0, errs.New(errs.NotFound, "no such user")
	} else if err != nil {
		return nil, 0, err
	}
	return ledger.FundLog(ctx, s.pool, id, afterID, limit)
}

// Revealed is a person's data whole.
type Revealed struct {
	Name, IDNumber, Phone string
	CardNumber            *string
}

// Reveal answers the user's data unmasked to ops user opsID, for the reason
// given, which the audit log keeps (user_reveal, on user:<id>) in the same
// transaction that reads the data: no reveal without its record. Errors:
// validation_failed (no reason, or one over audit.MaxNote), not_found.
func (s *Service) Reveal(ctx context.Context, opsID, id int64, reason string) (Revealed, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > audit.MaxNote {
		return Revealed{}, errs.Invalid("reason", "say why, in at most %d bytes", audit.MaxNote)
	}
	var out Revealed
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		row, err := q.UserGet(ctx, id)
		if err != nil {
			return err
		}
		u, err := users.From(row)
		if err != nil {
			return err
		}
		out = Revealed{Name: u.Name, IDNumber: u.IDNumber, Phone: u.Phone, CardNumber: u.CardNumber}
		_, err = audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: audit.UserReveal, Target: audit.User(id), Note: reason})
		return err
	})
	if errors.Is(err, db.ErrNotFound) {
		return Revealed{}, errs.New(errs.NotFound, "no such user")
	}
	return out, err
}
