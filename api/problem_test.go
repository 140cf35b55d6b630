package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/errs"
)

// TestErrorTable is the error translator's table: every code the contract names,
// with the status the contract gives it (401, 403, 404, 422, 429 fixed; the
// business refusals "409 or 422 as fits"), plus the project's codes.
func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{errs.New(errs.ValidationFailed, "x"), 422, "validation_failed"},
		{errs.New(errs.Unauthenticated, "x"), 401, "unauthenticated"},
		{errs.New(errs.Forbidden, "x"), 403, "forbidden"},
		{errs.New(errs.NotFound, "x"), 404, "not_found"},
		{errs.New(errs.Conflict, "x"), 409, "conflict"},
		{errs.New(errs.IdempotencyKeyReused, "x"), 409, "idempotency_key_reused"},
		{errs.New(errs.ListingNotOpen, "x"), 409, "listing_not_open"},
		{errs.New(errs.Oversubscribed, "x"), 409, "oversubscribed"},
		{errs.New(errs.BelowMinimumBid, "x"), 422, "below_minimum_bid"},
		{errs.New(errs.NotBidMultiple, "x"), 422, "not_bid_multiple"},
		{errs.New(errs.InsufficientBalance, "x"), 409, "insufficient_balance"},
		{errs.New(errs.SuitabilityMismatch, "x"), 409, "suitability_mismatch"},
		{errs.New(errs.OwnLoan, "x"), 409, "own_loan"},
		{errs.New(errs.NewbieOnly, "x"), 409, "newbie_only"},
		{errs.New(errs.AccountLocked, "x"), 409, "account_locked"},
		{errs.New(errs.NoCustodyAccount, "x"), 409, "no_custody_account"},
		{errs.New(errs.NoRiskAssessment, "x"), 409, "no_risk_assessment"},
		{errs.New(errs.InvalidState, "x"), 409, "invalid_state"},
		{errs.New(errs.RateLimited, "x"), 429, "rate_limited"},
		{errs.New(errs.LimitExceeded, "x"), 422, "limit_exceeded"},
		{errs.New(errs.WithdrawalWindow, "x"), 409, "withdrawal_window"},
		{errs.New(errs.BankUnavailable, "x"), 503, "bank_unavailable"},
		{errs.New(errs.Unavailable, "x"), 503, "unavailable"},
		{errs.New(errs.FourFactorMismatch, "x"), 422, "four_factor_mismatch"},
		{errs.New(errs.AuthorizationNeeded, "x"), 409, "authorization_needed"},
		// Wrapped refusals keep their code: activities and services wrap with %w.
		{fmt.Errorf("place bid: %w", errs.New(errs.Oversubscribed, "x")), 409, "oversubscribed"},
		{Validation(FieldError{Field: "a", Message: "b"}), 422, "validation_failed"},
		{NewProblem(http.StatusTeapot, "teapot", "as is"), 418, "teapot"},
		{db.ErrNotFound, 404, "not_found"},
		{fmt.Errorf("loan 7: %w", db.ErrNotFound), 404, "not_found"},
	} {
		t.Run(tc.code+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			p := problemFor(tc.err)
			require.NotNil(t, p)
			assert.Equal(t, tc.status, p.Status)
			assert.Equal(t, tc.code, p.Code)
			assert.Equal(t, http.StatusText(tc.status), p.Title)
			assert.NotEmpty(t, p.Type)
		})
	}
	assert.Nil(t, problemFor(errors.New("connection reset by peer")), "unknown errors are not problems")
}

// A validation_failed raised below the API still carries the errors list the
// contract promises: the field it names with its message, or, naming none,
// a message that says nothing of the platform's inside.
func TestValidationFromBelowNamesItsField(t *testing.T) {
	p := problemFor(fmt.Errorf("recharge: %w", errs.Invalid("card_number", "money comes in and goes out only through the bound card")))
	require.NotNil(t, p)
	assert.Equal(t, 422, p.Status)
	assert.Equal(t, []FieldError{{Field: "card_number", Message: "money comes in and goes out only through the bound card"}}, p.Errors)

	p = problemFor(errs.New(errs.ValidationFailed, "ledger: request r-1 leg 2 appears twice in one post"))
	require.NotNil(t, p)
	assert.Equal(t, []FieldError{{Field: "", Message: "the request is invalid"}}, p.Errors)
}

// TestStatusTableCoversEveryCode: a code added to errs without a row in
// statusByCode would silently answer 409; this names it instead. errs.Codes
// is every constant of errs/errs.go (errs.TestCodesNameEveryCode).
func TestStatusTableCoversEveryCode(t *testing.T) {
	for _, code := range errs.Codes {
		_, ok := statusByCode[code]
		assert.True(t, ok, "errs code %q has no status in statusByCode", code)
	}
	assert.Greater(t, len(errs.Codes), 20, "the errs constants were found")
}

