package loans

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/users"
)

// Dossier is everything ops see of a loan on its page (docs/console.md
// "Pages").
type Dossier struct {
	Today        time.Time
	Loan         Loan
	Borrower     Person
	Installments []Installment // as of Today
	History      []Event       // oldest first, ops' notes whole
	Investors    []Investor
	// Holdings is who held each claim when (docs/transfer.md "Holdings"),
	// by claim, oldest first; Transfers every listing of the loan's claims.
	Holdings  []Holding
	Transfers []Transfer
}

// Holding is one holder's time with one claim: the bidder's from the
// disbursement, each buyer's from its purchase.
type Holding struct {
	ID, BidID, UserID int64
	Name              string // masked
	Source            string // bid | transfer
	Principal         decimal.Decimal
	Cost              decimal.Decimal // the bid, or the price paid
	Outstanding       decimal.Decimal // principal still to come while held
	HeldFrom          time.Time
	HeldTo            *time.Time
	Status            string // held | transferred
}

// Transfer is one listing of a claim: its seller, and once sold its buyer,
// price and fee.
type Transfer struct {
	ID, BidID        int64
	SellerID         int64
	Seller           string // masked
	BuyerID          int64  // 0 unless sold
	Buyer            string // masked
	Discount         decimal.Decimal
	Status           string
	ListedOn         time.Time
	ExpiresOn        time.Time
	Principal, Price *decimal.Decimal // set once sold
	Fee              *decimal.Decimal
	ClosedOn         *time.Time
}

// Person is a borrower as ops see them: masked, unless revealed (audited).
type Person struct {
	UserID                int64
	Name, IDNumber, Phone string
	Revealed              bool
}

// Investor is one bid on the loan with what its claim has been paid and
// still has to come.
type Investor struct {
	BidID             int64
	UserID            int64
	Name              string // masked
	Amount            decimal.Decimal
	Status            lending.BidStatus
	ReceivedPrincipal decimal.Decimal
	ReceivedInterest  decimal.Decimal
	PendingPrincipal  decimal.Decimal
	PendingInterest   decimal.Decimal
}

func (s *service) Dossier(ctx context.Context, id int64) (Dossier, error) {
	return s.dossier(ctx, id, false)
}

func (s *service) Reveal(ctx context.Context, ops users.User, id int64, reason string) (Dossier, error) {
	loan, err := s.q.LoanGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return Dossier{}, errNoLoan
	}
	if err != nil {
		return Dossier{}, err
	}
	reason = strings.TrimSpace(reason)
	note := fmt.Sprintf("loan %d: %s", loan.ID, reason)
	switch {
	case reason == "":
		return Dossier{}, errs.Invalid("reason", "say why you need the full identity")
	case len(note) > audit.MaxNote:
		return Dossier{}, errs.Invalid("reason", "at most 2000 bytes")
	}
	e := audit.Entry{OpsUserID: ops.ID, Action: audit.BorrowerReveal, Target: audit.User(loan.BorrowerID), Note: note}
	if _, err := audit.Record(ctx, s.q, e); err != nil {
		return Dossier{}, err
	}
	return s.dossier(ctx, id, true)
}

func (s *service) dossier(ctx context.Context, id int64, reveal bool) (Dossier, error) {
	l, err := s.q.LoanGet(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return Dossier{}, errNoLoan
	}
	if err != nil {
		return Dossier{}, err
	}
	today, err := s.today(ctx)
	if err != nil {
		return Dossier{}, err
	}
	d := Dossier{Today: today, Loan: loanFrom(l)}
	row, err := s.q.UserGet(ctx, l.BorrowerID)
	if err != nil {
		return d, err
	}
	b, err := users.From(row)
	if err != nil {
		return d, err
	}
	d.Borrower = Person{UserID: b.ID, Name: kyc.MaskName(b.Name), IDNumber: kyc.MaskIDNumber(b.IDNumber), Phone: kyc.MaskPhone(b.Phone)}
	if reveal {
		d.Borrower = Person{UserID: b.ID, Name: b.Name, IDNumber: b.IDNumber, Phone: b.Phone, Revealed: true}
	}
	if d.Installments, err = s.installments(ctx, l.ID, today); err != nil {
		return d, err
	}
	if d.History, err = s.history(ctx, l.ID); err != nil {
		return d, err
	}
	bids, err := s.q.BidListWithShares(ctx, l.ID)
	if err != nil {
		return d, err
	}
	for _, bid := range bids {
		d.Investors = append(d.Investors, Investor{
			BidID: bid.BidID, UserID: bid.InvestorID, Name: kyc.MaskName(bid.InvestorName), Amount: bid.Amount, Status: bid.Status,
			ReceivedPrincipal: bid.ReceivedPrincipal, ReceivedInterest: bid.ReceivedInterest,
			PendingPrincipal: bid.PendingPrincipal, PendingInterest: bid.PendingInterest,
		})
	}
	return d, s.transfers(ctx, &d)
}

// transfers fills in who held each claim and every listing of them; a
// listing's seller and buyer are named by their holdings.
func (s *service) transfers(ctx context.Context, d *Dossier) error {
	holdings, err := s.q.HoldingsByLoan(ctx, d.Loan.ID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, h := range holdings {
		name := kyc.MaskName(h.HolderName)
		names[h.HolderID] = name
		d.Holdings = append(d.Holdings, Holding{ID: h.ID, BidID: h.BidID, UserID: h.HolderID, Name: name, Source: h.Source,
			Principal: h.Principal, Cost: h.Cost, Outstanding: h.Outstanding, HeldFrom: h.HeldFrom, HeldTo: h.HeldTo, Status: h.Status})
	}
	rows, err := s.q.TransferListByLoan(ctx, d.Loan.ID)
	if err != nil {
		return err
	}
	for _, t := range rows {
		tr := Transfer{ID: t.ID, BidID: t.BidID, SellerID: t.SellerID, Seller: names[t.SellerID], Discount: t.DiscountRate,
			Status: t.Status, ListedOn: t.ListedOn, ExpiresOn: t.ExpiresOn, Principal: t.Principal, Price: t.Price, Fee: t.Fee,
			ClosedOn: t.ClosedOn}
		if t.BuyerID != nil {
			tr.BuyerID, tr.Buyer = *t.BuyerID, names[*t.BuyerID]
		}
		d.Transfers = append(d.Transfers, tr)
	}
	return nil
}
