package api

import (
	"errors"
	"net/http"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/money"
)

type riskRequest struct {
	Answers []int `json:"answers"`
}

// riskAssessment records the investor's risk level (风险测评); bids are then
// checked against it (docs/rules.md "Money rules", who may bid). Answering again replaces the level.
func (s *Server) riskAssessment(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req riskRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	level, err := money.RiskLevelFromAnswers(req.Answers)
	if errors.Is(err, money.ErrAssessment) {
		s.writeError(w, r, Validation(FieldError{Field: "answers", Message: err.Error()}))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := string(level)
	if err := s.Q.UserSetRiskLevel(r.Context(), dbq.UserSetRiskLevelParams{ID: me.ID, RiskLevel: &l}); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"risk_level": l})
}
