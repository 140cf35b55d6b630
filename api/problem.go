package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/errs"
)

// FieldError names one invalid field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem document with a machine code.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Code   string       `json:"code"`
	Errors []FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// NewProblem makes a problem; its type URI is derived from the code.
func NewProblem(status int, code, detail string) *Problem {
	return &Problem{Type: "https://lendflow.dev/problems/" + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// Validation is a 422 naming every invalid field.
func Validation(fields ...FieldError) *Problem {
	p := NewProblem(http.StatusUnprocessableEntity, errs.ValidationFailed, "the request has invalid fields")
	p.Errors = fields
	return p
}

// statusByCode is the one table from domain refusal codes to HTTP statuses.
// API.md fixes 401, 403, 404, 422 and 429 for their codes and leaves the
// business refusals to "409 or 422 as fits". The rule here: 422 when the
// request itself is wrong whoever sends it (an amount under the minimum, not a
// multiple); 409 when the request is fine but the state of the caller or the
// loan refuses it (balance, risk level, a listing no longer open, a locked
// account). So suitability, own loan, newbie-only and locked are 409, not 403:
// the caller's role is right, their situation is not.
var statusByCode = map[string]int{
	errs.ValidationFailed:     http.StatusUnprocessableEntity,
	errs.Unauthenticated:      http.StatusUnauthorized,
	errs.Forbidden:            http.StatusForbidden,
	errs.NotFound:             http.StatusNotFound,
	errs.Conflict:             http.StatusConflict,
	errs.IdempotencyKeyReused: http.StatusConflict,
	errs.ListingNotOpen:       http.StatusConflict,
	errs.Oversubscribed:       http.StatusConflict,
	errs.BelowMinimumBid:      http.StatusUnprocessableEntity,
	errs.NotBidMultiple:       http.StatusUnprocessableEntity,
	errs.InsufficientBalance:  http.StatusConflict,
	errs.SuitabilityMismatch:  http.StatusConflict,
	errs.OwnLoan:              http.StatusConflict,
	errs.NewbieOnly:           http.StatusConflict,
	errs.AccountLocked:        http.StatusConflict,
	errs.NoCustodyAccount:     http.StatusConflict,
	errs.NoRiskAssessment:     http.StatusConflict,
	errs.InvalidState:         http.StatusConflict,
	errs.RateLimited:          http.StatusTooManyRequests,
	errs.LimitExceeded:        http.StatusUnprocessableEntity,
	errs.WithdrawalWindow:     http.StatusConflict,
	// The bank did not answer: nothing happened, and the same request may be
	// sent again. 503 also keeps it out of the idempotency store.
	errs.BankUnavailable:     http.StatusServiceUnavailable,
	errs.FourFactorMismatch:  http.StatusUnprocessableEntity,
	errs.AuthorizationNeeded: http.StatusConflict,
}

// codeInternal is the code of every 500: it says that something failed, never what.
const codeInternal = "internal"

// problemFor translates any error into the problem the client sees.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var de *errs.Error
	if errors.As(err, &de) {
		status, ok := statusByCode[de.Code]
		if !ok {
			// A refusal is a refusal even if its code was added to errs
			// without a row here; TestStatusTableCoversEveryCode catches that.
			status = http.StatusConflict
		}
		return NewProblem(status, de.Code, de.Detail)
	}
	if errors.Is(err, db.ErrNotFound) {
		return NewProblem(http.StatusNotFound, errs.NotFound, "not found")
	}
	return nil
}

// writeError answers with the problem for err. Anything not a known refusal
// is a 500 whose body says nothing of the cause; the log has it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	if p == nil {
		s.Logger.Error("request failed", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "error", err)
		p = NewProblem(http.StatusInternalServerError, codeInternal, "internal error")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
