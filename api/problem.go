package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/transfer"
)

// FieldError names one invalid field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem document with a machine code. Detail is
// the fixed text of its code (detailByCode), never the text of an error;
// figures a client needs travel in named extension members (Extensions),
// built from the platform's own values.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Code   string       `json:"code"`
	Errors []FieldError `json:"errors,omitempty"`
	// Extensions are RFC 9457 §3.2 extension members, written at the top
	// level of the document: "available", "remaining", "outstanding", "cap".
	Extensions map[string]string `json:"-"`
	// explained: Detail is a text written for the client (a reason of
	// transfer_not_allowed), kept instead of the code's fixed text.
	explained bool
}

// MarshalJSON writes the extension members beside the standard ones.
func (p *Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	base, err := json.Marshal((*plain)(p))
	if err != nil || len(p.Extensions) == 0 {
		return base, err
	}
	ext, err := json.Marshal(p.Extensions)
	if err != nil {
		return nil, err
	}
	// Both are objects: splice the members of ext into base.
	return append(append(base[:len(base)-1:len(base)-1], ','), ext[1:]...), nil
}

// With sets an extension member and returns p.
func (p *Problem) With(name, value string) *Problem {
	if p.Extensions == nil {
		p.Extensions = map[string]string{}
	}
	p.Extensions[name] = value
	return p
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
// The contract (docs/api.md "Errors") fixes 401, 403, 404, 422 and 429 for their codes and leaves the
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
	errs.IdentityTaken:        http.StatusConflict,
	errs.LoginThrottled:       http.StatusTooManyRequests,
	errs.CardChangeRefused:    http.StatusConflict,
	errs.NotGuarantor:         http.StatusForbidden,
	errs.LimitExceeded:        http.StatusUnprocessableEntity,
	errs.WithdrawalWindow:     http.StatusConflict,
	// The bank did not answer: nothing happened, and the same request may be
	// sent again. 503 also keeps it out of the idempotency store.
	errs.BankUnavailable:     http.StatusServiceUnavailable,
	errs.Unavailable:         http.StatusServiceUnavailable,
	errs.FourFactorMismatch:  http.StatusUnprocessableEntity,
	errs.AuthorizationNeeded: http.StatusConflict,
	// The third round's: debt transfer (docs/api.md "Transfers").
	errs.TransferNotAllowed: http.StatusConflict,
	errs.TransferNotOpen:    http.StatusConflict,
	errs.OwnClaim:           http.StatusConflict,

	// Coupons (docs/coupons.md).
	errs.CouponNotUsable:     http.StatusConflict,
	errs.BonusBudgetExceeded: http.StatusConflict,
}

// codeInternal is the code of every 500: it says that something failed, never what.
const codeInternal = "internal"

// codeMethodNotAllowed answers a known path asked with another method.
const codeMethodNotAllowed = "method_not_allowed"

// detailByCode is the one text each code's problem carries. Refusals are
// raised deep in the platform with texts written for the log (they may
// quote SQL, Temporal or the bank); none of that reaches a client. What a
// client needs beyond the code is a figure, and figures travel as
// extension members (Problem.Extensions).
var detailByCode = map[string]string{
	errs.ValidationFailed:     "the request has invalid fields",
	errs.Unauthenticated:      "sign in: Authorization: Bearer <token> from POST /v1/auth/login, unexpired and not logged out",
	errs.Forbidden:            "your role may not do this",
	errs.NotFound:             "not found",
	errs.Conflict:             "the request conflicts with what exists (a duplicate, or a request with this Idempotency-Key still in flight)",
	errs.IdempotencyKeyReused: "this Idempotency-Key was used with another request",
	errs.ListingNotOpen:       "the listing is not open for bids",
	errs.Oversubscribed:       "the bid is more than the listing's remaining amount",
	errs.BelowMinimumBid:      "a bid is at least 100.00, unless it takes exactly the remaining amount",
	errs.NotBidMultiple:       "a bid is a whole multiple of 1.00",
	errs.InsufficientBalance:  "the available balance does not cover this",
	errs.SuitabilityMismatch:  "your risk level does not cover the loan's grade",
	errs.OwnLoan:              "you cannot bid on a loan you borrow or guarantee",
	errs.NewbieOnly:           "this listing is for investors without an earlier bid",
	errs.AccountLocked:        "the account is locked; contact the platform",
	errs.NoCustodyAccount:     "open a custody account first",
	errs.NoRiskAssessment:     "take the risk assessment first",
	errs.InvalidState:         "the loan is not in a state that allows this",
	errs.RateLimited:          "too many requests; retry after the Retry-After seconds",
	errs.IdentityTaken:        "this ID number is verified by another account",
	errs.LoginThrottled:       "too many failed sign-ins; retry after the Retry-After seconds",
	errs.LimitExceeded:        "the borrower's outstanding principal would exceed the 200,000.00 cap",
	errs.WithdrawalWindow:     "withdrawals over 50,000.00 go by the large-value system, on workdays from 23:30 the day before to 17:15",
	errs.BankUnavailable:      "the bank did not answer; nothing was done that cannot be repeated, so send the same request again",
	errs.Unavailable:          "the platform could not start the work; nothing was done that cannot be repeated, so send the same request again",
	errs.FourFactorMismatch:   "the bank's four-factor check (name, ID number, phone, card) failed",
	errs.AuthorizationNeeded:  "authorize repayments (POST /v1/loans/{id}/repayment-authorization) first",
	// Codes of the second round raised by other packages.
	errs.CardChangeRefused: "the card can be changed only with nothing held, owed or on its way",
	errs.NotGuarantor:      "not a guarantor of this loan: a guarantor is a user registered with role guarantor, and only the one a loan names answers for it",
	// transfer_not_allowed's detail says why (transfer.Reasons), when the
	// refusal carries one of the reasons written for the investor.
	errs.TransferNotAllowed: "the claim cannot be offered for transfer now",
	errs.TransferNotOpen:    "the transfer listing is not open to buyers: sold, lapsed, cancelled, or being bought",
	errs.OwnClaim:           "you cannot buy your own transfer listing",

	// Coupons (docs/coupons.md): coupon_not_usable's detail says why.
	errs.CouponNotUsable:     "the coupon cannot go with this bid; the bid was refused and nothing was frozen",
	errs.BonusBudgetExceeded: "the bonus account's headroom does not cover the coupon",

	codeInternal:         "internal error",
	codeMethodNotAllowed: "this method is not allowed here",
}