func TestProblemDocumentShape(t *testing.T) {
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("POST", "/v1/x", nil), Validation(FieldError{Field: "amount", Message: "must be > 0"}))
	assert.Equal(t, 422, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	assert.Equal(t, map[string]any{
		"type": "https://lendflow.dev/problems/validation_failed", "title": "Unprocessable Entity", "status": 422.0,
		"detail": "the request has invalid fields", "code": "validation_failed",
		"errors": []any{map[string]any{"field": "amount", "message": "must be > 0"}},
	}, doc)

	rec = httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/", nil), errs.New(errs.NotFound, "no loan 7"))
	doc = nil
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	_, hasErrors := doc["errors"]
	assert.False(t, hasErrors, "errors appears only on validation problems")
	assert.Equal(t, "not found", doc["detail"], "the code's fixed text, not the refusal's own")

	// Figures travel as extension members beside the standard ones.
	rec = httptest.NewRecorder()
	p := problemFor(errs.New(errs.LimitExceeded, "outstanding 150000.00"))
	s.writeError(rec, httptest.NewRequest("POST", "/v1/loans", nil), p.With("outstanding", "150000.00").With("cap", "200000.00"))
	doc = nil
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	assert.Equal(t, map[string]any{
		"type": "https://lendflow.dev/problems/limit_exceeded", "title": "Unprocessable Entity", "status": 422.0,
		"detail": detailByCode[errs.LimitExceeded], "code": "limit_exceeded", "outstanding": "150000.00", "cap": "200000.00",
	}, doc)

	// A service's refusal carries its figures itself (loans' cap), written
	// with 2 decimals as every amount is.
	rec = httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("POST", "/v1/loans", nil), errs.New(errs.LimitExceeded, "outstanding 150000").
		With("outstanding", decimal.RequireFromString("150000")).With("cap", decimal.RequireFromString("200000")))
	var fromService map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fromService))
	assert.Equal(t, doc, fromService)
}

// TestDetailsAreFixedTexts: no refusal's own text reaches a client, whatever
// it carries (SQL, Temporal, the bank's words); every code has its text.
func TestDetailsAreFixedTexts(t *testing.T) {
	s := New(Deps{Logger: testLogger()})
	leaky := []error{
		errs.New(errs.Conflict, `the bank refused: ERROR: duplicate key value violates unique constraint "users_email_key"`),
		errs.New(errs.InvalidState, "workflow execution already completed (run 8c1f…)"),
		errs.New(errs.FourFactorMismatch, "the bank's four-factor check failed: phone 13800138000 is not the card's"),
		errs.New(errs.InsufficientBalance, "available 12.00 does not cover 100.00"),
	}
	for _, err := range leaky {
		rec := httptest.NewRecorder()
		s.writeError(rec, httptest.NewRequest("GET", "/", nil), err)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
		var de *errs.Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, detailByCode[de.Code], doc["detail"])
		assert.NotContains(t, rec.Body.String(), de.Detail)
	}
	codes := []string{codeInternal, codeMethodNotAllowed}
	for c := range statusByCode {
		codes = append(codes, c)
	}
	for _, c := range codes {
		assert.NotEmpty(t, detailByCode[c], "code %s has no fixed text", c)
	}
}

// TestInternalErrorsCarryNoInternals: a 500 says "internal error" and the
// request id is what ties it to the log line that has the cause.
func TestInternalErrorsCarryNoInternals(t *testing.T) {
	var logs bytes.Buffer
	s := New(Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	secret := "pq: password authentication failed for user lendflow at 10.0.0.5"

	rec := httptest.NewRecorder()
	h := middleware.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, fmt.Errorf("loan get: %w", errors.New(secret)))
	}))
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/loans/1", nil))
	assert.Equal(t, 500, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"type":"https://lendflow.dev/problems/internal","title":"Internal Server Error","status":500,"detail":"internal error","code":"internal"}`, rec.Body.String())
	assert.Contains(t, logs.String(), secret, "the cause is logged")
	assert.Contains(t, logs.String(), `"request_id"`)

	// A panic is a 500 of the same shape, from the recoverer.
	logs.Reset()
	mux := s.Handler().(*chi.Mux)
	mux.Get("/panics", func(http.ResponseWriter, *http.Request) { panic(secret) })
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/panics", nil))
	assert.Equal(t, 500, rec.Code)
	assert.NotContains(t, rec.Body.String(), "password")
	assert.Contains(t, rec.Body.String(), `"code":"internal"`)
	assert.Contains(t, logs.String(), secret)
}

func TestUnknownRoutes(t *testing.T) {
	s := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nope", nil))
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), `"code":"not_found"`)

	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("DELETE", "/healthz", nil))
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
}
