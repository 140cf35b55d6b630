package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
)

type maskedBorrower struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

type listingItem struct {
	LoanID          int64          `json:"loan_id"`
	Status          lending.Status `json:"status"`
	Amount          string         `json:"amount"`
	Raised          string         `json:"raised"`
	Remaining       string         `json:"remaining"`
	TermMonths      int            `json:"term_months"`
	AnnualRate      *string        `json:"annual_rate"`
	Grade           *string        `json:"grade"`
	RepaymentMethod string         `json:"repayment_method"`
	Purpose         string         `json:"purpose"`
	Newbie          bool           `json:"newbie"`
	ExpiresAt       *time.Time     `json:"expires_at"`
	Borrower        maskedBorrower `json:"borrower"`
	// Schedule is the calculator's installments for disbursement on the
	// business date (loans.Listing).
	Schedule []calcInstallment `json:"schedule"`
}

// listing is a loan as its listing discloses it (loans.Listing: the
// borrower masked, docs/rules.md "Disclosure").
func listing(l loans.Listing) listingItem {
	loan := l.Loan
	return listingItem{
		LoanID: loan.ID, Status: loan.Status, Amount: fmtMoney(loan.Amount), Raised: fmtMoney(loan.Raised),
		Remaining: fmtMoney(loan.Remaining()), TermMonths: loan.TermMonths, AnnualRate: rateString(loan.AnnualRate),
		Grade: loan.Grade, RepaymentMethod: loan.RepaymentMethod, Purpose: loan.Purpose, Newbie: loan.Newbie,
		ExpiresAt: expiresAt(loan.ListingExpiresOn),
		Borrower:  maskedBorrower{Name: l.Borrower.Name, IDNumber: l.Borrower.IDNumber, Phone: l.Borrower.Phone},
		Schedule:  installmentsBody(l.Schedule),
	}
}

func (s *Server) listingList(w http.ResponseWriter, r *http.Request) {
	var fields []FieldError
	before, pageSize := pageAsked(r, &fields)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	rows, err := s.loans.Listings(r.Context(), before, pageSize+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(rows, pageSize, listing, func(l loans.Listing) string { return idCursor(l.Loan.ID) }))
}

func (s *Server) listingGet(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	l, err := s.loans.Listing(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listing(l))
}

type bidResponse struct {
	BidID     int64             `json:"bid_id"`
	LoanID    int64             `json:"loan_id"`
	Amount    string            `json:"amount"`
	Status    lending.BidStatus `json:"status"`
	CreatedAt time.Time         `json:"created_at"`
}

func bidBody(b bidding.Bid) bidResponse {
	return bidResponse{BidID: b.ID, LoanID: b.LoanID, Amount: fmtMoney(b.Amount), Status: b.Status, CreatedAt: b.CreatedAt}
}

// bidRequest is a bid: its amount and, optionally, the investor's coupon
// (docs/coupons.md).
type bidRequest struct {
	Amount   string `json:"amount"`
	CouponID *int64 `json:"coupon_id"`
}

// bidCreate admits a bid (docs/api.md "Endpoints"): 201 frozen,
// or 202 pending when the bank has not answered yet (the sweep settles it;
// GET /v1/me/bids shows how). Under an Idempotency-Key the bid carries the
// key, so the same request sent again answers the same bid as it is now,
// never a second one (docs/idempotency.md). A coupon that may not go with
// the bid refuses it whole, coupon_not_usable.
func (s *Server) bidCreate(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.writeError(w, r, errs.New(errs.NotFound, "no such listing"))
		return
	}
	var req bidRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	amount, fe := parseMoney("amount", req.Amount)
	if fe != nil {
		s.writeError(w, r, Validation(*fe))
		return
	}
	var couponID int64
	if req.CouponID != nil {
		couponID = *req.CouponID
		if couponID <= 0 {
			s.writeError(w, r, Validation(FieldError{Field: "coupon_id", Message: "coupon_id is a coupon's id"}))
			return
		}
	}
	// The client may hang up; the bid goes on (its freeze wait is bounded)
	// so that a retry finds it settled. The business date is read with the
	// bid's other facts, and the key claimed beside it (idempotentBid).
	ctx := context.WithoutCancel(r.Context())
	c := bidClaim(r.Context())
	if c != nil {
		c.Answer = func(b bidding.Bid) []byte { return jsonBytes(bidBody(b)) }
	}
	bid, err := s.Bids.PlaceClaimed(ctx, c, me.ID, id, amount, couponID)
	if errors.Is(err, bidding.ErrKeyTaken) {
		return // idempotentBid answers
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if c != nil && c.Stored {
		writeJSONBytes(w, http.StatusCreated, c.StoredBody)
		return
	}
	status := http.StatusCreated
	if bid.Status == lending.BidPending {
		status = http.StatusAccepted
	}
	writeJSON(w, status, bidBody(bid))
}

// myBids lists the investor's bids, newest first, keyset-paged by bid id.
func (s *Server) myBids(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var fields []FieldError
	var before *int64
	id, limit := pageAsked(r, &fields)
	if id > 0 {
		before = &id
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	bids, err := s.Bids.ListByInvestor(r.Context(), me.ID, before, limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(bids, limit, bidBody, func(b bidding.Bid) string { return idCursor(b.ID) }))
}

type holdingItem struct {
	HoldingID         *int64 `json:"holding_id"`
	LoanID            int64  `json:"loan_id"`
	BidID             int64  `json:"bid_id"`
	Source            string `json:"source"`
	Principal         string `json:"principal"`
	ReceivedPrincipal string `json:"received_principal"`
	ReceivedInterest  string `json:"received_interest"`
	PendingPrincipal  string `json:"pending_principal"`
	PendingInterest   string `json:"pending_interest"`
	Status            string `json:"status"`
}

// holdings lists the investor's claims (claims.HoldingsOf): each holding,
// held or transferred, and each bid not yet disbursed (no holding yet).
func (s *Server) holdings(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	views, err := s.Transfers.Holdings(r.Context(), me.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items []holdingItem `json:"items"`
	}{Items: []holdingItem{}}
	for _, h := range views {
		item := holdingItem{LoanID: h.LoanID, BidID: h.BidID, Source: h.Source, Principal: fmtMoney(h.Principal),
			ReceivedPrincipal: fmtMoney(h.ReceivedPrincipal), ReceivedInterest: fmtMoney(h.ReceivedInterest),
			PendingPrincipal: fmtMoney(h.PendingPrincipal), PendingInterest: fmtMoney(h.PendingInterest), Status: h.Status}
		if h.ID != 0 {
			id := h.ID
			item.HoldingID = &id
		}
		out.Items = append(out.Items, item)
	}
	writeJSON(w, http.StatusOK, out)
}
