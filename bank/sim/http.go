package sim

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim/simdb"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/metrics"
)

const maxBody = 8 << 20

// workTimeout bounds one request's work. The work runs detached from the
// caller's connection: a bank that received a request finishes it even if
// the caller hangs up, which is what makes an unanswered call "unknown"
// rather than "not done".
const workTimeout = 30 * time.Second

// Handler is the bank's HTTP API.
//
//	POST /accounts            bank.OpenAccountRequest  → bank.OpenAccountResult
//	GET  /accounts/{no}       → bank.Balance
//	POST /cards               bank.ChangeCardRequest   → bank.Result
//	POST /recharges           bank.RechargeRequest     → bank.Result
//	POST /withdrawals         bank.WithdrawRequest     → bank.Result (processing)
//	POST /freezes             bank.FreezeRequest       → bank.Result
//	POST /unfreezes           bank.UnfreezeRequest     → bank.Result
//	POST /transfers           bank.TransferRequest     → bank.Result
//	POST /batches             bank.BatchRequest        → bank.Result
//	POST /top-ups             bank.TopUpRequest        → bank.Result (platform card → P-BONUS)
//	GET  /requests/{no}       → bank.Result (refusals as status failed)
//	GET  /reconciliation/{YYYY-MM-DD} → text/csv (bank.ReconciliationHeader)
//	GET|POST /admin/clock     {"today":"YYYY-MM-DD"}
//	GET|PUT  /admin/faults    FaultConfig as JSON
//	POST /admin/deposits      bank.DepositRequest      → bank.Result
//	POST /admin/withdrawals/{no}/reversal              → bank.Result
//	GET  /healthz
//	GET  /metrics             Prometheus text format
//
// Refusals are 4xx with {"code","message"} (plus request_no and status
// "failed" when recorded against the number); faults are 5xx.
//
// Every route but /healthz and /admin/* needs the platform's signature
// (bank/sign.go) under Config.APIKey: unsigned, wrongly signed or stale
// requests are 401 unauthenticated, as a real custody bank's API answers.
// /admin/* is the test harness's control panel (faults, clock, deposits,
// forced reversals), not a bank's: it is unauthenticated and answers only
// requests from a loopback address (403 otherwise), so a simulator reachable
// over a network exposes none of it.
func (s *Sim) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(httpMetrics.Middleware)
	r.Method(http.MethodGet, "/metrics", metrics.Handler())
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requireSignature)
		r.Group(func(r chi.Router) {
			r.Use(s.faultMiddleware)
			r.Post("/accounts", s.handleOpenAccount)
			r.Get("/accounts/{accountNo}", s.handleBalance)
			r.Post("/cards", handle(s, s.changeCard))
			r.Post("/recharges", handle(s, s.recharge))
			r.Post("/withdrawals", handle(s, s.withdraw))
			r.Post("/freezes", handle(s, s.freeze))
			r.Post("/unfreezes", handle(s, s.unfreeze))
			r.Post("/transfers", handle(s, s.transfer))
			r.Post("/batches", handle(s, s.batch))
			r.Post("/top-ups", handle(s, s.topUp))
			r.Get("/requests/{requestNo}", s.handleQuery)
		})
		r.Get("/reconciliation/{date}", s.handleReconciliation)
	})
	r.Route("/admin", func(r chi.Router) {
		r.Use(loopbackOnly)
		r.Get("/clock", s.handleGetClock)
		r.Post("/clock", s.handleSetClock)
		r.Get("/faults", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) })
		r.Put("/faults", s.handleSetFaults)
		r.Post("/deposits", handle(s, s.deposit))
		r.Post("/withdrawals/{requestNo}/reversal", s.handleReverse)
	})
	return r
}

// requireSignature refuses a request not signed by the platform's key.
func (s *Sim) requireSignature(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			writeError(w, http.StatusBadRequest, codeInvalidRequest, "body: unreadable or too large")
			return
		}
		err = bank.VerifyRequest(s.cfg.APIKey, r.Method, r.URL.RequestURI(),
			r.Header.Get(bank.TimestampHeader), r.Header.Get(bank.RequestSignatureHeader), body, time.Now())
		if err != nil {
			writeError(w, http.StatusUnauthorized, codeUnauthenticated, err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// loopbackOnly answers only requests whose peer is a loopback address.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Unmap().IsLoopback() {
			writeError(w, http.StatusForbidden, codeForbidden, "the admin endpoints answer only on the loopback address")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		return invalid("body: %v", err)
	}
	return nil
}

func workContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), workTimeout)
}

// handle serves a money request: decode, do once, answer its recorded result.
func handle[T any](s *Sim, do func(context.Context, T) (simdb.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in T
		if err := decode(r, &in); err != nil {
			s.writeErr(w, r, err)
			return
		}
		ctx, cancel := workContext(r)
		defer cancel()
		row, err := do(ctx, in)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		writeRow(w, row, result(row))
	}
}

