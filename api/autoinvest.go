package api

import (
	"net/http"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
)

type autoInvestRule struct {
	Enabled       bool   `json:"enabled"`
	AmountPerLoan string `json:"amount_per_loan"`
	MinAnnualRate string `json:"min_annual_rate"`
	MaxTermMonths int    `json:"max_term_months"`
	MaxGrade      string `json:"max_grade"`
	KeepAvailable string `json:"keep_available"`
}

// autoInvestPut sets the investor's auto-invest rule (自动投标;
// bidding.Service.SetAutoInvest).
func (s *Server) autoInvestPut(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req autoInvestRule
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	amount, fe := parseMoney("amount_per_loan", req.AmountPerLoan)
	if fe != nil {
		fields = append(fields, *fe)
	} else if amount.LessThan(bidding.MinimumBid) || !amount.Mod(bidding.BidMultiple).IsZero() {
		fields = append(fields, FieldError{Field: "amount_per_loan", Message: "at least 100.00, in whole yuan"})
	}
	rate, fe := parseRate("min_annual_rate", req.MinAnnualRate, lending.MaxAnnualRate)
	if fe != nil {
		fields = append(fields, *fe)
	}
	if req.MaxTermMonths < 1 || req.MaxTermMonths > 36 {
		fields = append(fields, FieldError{Field: "max_term_months", Message: "1 to 36"})
	}
	if _, err := money.TermsFor(money.Grade(req.MaxGrade)); err != nil {
		fields = append(fields, FieldError{Field: "max_grade", Message: "A to E"})
	}
	keep, fe := parseMoneyOrZero("keep_available", req.KeepAvailable)
	if fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	rule, err := s.Bids.SetAutoInvest(r.Context(), me.ID, bidding.Rule{Enabled: req.Enabled, AmountPerLoan: amount,
		MinAnnualRate: rate, MaxTermMonths: req.MaxTermMonths, MaxGrade: req.MaxGrade, KeepAvailable: keep})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, autoInvestRule{
		Enabled: rule.Enabled, AmountPerLoan: fmtMoney(rule.AmountPerLoan), MinAnnualRate: rule.MinAnnualRate.String(),
		MaxTermMonths: rule.MaxTermMonths, MaxGrade: rule.MaxGrade, KeepAvailable: fmtMoney(rule.KeepAvailable),
	})
}
