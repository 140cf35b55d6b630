package api

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
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

// userLock locks or unlocks a user: a locked user cannot bid or withdraw
// (account_locked; bidding and accounts check it). The change and its audit
// record commit together.
func (s *Server) userLock(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
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
	action := audit.UserUnlock
	if *req.Locked {
		action = audit.UserLock
	}
	var out dbq.UserSetLockedRow
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if out, err = q.UserSetLocked(ctx, dbq.UserSetLockedParams{ID: id, Locked: *req.Locked}); err != nil {
			return err
		}
		return s.audit(ctx, q, action, audit.User(id), strings.TrimSpace(req.Note))
	})
	if errors.Is(err, db.ErrNotFound) {
		err = errs.New(errs.NotFound, "no such user")
	}
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

// blacklistAdd puts an ID number on the blacklist: screening rejects every
// later application under it (docs/rules.md "screening"). Adding a number already
// listed is 409 conflict. The audit log names the number masked; the
// blacklist row keeps it whole, with who added it.
func (s *Server) blacklistAdd(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, _ := userFrom(ctx)
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
	idNumber, note := strings.ToUpper(req.IDNumber), strings.TrimSpace(req.Note)
	var row dbq.Blacklist
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if row, err = q.BlacklistInsert(ctx, dbq.BlacklistInsertParams{IDNumber: idNumber, Reason: note, AddedBy: &me.ID}); err != nil {
			return err
		}
		return s.audit(ctx, q, audit.BlacklistAdd, audit.IDNumber(kyc.MaskIDNumber(idNumber)), note)
	})
	if errors.Is(err, db.ErrNotFound) {
		err = errs.New(errs.Conflict, "already on the blacklist")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, blacklistResponse{IDNumber: row.IDNumber, Note: row.Reason, AddedAt: row.AddedAt})
}