// problemFor translates any error into the problem the client sees.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var de *errs.Error
	if errors.As(err, &de) && de.Code == errs.ValidationFailed {
		// The contract promises validation_failed its errors list. A refusal
		// raised below the API names its field (errs.Invalid); one that does
		// not is the platform's own inconsistency, and says nothing more.
		fe := FieldError{Field: de.Field, Message: de.Detail}
		if de.Field == "" {
			fe.Message = "the request is invalid"
		}
		return Validation(fe)
	}
	if errors.As(err, &de) && ((de.Code == errs.TransferNotAllowed && transfer.IsReason(de.Detail)) ||
		(de.Code == errs.CouponNotUsable && coupons.IsReason(de.Detail))) {
		p := NewProblem(statusByCode[de.Code], de.Code, de.Detail)
		p.explained = true
		return p
	}
	if errors.As(err, &de) {
		status, ok := statusByCode[de.Code]
		if !ok {
			// A refusal is a refusal even if its code was added to errs
			// without a row here; TestStatusTableCoversEveryCode catches that.
			status = http.StatusConflict
		}
		p := NewProblem(status, de.Code, "")
		for name, amount := range de.Figures {
			p.With(name, fmtMoney(amount))
		}
		return p
	}
	if errors.Is(err, db.ErrNotFound) {
		return NewProblem(http.StatusNotFound, errs.NotFound, "not found")
	}
	return nil
}

// writeError answers with the problem for err. Anything not a known refusal
// is a 500 whose body says nothing of the cause; the log has it.
//
// The detail is the code's fixed text; the refusal's own text goes to the
// debug log, tied to the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if u, ok := userFrom(r.Context()); ok {
		noteUser(r.Context(), u.ID)
	}
	p := problemFor(err)
	if p == nil {
		s.log(r.Context()).Error("request failed", "path", r.URL.Path, "error", err)
		p = NewProblem(http.StatusInternalServerError, codeInternal, "")
	} else if s.Logger != nil {
		s.log(r.Context()).Debug("refused", "path", r.URL.Path, "code", p.Code, "error", err)
	}
	if d, ok := detailByCode[p.Code]; ok && !p.explained {
		p.Detail = d
	}
	s.figures(r, p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONBytes(w, status, jsonBytes(v))
}

// jsonBytes is the body writeJSON writes for v (an answer stored before it
// is sent, as a frozen bid's is).
func jsonBytes(v any) []byte {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return buf.Bytes()
}

// writeJSONBytes sends a JSON body made already.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// figures adds to a refusal the figures a client needs to act on it, read
// afresh from the platform's own records, never parsed from an error's text:
// the available balance (insufficient_balance) and what a listing has left
// (oversubscribed). A member the handler set already is kept.
func (s *Server) figures(r *http.Request, p *Problem) {
	if s.Pool == nil {
		return
	}
	ctx := r.Context()
	switch {
	case p.Code == errs.InsufficientBalance && p.Extensions["available"] == "":
		if me, ok := userFrom(ctx); ok {
			if sum, err := s.Accounts.Summary(ctx, me.ID); err == nil {
				p.With("available", fmtMoney(sum.Available))
			}
		}
	case p.Code == errs.Oversubscribed && p.Extensions["remaining"] == "":
		if id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64); err == nil {
			if l, err := s.loans.Listing(ctx, id); err == nil {
				p.With("remaining", fmtMoney(l.Loan.Remaining()))
			}
		}
	}
}
