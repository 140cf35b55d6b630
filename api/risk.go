package api

import (
	"net/http"
)

type riskRequest struct {
	Answers []int `json:"answers"`
}

// riskAssessment records the investor's risk level (users.Service.AssessRisk).
func (s *Server) riskAssessment(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req riskRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	level, err := s.users.AssessRisk(r.Context(), me.ID, req.Answers)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"risk_level": string(level)})
}
