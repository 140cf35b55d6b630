package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
)

func (s *Server) cardRoutes(r chi.Router) {
	r.With(s.requireRole(lending.RoleBorrower, lending.RoleInvestor, lending.RoleGuarantor), s.idempotent).Post("/v1/me/card", s.cardChange)
}

type cardRequest struct {
	CardNumber string `json:"card_number"`
}

// cardChange binds a new card (换卡) under the rule of accounts.ChangeCard.
func (s *Server) cardChange(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req cardRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.CardNumber) > 32 {
		s.writeError(w, r, Validation(FieldError{Field: "card_number", Message: "not a valid bank card number"}))
		return
	}
	err := s.Accounts.ChangeCard(r.Context(), me.ID, req.CardNumber)
	if errs.Code(err) == errs.ValidationFailed {
		err = Validation(FieldError{Field: "card_number", Message: "not a valid bank card number"})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"card_number": kyc.MaskCard(req.CardNumber)})
}
