package api

import (
	"net/http"
	"time"

	"github.com/lendflow/lendflow/audit"
)

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
	items, err := s.audit.List(r.Context(), audit.Filter{BeforeID: before, Target: target, Action: action, Limit: limit + 1})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, onePage(items, limit, func(it audit.Item) auditItem {
		return auditItem{ID: it.ID, At: it.At, OpsUserID: it.OpsUserID, Action: it.Action, Target: it.Target, Note: it.Note}
	}, func(it audit.Item) string { return idCursor(it.ID) }))
}
