package loans

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/users"
)

// View is a loan with its history as its reader sees it.
type View struct {
	Loan    Loan
	History []Event
}

// Event is one row of a loan's history: the status it entered, when, and
// why.
type Event struct {
	Status       lending.Status
	At           time.Time
	BusinessDate time.Time
	Note         string
}

func (s *service) View(ctx context.Context, caller users.User, id int64) (View, error) {
	loan, err := s.loanFor(ctx, caller, id)
	if err != nil {
		return View{}, err
	}
	hist, err := s.history(ctx, loan.ID)
	if err != nil {
		return View{}, err
	}
	if caller.Role != lending.RoleOps {
		for i, h := range hist {
			hist[i].Note = borrowerNote(h.Status, h.Note)
		}
	}
	return View{Loan: loanFrom(loan), History: hist}, nil
}

// history is the loan's history, oldest first, as written.
func (s *service) history(ctx context.Context, loanID int64) ([]Event, error) {
	rows, err := s.q.LoanHistoryList(ctx, loanID)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(rows))
	for _, h := range rows {
		out = append(out, Event{Status: h.Status, At: h.At, BusinessDate: h.BusinessDate, Note: h.Note})
	}
	return out, nil
}

func (s *service) Authorize(ctx context.Context, loan Loan, max decimal.Decimal, expires time.Time) (Authorization, error) {
	today, err := s.today(ctx)
	if err != nil {
		return Authorization{}, err
	}
	if expires.Before(today) {
		return Authorization{}, errs.Invalid("expires_on", "must not be in the past")
	}
	if loan.Status.Terminal() {
		return Authorization{}, errs.New(errs.InvalidState, "the loan is %s", loan.Status)
	}
	auth, err := s.q.RepaymentAuthorizationUpsert(ctx, dbq.RepaymentAuthorizationUpsertParams{LoanID: loan.ID, MaxAmount: max, ExpiresOn: expires})
	if err != nil {
		return Authorization{}, err
	}
	return Authorization{LoanID: loan.ID, MaxAmount: auth.MaxAmount, ExpiresOn: auth.ExpiresOn}, nil
}

func (s *service) ByStatus(ctx context.Context, status lending.Status, afterID int64, limit int) ([]Loan, error) {
	rows, err := s.q.LoanListByStatus(ctx, dbq.LoanListByStatusParams{Status: status, AfterID: afterID, Lim: int32(limit)})
	return loansFrom(rows), err
}

func loansFrom(rows []dbq.Loan) []Loan {
	out := make([]Loan, len(rows))
	for i, l := range rows {
		out[i] = loanFrom(l)
	}
	return out
}

// Listing is a loan as its listing discloses it (docs/rules.md
// "Disclosure"): the borrower masked.
type Listing struct {
	Loan     Loan
	Borrower Masked
	// Schedule is what the loan would repay if disbursed on the business
	// date the listing is read (docs/rules.md "Disclosure"); a loan already
	// disbursed shows the schedule it was disbursed with. Empty for a loan
	// without a rate (never listed that way, but the view does not fail).
	Schedule []money.Installment
}

// Masked is a person as a listing shows them: 张*, 3301**********1234,
// 138****5678 (kyc.Mask*).
type Masked struct {
	Name, IDNumber, Phone string
}

// masked opens the sealed idNumber and phone (pii) to mask them.
func masked(name, idNumber, phone string) (Masked, error) {
	id, err1 := pii.Open(idNumber)
	ph, err2 := pii.Open(phone)
	if err := errors.Join(err1, err2); err != nil {
		return Masked{}, err
	}
	return Masked{Name: kyc.MaskName(name), IDNumber: kyc.MaskIDNumber(id), Phone: kyc.MaskPhone(ph)}, nil
}

func (s *service) Listings(ctx context.Context, beforeID int64, limit int) ([]Listing, error) {
	p := dbq.ListingListParams{Lim: int32(limit)}
	if beforeID > 0 {
		p.BeforeID = &beforeID
	}
	rows, err := s.q.ListingList(ctx, p)
	if err != nil {
		return nil, err
	}
	today, err := s.today(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Listing, len(rows))
	for i, r := range rows {
		b, err := masked(r.BorrowerName, r.BorrowerIDNumber, r.BorrowerPhone)
		if err != nil {
			return nil, err
		}
		out[i] = Listing{Loan: loanFrom(r.Loan), Borrower: b}
		if out[i].Schedule, err = listingSchedule(out[i].Loan, today); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listingSchedule is the calculator's schedule for the loan's terms from
// today, or from its disbursement once disbursed (money.Schedule, the one the
// disbursement books).
func listingSchedule(l Loan, today time.Time) ([]money.Installment, error) {
	if l.AnnualRate == nil {
		return nil, nil
	}
	start := today
	if l.DisbursedOn != nil {
		start = *l.DisbursedOn
	}
	return money.Schedule(l.Amount, *l.AnnualRate, l.TermMonths, money.Method(l.RepaymentMethod), start)
}

func (s *service) Listing(ctx context.Context, id int64) (Listing, error) {
	r, err := s.q.ListingGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return Listing{}, errs.New(errs.NotFound, "no such listing")
	}
	if err != nil {
		return Listing{}, err
	}
	today, err := s.today(ctx)
	if err != nil {
		return Listing{}, err
	}
	b, err := masked(r.BorrowerName, r.BorrowerIDNumber, r.BorrowerPhone)
	if err != nil {
		return Listing{}, err
	}
	out := Listing{Loan: loanFrom(r.Loan), Borrower: b}
	out.Schedule, err = listingSchedule(out.Loan, today)
	return out, err
}

// Guarantee is one loan a guarantor guarantees: what it has cost
// (compensations paid) and brought back (the borrower's later payments of
// the claims it took over, and recoveries after a write-off).
type Guarantee struct {
	LoanID      int64
	Status      lending.Status
	Amount      decimal.Decimal
	Compensated decimal.Decimal
	Recovered   decimal.Decimal
}

func (s *service) Guarantees(ctx context.Context, guarantorID int64) ([]Guarantee, error) {
	rows, err := s.q.GuaranteeListByGuarantor(ctx, &guarantorID)
	if err != nil {
		return nil, err
	}
	out := make([]Guarantee, len(rows))
	for i, g := range rows {
		out[i] = Guarantee{LoanID: g.LoanID, Status: g.Status, Amount: g.Amount, Compensated: g.Compensated, Recovered: g.Recovered}
	}
	return out, nil
}
