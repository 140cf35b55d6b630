package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/coupons"
)

// consoleCoupons is the bonus account's page (docs/coupons.md): its
// available balance, liabilities and headroom, the top-up and grant forms,
// and the payments the bank refused with their retry buttons: the same
// calls as GET /v1/ops/bonus-account, POST /v1/ops/bonus-account/top-ups,
// POST /v1/ops/coupons, GET /v1/ops/bonus-payments and their retry.
func (s *Server) consoleCoupons(w http.ResponseWriter, r *http.Request) {
	v, err := s.couponsView(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "grant":
		v.Flash = "Coupon " + r.URL.Query().Get("coupon") + " is granted."
	case "top-up":
		v.Flash = "The bonus account is topped up."
	case "retry":
		v.Flash = "Payment " + r.URL.Query().Get("payment") + " was sent again: " + r.URL.Query().Get("status") + "."
	}
	s.render(w, r, http.StatusOK, "coupons", v)
}

func (s *Server) couponsView(r *http.Request) (console.CouponsView, error) {
	ctx := r.Context()
	v := console.CouponsView{Page: s.page(ctx, "Coupons", "coupons"), Kind: "cash"}
	b, err := s.Coupons.Budget(ctx)
	if err != nil {
		return v, err
	}
	v.Available, v.Liabilities, v.Headroom = fmtMoney(b.Available), fmtMoney(b.Liabilities), fmtMoney(b.Headroom)
	failed, err := s.Coupons.Failed(ctx)
	if err != nil {
		return v, err
	}
	for _, p := range failed {
		v.Failed = append(v.Failed, console.BonusPaymentRow{ID: p.ID, LoanID: p.LoanID, UserID: p.UserID, CouponID: p.CouponID,
			Installment: p.Installment, Amount: fmtMoney(p.Amount), Attempt: p.Attempt, Code: p.FailureCode})
	}
	return v, nil
}

// consoleCouponsRefused shows the page again with the refusal and what ops
// typed.
func (s *Server) consoleCouponsRefused(w http.ResponseWriter, r *http.Request, err error, keep func(*console.CouponsView)) {
	prob, known := consoleProblem(err)
	if !known {
		s.consoleFail(w, r, err)
		return
	}
	v, verr := s.couponsView(r)
	if verr != nil {
		s.consoleFail(w, r, verr)
		return
	}
	v.Problem = prob
	keep(&v)
	s.render(w, r, prob.Status, "coupons", v)
}

// consoleCouponGrant grants a coupon through coupons.Service.Grant, as
// POST /v1/ops/coupons does.
func (s *Server) consoleCouponGrant(w http.ResponseWriter, r *http.Request) {
	form, err := consoleForm(r, "user_id", "kind", "amount", "extra_rate", "months", "min_bid", "expires_on", "note")
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	req := couponGrantRequest{Kind: form.Get("kind"), Amount: form.Get("amount"), ExtraRate: form.Get("extra_rate"),
		MinBid: form.Get("min_bid"), ExpiresOn: form.Get("expires_on"), Note: form.Get("note")}
	var fields []FieldError
	if id, fe := parseInt("user_id", form.Get("user_id"), 1, math.MaxInt64); fe != nil {
		fields = append(fields, *fe)
	} else {
		req.UserID = id
	}
	if req.Kind == string(coupons.Interest) {
		m, fe := parseInt("months", form.Get("months"), 1, int64(coupons.MaxMonths))
		if fe != nil {
			fields = append(fields, *fe)
		}
		req.Months = int(m)
	}
	g, more := grantFrom(req)
	fields = append(fields, more...)
	var c coupons.Coupon
	if len(fields) > 0 {
		err = Validation(fields...)
	} else {
		me, _ := userFrom(r.Context())
		g.OpsID = me.ID
		c, err = s.Coupons.Grant(r.Context(), g)
	}
	if err != nil {
		s.consoleCouponsRefused(w, r, err, func(v *console.CouponsView) {
			v.UserID, v.Kind, v.Amount, v.ExtraRate, v.Months = form.Get("user_id"), form.Get("kind"), form.Get("amount"), form.Get("extra_rate"), form.Get("months")
			v.MinBid, v.ExpiresOn, v.Note = form.Get("min_bid"), form.Get("expires_on"), form.Get("note")
		})
		return
	}
	http.Redirect(w, r, consolePrefix+"coupons?"+url.Values{"done": {"grant"}, "coupon": {strconv.FormatInt(c.ID, 10)}}.Encode(), http.StatusSeeOther)
}

// consoleBonusTopUp tops the bonus account up through coupons.Service.TopUp,
// as POST /v1/ops/bonus-account/top-ups does.
func (s *Server) consoleBonusTopUp(w http.ResponseWriter, r *http.Request) {
	form, err := consoleForm(r, "amount")
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	amount, fe := parseMoney("amount", form.Get("amount"))
	if fe != nil {
		err = Validation(*fe)
	} else {
		me, _ := userFrom(r.Context())
		_, err = s.Coupons.TopUp(r.Context(), me.ID, "", amount)
	}
	if err != nil {
		s.consoleCouponsRefused(w, r, err, func(v *console.CouponsView) { v.TopUp = form.Get("amount") })
		return
	}
	http.Redirect(w, r, consolePrefix+"coupons?done=top-up", http.StatusSeeOther)
}

// consoleBonusRetry sends a refused payment again through
// coupons.Service.Retry, as POST /v1/ops/bonus-payments/{id}/retry does.
func (s *Server) consoleBonusRetry(w http.ResponseWriter, r *http.Request) {
	if _, err := consoleForm(r); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		s.consoleFail(w, r, Validation(*fe))
		return
	}
	me, _ := userFrom(r.Context())
	p, err := s.Coupons.Retry(r.Context(), me.ID, id)
	if err != nil {
		s.consoleCouponsRefused(w, r, err, func(*console.CouponsView) {})
		return
	}
	http.Redirect(w, r, consolePrefix+"coupons?"+url.Values{"done": {"retry"}, "payment": {fmt.Sprint(p.ID)}, "status": {p.Status}}.Encode(),
		http.StatusSeeOther)
}
