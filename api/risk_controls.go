package api

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
)

// opsRoutes mounts the risk controls ops use (issue 9) and the audit log.
func (s *Server) opsRoutes(r chi.Router) {
	ops := s.requireRole(lending.RoleOps)
	r.With(ops, s.idempotent).Post("/v1/ops/users/{id}/lock", s.userLock)
	r.With(ops, s.idempotent).Post("/v1/ops/blacklist", s.blacklistAdd)
	r.With(ops).Get("/v1/ops/audit", s.auditList)
}

type lockRequest struct {
	Locked *bool  `json:"locked"`
	Note   string `json:"note"`
}

type lockResponse struct {
	UserID int64 `json:"user_id"`
	Locked bool  `json:"locked"`
}

// userLock locks or unlocks a user (users.Service.Lock).
func (s *Server) userLock(w http.ResponseWriter, r *http.Request) {
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		s.writeError(w, r, errs.New(errs.NotFound, "no such user"))
		return
	}
	var req lockRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	if req.Locked == nil {
		fields = append(fields, FieldError{Field: "locked", Message: "required: true or false"})
	}
	if n := strings.TrimSpace(req.Note); n == "" || len(n) > audit.MaxNote {
		fields = append(fields, FieldError{Field: "note", Message: "required, at most 2000 bytes: say why"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	me, _ := userFrom(r.Context())
	out, err := s.users.Lock(r.Context(), me.ID, id, *req.Locked, req.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, lockResponse{UserID: out.ID, Locked: out.Locked})
}

type blacklistRequest struct {
	IDNumber string `json:"id_number"`
	Note     string `json:"note"`
}

type blacklistResponse struct {
	IDNumber string    `json:"id_number"`
	Note     string    `json:"note"`
	AddedAt  time.Time `json:"added_at"`
}

// blacklistAdd puts an ID number on the blacklist (users.Service.Blacklist).
func (s *Server) blacklistAdd(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req blacklistRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	if !kyc.ValidIDNumber(req.IDNumber) {
		fields = append(fields, FieldError{Field: "id_number", Message: "must be an 18-character resident ID number with a valid check digit"})
	}
	if n := strings.TrimSpace(req.Note); n == "" || len(n) > audit.MaxNote {
		fields = append(fields, FieldError{Field: "note", Message: "required, at most 2000 bytes: say why"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	row, err := s.users.Blacklist(r.Context(), me.ID, req.IDNumber, req.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, blacklistResponse{IDNumber: row.IDNumber, Note: row.Note, AddedAt: row.AddedAt})
}