func (s *Sim) handleOpenAccount(w http.ResponseWriter, r *http.Request) {
	var in bank.OpenAccountRequest
	if err := decode(r, &in); err != nil {
		s.writeErr(w, r, err)
		return
	}
	ctx, cancel := workContext(r)
	defer cancel()
	row, err := s.openAccount(ctx, in)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeRow(w, row, bank.OpenAccountResult{RequestNo: row.RequestNo, AccountNo: row.AccountNo})
}

// writeRow answers a recorded request: its success body, or its recorded
// refusal, the same way every time the number comes back.
func writeRow(w http.ResponseWriter, row simdb.Request, ok any) {
	if row.Status == string(bank.StatusFailed) {
		writeJSON(w, statusFor(row.Code), errorBody{
			Code: row.Code, Message: row.Message, RequestNo: row.RequestNo, Status: bank.StatusFailed,
		})
		return
	}
	writeJSON(w, http.StatusOK, ok)
}

func (s *Sim) handleBalance(w http.ResponseWriter, r *http.Request) {
	a, err := s.q.AccountGet(r.Context(), chi.URLParam(r, "accountNo"))
	if errors.Is(err, db.ErrNotFound) {
		writeError(w, http.StatusNotFound, bank.CodeAccountNotFound, "no such account")
		return
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bank.Balance{AccountNo: a.AccountNo, Available: a.Available, Frozen: a.Frozen})
}

func (s *Sim) handleQuery(w http.ResponseWriter, r *http.Request) {
	row, err := s.q.RequestGet(r.Context(), chi.URLParam(r, "requestNo"))
	if errors.Is(err, db.ErrNotFound) {
		writeError(w, http.StatusNotFound, bank.CodeNotFound, "the bank has no result for this request number")
		return
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result(row))
}

func (s *Sim) handleReverse(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := workContext(r)
	defer cancel()
	no := chi.URLParam(r, "requestNo")
	var row simdb.Request
	err := s.retryTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		today, err := s.today(ctx, q)
		if err != nil {
			return err
		}
		row, err = s.reverseWithdrawal(ctx, q, no, today)
		return err
	})
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.kick()
	writeJSON(w, http.StatusOK, result(row))
}

type clockBody struct {
	Today string `json:"today"`
	Mode  string `json:"mode"` // wall: follows China Standard Time; set: fixed by POST
}

func (s *Sim) handleGetClock(w http.ResponseWriter, r *http.Request) {
	stored, err := s.q.ClockGet(r.Context())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	today, err := s.today(r.Context(), s.q)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	mode := "set"
	if stored == nil {
		mode = "wall"
	}
	writeJSON(w, http.StatusOK, clockBody{Today: today.Format(time.DateOnly), Mode: mode})
}

// handleSetClock sets the business date; an empty "today" returns the bank to
// the wall clock.
func (s *Sim) handleSetClock(w http.ResponseWriter, r *http.Request) {
	var in clockBody
	if err := decode(r, &in); err != nil {
		s.writeErr(w, r, err)
		return
	}
	var d *time.Time
	if in.Today != "" {
		t, err := time.Parse(time.DateOnly, in.Today)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeInvalidRequest, "today: want YYYY-MM-DD")
			return
		}
		d = &t
	}
	if err := s.q.ClockSet(r.Context(), d); err != nil {
		s.writeErr(w, r, err)
		return
	}
	// Next-day reversals may have become due.
	s.kick()
	s.handleGetClock(w, r)
}

func (s *Sim) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	var f FaultConfig
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&f); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "faults: "+err.Error())
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Sim) handleReconciliation(w http.ResponseWriter, r *http.Request) {
	day, err := time.Parse(time.DateOnly, chi.URLParam(r, "date"))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "date: want YYYY-MM-DD")
		return
	}
	lines, err := s.Reconciliation(r.Context(), day)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reconciliation-`+day.Format(time.DateOnly)+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(bank.ReconciliationHeader)
	for _, l := range lines {
		_ = cw.Write(l.Record())
	}
	cw.Flush()
}

type errorBody struct {
	Code      string      `json:"code"`
	Message   string      `json:"message"`
	RequestNo string      `json:"request_no,omitempty"`
	Status    bank.Status `json:"status,omitempty"`
}

// statusFor is the one map from refusal code to HTTP status. Every refusal is
// 4xx, so the client reads it as final; 5xx is kept for faults and failures.
func statusFor(code string) int {
	switch code {
	case codeInvalidRequest:
		return http.StatusBadRequest
	case bank.CodeAccountNotFound, bank.CodeFreezeNotFound, bank.CodeNotFound:
		return http.StatusNotFound
	case bank.CodeRequestNoReused, bank.CodeFreezeSpent, bank.CodeInvalidState:
		return http.StatusConflict
	default:
		return http.StatusUnprocessableEntity
	}
}

func (s *Sim) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ref *refusal
	if errors.As(err, &ref) {
		writeError(w, statusFor(ref.code), ref.code, ref.msg)
		return
	}
	s.log.Error("bank sim: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	// Not the error text: it may carry SQL or connection details.
	writeError(w, http.StatusInternalServerError, "internal", "the bank could not process the request; send it again")
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
