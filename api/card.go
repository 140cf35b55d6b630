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

// cardRequest is the body of a custody-account opening and of a card change.
type cardRequest struct {
	CardNumber string `json:"card_number"`
}

// badCard is the one answer to a card number that is not one: longer than
// any card, or refused by its check digit.
var badCard = FieldError{Field: "card_number", Message: "not a valid bank card number"}

// cardFrom reads a {card_number} body.
func cardFrom(r *http.Request) (string, error) {
	var req cardRequest
	if err := decodeJSON(r, &req); err != nil {
		return "", err
	}
	if len(req.CardNumber) > 32 {
		return "", Validation(badCard)
	}
	return req.CardNumber, nil
}

// cardRefused answers the accounts package's check-digit refusal as the field's.
func cardRefused(err error) error {
	if errs.Code(err) == errs.ValidationFailed {
		return Validation(badCard)
	}
	return err
}

// cardChange binds a new card (换卡) under the rule of accounts.ChangeCard.
func (s *Server) cardChange(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	card, err := cardFrom(r)
	if err == nil {
		err = cardRefused(s.Accounts.ChangeCard(r.Context(), me.ID, card))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"card_number": kyc.MaskCard(card)})
}
