package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/errs"
)

type withdrawalResponse struct {
	ID     int64  `json:"id"`
	Amount string `json:"amount"`
	Fee    string `json:"fee"`
	Route  string `json:"route"`
	Status string `json:"status"`
}

func withdrawalBody(w accounts.Withdrawal) withdrawalResponse {
	return withdrawalResponse{ID: w.ID, Amount: fmtMoney(w.Amount), Fee: fmtMoney(w.Fee), Route: w.Route, Status: w.Status}
}

func (s *Server) withdrawalCreate(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	amount, ok := s.amount(w, r)
	if !ok {
		return
	}
	// The client may hang up; the withdrawal goes on, so that a retry finds
	// it. The business date is the platform's (a zero date); the moment, for
	// the large-value system's hours, is now.
	ctx := context.WithoutCancel(r.Context())
	wd, err := s.Accounts.WithdrawOnce(ctx, idempotencyKey(r.Context()), me.ID, amount, time.Time{}, time.Now())
	if err != nil && (wd.ID == 0 || errs.Code(err) != errs.BankUnavailable) {
		s.writeError(w, r, err)
		return
	}
	// Unanswered by the bank: accepted here and processing; the sweep settles it.
	writeJSON(w, http.StatusCreated, withdrawalBody(wd))
}

func (s *Server) withdrawalGet(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	wd, err := s.Accounts.Withdrawal(r.Context(), me.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, withdrawalBody(wd))
}

// bankCallback takes the bank's signed result notices. The signature (over
// the timestamp and the raw body) is checked before anything is read from
// it, and a callback sent more than bank.SignatureWindow from now is refused,
// so a captured one cannot be played again later; a repeated or out-of-order
// notice changes nothing and is answered 200 "already_applied" so the bank
// stops sending it. The body is the bank's, not a client's: a field the platform
// does not know (the bank added one) is accepted, where a client's request
// would be refused, or the bank would send the notice forever. What is
// checked before anything is booked (kind, account, amount, fee, Seq) is
// accounts.ApplyCallback's.
func (s *Server) bankCallback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, r, Validation(FieldError{Field: "body", Message: "larger than 1 MiB"}))
		return
	}
	if err := bank.VerifyCallback(s.HMACSecret, r.Header.Get(bank.CallbackTimestampHeader), r.Header.Get(bank.SignatureHeader), body, s.now()); err != nil {
		s.writeError(w, r, errs.New(errs.Unauthenticated, "bank callback: %v", err))
		return
	}
	var cb bank.Callback
	if err := decodeLenient(body, &cb); err != nil {
		s.writeError(w, r, err)
		return
	}
	_, outcome, err := s.Accounts.ApplyCallback(r.Context(), cb)
	if errors.Is(err, accounts.ErrUnknownRequest) {
		// Not ours: say so once in the log, and stop the bank retrying.
		s.log(r.Context()).Error("bank callback for an unknown request number", "request_no", cb.RequestNo)
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": string(outcome)})
}
