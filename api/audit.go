package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/workflows"
)

// auditedUpdates are the loan updates ops send, by the action each is.
var auditedUpdates = map[string]audit.Action{
	workflows.UpdateDueDiligence:     audit.DueDiligence,
	workflows.UpdateFullTenderReview: audit.FullTenderReview,
	workflows.UpdateWriteOff:         audit.WriteOff,
	workflows.UpdateRetryDisbursal:   audit.DisbursementRetry,
}

// audit records an ops action by the signed-in caller (an ops route, behind
// requireRole). Call it with db.Queries(tx) of the transaction that makes the
// effect and return its error from that transaction, so the effect and its
// record commit together:
//
//	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
//		q := db.Queries(tx)
//		... the effect, with q ...
//		return s.audit(ctx, q, audit.Recovery, audit.Loan(id), req.Note)
//	})
//
// A nil q records on the pool.
func (s *Server) audit(ctx context.Context, q *dbq.Queries, action audit.Action, target, note string) error {
	me, ok := userFrom(ctx)
	if !ok {
		return errs.New(errs.Unauthenticated, "an ops action without a caller")
	}
	if q == nil {
		q = s.Q
	}
	_, err := audit.Record(ctx, q, audit.Entry{OpsUserID: me.ID, Action: action, Target: target, Note: note})
	return err
}

// recordAudit records an action whose effect is already done outside the
// database (a Temporal update). The client has its answer coming either way;
// a record that fails is logged loudly, with everything it would have said.
func (s *Server) recordAudit(ctx context.Context, q *dbq.Queries, action audit.Action, target, note string) {
	if err := s.audit(context.WithoutCancel(ctx), q, action, target, note); err != nil {
		me, _ := userFrom(ctx)
		s.Logger.Error("audit record lost", "request_id", middleware.GetReqID(ctx), "ops_user_id", me.ID,
			"action", action, "target", target, "note", note, "error", err)
	}
}

type auditItem struct {
	ID        int64        `json:"id"`
	At        time.Time    `json:"at"`
	OpsUserID int64        `json:"ops_user_id"`
	Action    audit.Action `json:"action"`
	Target    string       `json:"target"`
	Note      string       `json:"note"`
}

// auditList reads the audit log newest first (`GET /v1/ops/audit`),
// optionally of one target (`loan:42`) or one action.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var fields []FieldError
	before, limit := pageAsked(r, &fields)
	action := audit.Action(q.Get("action"))
	if action != "" && !action.Valid() {
		fields = append(fields, FieldError{Field: "action", Message: "not an audit action"})
	}
	target := q.Get("target")
	if len(target) > 200 {
		fields = append(fields, FieldError{Field: "target", Message: "at most 200 bytes"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	items, err := audit.List(r.Context(), s.Q, audit.Filter{BeforeID: before, Target: target, Action: action, Limit: limit + 1})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(items, limit, func(it audit.Item) auditItem {
		return auditItem{ID: it.ID, At: it.At, OpsUserID: it.OpsUserID, Action: it.Action, Target: it.Target, Note: it.Note}
	}, func(it audit.Item) string { return idCursor(it.ID) }))
}
