package api

import (
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// Coupons and the bonus account (docs/coupons.md, docs/api.md "Coupons"):
// each handler decodes, makes one call to the coupons service, and answers.
func (s *Server) couponRoutes(r chi.Router) {
	inv := s.requireRole(lending.RoleInvestor)
	ops := s.requireRole(lending.RoleOps)
	r.With(inv).Get("/v1/me/coupons", s.myCoupons)
	r.With(ops, s.idempotent).Post("/v1/ops/coupons", s.couponGrant)
	r.With(ops, s.idempotent).Post("/v1/ops/bonus-account/top-ups", s.bonusTopUp)
	r.With(ops).Get("/v1/ops/bonus-account", s.bonusAccount)
	r.With(ops).Get("/v1/ops/bonus-payments", s.bonusPaymentsFailed)
	r.With(ops, s.idempotent).Post("/v1/ops/bonus-payments/{id}/retry", s.bonusPaymentRetry)
}

// couponItem is a coupon as its investor and ops read it.
type couponItem struct {
	CouponID  int64   `json:"coupon_id"`
	UserID    int64   `json:"user_id"`
	Kind      string  `json:"kind"`
	Amount    *string `json:"amount,omitempty"`
	ExtraRate *string `json:"extra_rate,omitempty"`
	Months    *int    `json:"months,omitempty"`
	MinBid    string  `json:"min_bid"`
	ExpiresOn string  `json:"expires_on"`
	Status    string  `json:"status"`
	LoanID    *int64  `json:"loan_id,omitempty"`
	Paid      string  `json:"paid"`
	Note      string  `json:"note,omitempty"`
}

func couponBody(c coupons.Coupon) couponItem {
	it := couponItem{CouponID: c.ID, UserID: c.UserID, Kind: string(c.Kind), MinBid: fmtMoney(c.MinBid),
		ExpiresOn: c.ExpiresOn.Format(time.DateOnly), Status: string(c.Status), LoanID: c.LoanID, Paid: fmtMoney(c.Paid), Note: c.Note}
	if c.Kind == coupons.Cash {
		a := fmtMoney(c.Amount)
		it.Amount = &a
	} else {
		r, m := c.ExtraRate.String(), c.Months
		it.ExtraRate, it.Months = &r, &m
	}
	return it
}

// myCoupons lists the caller's coupons, newest first.
func (s *Server) myCoupons(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	cs, err := s.Coupons.List(r.Context(), me.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items []couponItem `json:"items"`
	}{Items: []couponItem{}}
	for _, c := range cs {
		out.Items = append(out.Items, couponBody(c))
	}
	writeJSON(w, http.StatusOK, out)
}

type couponGrantRequest struct {
	UserID    int64  `json:"user_id"`
	Kind      string `json:"kind"`
	Amount    string `json:"amount"`
	ExtraRate string `json:"extra_rate"`
	Months    int    `json:"months"`
	MinBid    string `json:"min_bid"`
	ExpiresOn string `json:"expires_on"`
	Note      string `json:"note"`
}

// couponGrant grants an investor a coupon: 201, or 409 bonus_budget_exceeded.
func (s *Server) couponGrant(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req couponGrantRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, fields := grantFrom(req)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	g.OpsID, g.Key = me.ID, idempotencyKey(r.Context())
	c, err := s.Coupons.Grant(r.Context(), g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, couponBody(c))
}

// grantFrom reads a grant's fields; the service judges what they mean
// together (coupons.Grant.Check).
func grantFrom(req couponGrantRequest) (coupons.Grant, []FieldError) {
	var fields []FieldError
	g := coupons.Grant{UserID: req.UserID, Kind: coupons.Kind(req.Kind), Months: req.Months, Note: req.Note}
	if req.UserID <= 0 {
		fields = append(fields, FieldError{Field: "user_id", Message: "an investor's user id"})
	}
	switch g.Kind {
	case coupons.Cash:
		a, fe := parseMoney("amount", req.Amount)
		if fe != nil {
			fields = append(fields, *fe)
		}
		g.Amount = a
	case coupons.Interest:
		rate, fe := parseRate("extra_rate", req.ExtraRate, coupons.MaxExtraRate)
		if fe != nil {
			fields = append(fields, *fe)
		}
		g.ExtraRate = rate
	default:
		fields = append(fields, FieldError{Field: "kind", Message: "cash or interest"})
	}
	g.MinBid = decimal.Zero
	if req.MinBid != "" {
		m, fe := parseMoneyOrZero("min_bid", req.MinBid)
		if fe != nil {
			fields = append(fields, *fe)
		}
		g.MinBid = m
	}
	d, fe := parseDate("expires_on", req.ExpiresOn)
	if fe != nil {
		fields = append(fields, *fe)
	}
	g.ExpiresOn = d
	return g, fields
}

type bonusTopUpItem struct {
	ID     int64  `json:"id"`
	Amount string `json:"amount"`
	Status string `json:"status"`
}

// bonusTopUp fills the bonus account from the platform's card.
func (s *Server) bonusTopUp(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	amount, ok := s.amount(w, r)
	if !ok {
		return
	}
	t, err := s.Coupons.TopUp(r.Context(), me.ID, idempotencyKey(r.Context()), amount)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, bonusTopUpItem{ID: t.ID, Amount: fmtMoney(t.Amount), Status: t.Status})
}

type bonusAccountBody struct {
	Available   string `json:"available"`
	Liabilities string `json:"liabilities"`
	Headroom    string `json:"headroom"`
}

// bonusAccount is the bonus account's available balance, liabilities and
// headroom.
func (s *Server) bonusAccount(w http.ResponseWriter, r *http.Request) {
	b, err := s.Coupons.Budget(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bonusAccountBody{Available: fmtMoney(b.Available), Liabilities: fmtMoney(b.Liabilities), Headroom: fmtMoney(b.Headroom)})
}

type bonusPaymentItem struct {
	PaymentID   int64  `json:"payment_id"`
	CouponID    int64  `json:"coupon_id"`
	LoanID      int64  `json:"loan_id"`
	UserID      int64  `json:"user_id"`
	Installment int    `json:"installment"`
	Amount      string `json:"amount"`
	Status      string `json:"status"`
	Attempt     int    `json:"attempt"`
	RequestNo   string `json:"request_no"`
	FailureCode string `json:"failure_code,omitempty"`
}

func bonusPaymentBody(p coupons.Payment) bonusPaymentItem {
	return bonusPaymentItem{PaymentID: p.ID, CouponID: p.CouponID, LoanID: p.LoanID, UserID: p.UserID, Installment: p.Installment,
		Amount: fmtMoney(p.Amount), Status: p.Status, Attempt: p.Attempt, RequestNo: p.RequestNo, FailureCode: p.FailureCode}
}

// bonusPaymentsFailed is ops' task list: bonus payments the bank refused.
func (s *Server) bonusPaymentsFailed(w http.ResponseWriter, r *http.Request) {
	ps, err := s.Coupons.Failed(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items []bonusPaymentItem `json:"items"`
	}{Items: []bonusPaymentItem{}}
	for _, p := range ps {
		out.Items = append(out.Items, bonusPaymentBody(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// bonusPaymentRetry sends a refused bonus payment again.
func (s *Server) bonusPaymentRetry(w http.ResponseWriter, r *http.Request) {
	if err := requireNoBody(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		s.writeError(w, r, errs.New(errs.NotFound, "no such coupon payment"))
		return
	}
	me, _ := userFrom(r.Context())
	p, err := s.Coupons.Retry(r.Context(), me.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bonusPaymentBody(p))
}
