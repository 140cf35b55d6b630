package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/transfer"
)

// Debt transfer (docs/transfer.md, docs/api.md "Transfers"): each handler
// decodes, makes one call to the transfer service, and answers.
func (s *Server) transferRoutes(r chi.Router) {
	inv := s.requireRole(lending.RoleInvestor)
	r.With(inv, s.idempotent).Post("/v1/me/holdings/{id}/transfer", s.transferOffer)
	r.With(inv).Get("/v1/transfers", s.transferList)
	r.With(inv).Get("/v1/transfers/{id}", s.transferGet)
	r.With(inv, s.idempotent).Post("/v1/transfers/{id}/purchase", s.transferPurchase)
	r.With(inv, s.idempotent).Post("/v1/transfers/{id}/cancel", s.transferCancel)
	r.With(inv).Get("/v1/me/transfers", s.myTransfers)
}

type transferOfferRequest struct {
	DiscountRate string `json:"discount_rate"`
}

// transferItem is a listing as buyers browse it; status is set on one
// listing asked for by id. Figures are today's while it is open, the sale's
// once sold.
type transferItem struct {
	TransferID            int64   `json:"transfer_id"`
	LoanID                int64   `json:"loan_id"`
	HoldingID             *int64  `json:"holding_id,omitempty"`
	Grade                 string  `json:"grade"`
	AnnualRate            string  `json:"annual_rate"`
	Principal             *string `json:"principal"`
	AccruedInterest       *string `json:"accrued_interest"`
	Price                 *string `json:"price"`
	Fee                   *string `json:"fee,omitempty"`
	DiscountRate          string  `json:"discount_rate"`
	RemainingInstallments int     `json:"remaining_installments"`
	NextDueDate           *string `json:"next_due_date"`
	ExpiresOn             string  `json:"expires_on"`
	Status                string  `json:"status,omitempty"`
}

func transferBody(l transfer.Listing) transferItem {
	it := transferItem{TransferID: l.ID, LoanID: l.LoanID, Grade: l.Grade, AnnualRate: l.AnnualRate.String(),
		DiscountRate: l.Discount.StringFixed(discountPlaces(l.Discount)), RemainingInstallments: l.Installments,
		ExpiresOn: l.ExpiresOn.Format(time.DateOnly)}
	if l.Priced {
		p, a, price := fmtMoney(l.Quote.Principal), fmtMoney(l.Quote.Accrued), fmtMoney(l.Quote.Price)
		it.Principal, it.AccruedInterest, it.Price = &p, &a, &price
	}
	if !l.NextDueDate.IsZero() {
		d := l.NextDueDate.Format(time.DateOnly)
		it.NextDueDate = &d
	}
	return it
}

// discountPlaces shows a discount with 2 places, or 4 when it has them.
func discountPlaces(d decimal.Decimal) int32 {
	if d.Equal(d.Truncate(2)) {
		return 2
	}
	return 4
}

// transferOffer lists one of the caller's holdings for sale, priced today.
func (s *Server) transferOffer(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req transferOfferRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	discount, fe := parseRate("discount_rate", req.DiscountRate, transfer.MaxDiscount)
	if fe != nil {
		s.writeError(w, r, Validation(*fe))
		return
	}
	l, err := s.Transfers.Offer(r.Context(), me.ID, id, discount, idempotencyKey(r.Context()))
	if err != nil {
		s.transferFailed(w, r, "/v1/me/transfers", err)
		return
	}
	it := transferBody(l)
	it.HoldingID, it.Status = &l.HoldingID, string(l.Status)
	fee := fmtMoney(l.Quote.Fee)
	it.Fee = &fee
	writeJSON(w, http.StatusCreated, it)
}

// transferList is the open listings, priced today, newest first.
func (s *Server) transferList(w http.ResponseWriter, r *http.Request) {
	var fields []FieldError
	before, limit := pageAsked(r, &fields)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	ls, err := s.Transfers.Browse(r.Context(), beforeID(before), limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(ls, limit, transferBody, func(l transfer.Listing) string { return idCursor(l.ID) }))
}

// transferGet is one listing: an open one, or one the caller sold or bought.
func (s *Server) transferGet(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := s.Transfers.Get(r.Context(), me.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	it := transferBody(l)
	it.Status = string(l.Status)
	writeJSON(w, http.StatusOK, it)
}

type purchaseResponse struct {
	TransferID int64  `json:"transfer_id"`
	Price      string `json:"price"`
	HoldingID  int64  `json:"holding_id"`
	Status     string `json:"status"`
}

// transferPurchase buys a listing (with the caller's Idempotency-Key).
func (s *Server) transferPurchase(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	if err := requireNoBody(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.Transfers.Purchase(r.Context(), me.ID, id, idempotencyKey(r.Context()))
	if err != nil {
		s.transferFailed(w, r, fmt.Sprintf("/v1/transfers/%d", id), err)
		return
	}
	writeJSON(w, http.StatusCreated, purchaseResponse{TransferID: b.TransferID, Price: fmtMoney(b.Price), HoldingID: b.HoldingID,
		Status: string(b.Status)})
}

// transferCancel closes the caller's listing.
func (s *Server) transferCancel(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	if err := requireNoBody(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := s.Transfers.Cancel(r.Context(), me.ID, id)
	if err != nil {
		s.transferFailed(w, r, fmt.Sprintf("/v1/transfers/%d", id), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"transfer_id": l.ID, "status": l.Status})
}

type myTransferItem struct {
	TransferID int64     `json:"transfer_id"`
	LoanID     int64     `json:"loan_id"`
	Role       string    `json:"role"`
	Status     string    `json:"status"`
	Price      *string   `json:"price"`
	Fee        *string   `json:"fee"`
	At         time.Time `json:"at"`
}

// myTransfers is the caller's transfers as seller and as buyer, newest first.
func (s *Server) myTransfers(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var fields []FieldError
	before, limit := pageAsked(r, &fields)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	ls, err := s.Transfers.Mine(r.Context(), me.ID, beforeID(before), limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	item := func(l transfer.Listing) myTransferItem { return transferOf(l, me.ID) }
	writeJSON(w, http.StatusOK, onePage(ls, limit, item, func(l transfer.Listing) string { return idCursor(l.ID) }))
}

// transferFailed answers a transfer request's error: 202 while the loan is
// still carrying it out (poll names where to look; the same request sent
// again with its Idempotency-Key answers the outcome), the problem otherwise.
func (s *Server) transferFailed(w http.ResponseWriter, r *http.Request, poll string, err error) {
	if !errors.Is(err, transfer.ErrProcessing) {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", poll)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "processing", "poll": poll})
}

func beforeID(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

// pathID is the {id} of a transfer or a holding: one that cannot be an id
// is one that does not exist.
func pathID(r *http.Request) (int64, error) {
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		return 0, errs.New(errs.NotFound, "not found")
	}
	return id, nil
}
