package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

func (s *Server) accountRoutes(r chi.Router) {
	// Guarantors hold a custody sub-account too (docs/api.md "Endpoints").
	both := s.requireRole(lending.RoleBorrower, lending.RoleInvestor, lending.RoleGuarantor)
	r.With(both, s.idempotent).Post("/v1/me/custody-account", s.custodyOpen)
	r.With(both).Get("/v1/me/account", s.accountGet)
	r.With(both, s.idempotent).Post("/v1/me/recharges", s.rechargeCreate)
	r.With(both).Get("/v1/me/fund-logs", s.fundLogs)
	r.With(both, s.idempotent).Post("/v1/me/withdrawals", s.withdrawalCreate)
	r.With(both).Get("/v1/me/withdrawals/{id}", s.withdrawalGet)
	r.Post("/v1/bank/callbacks", s.bankCallback)
}

// custodyOpen opens the caller's custody sub-account
// (accounts.Service.OpenCustody).
func (s *Server) custodyOpen(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	card, err := cardFrom(r)
	if err == nil {
		var no string
		if no, err = s.Accounts.OpenCustody(r.Context(), me.ID, card); err == nil {
			writeJSON(w, http.StatusCreated, map[string]string{"account_no": no})
			return
		}
	}
	s.writeError(w, r, cardRefused(err))
}

type accountResponse struct {
	Available        string `json:"available"`
	Frozen           string `json:"frozen"`
	PendingPrincipal string `json:"pending_principal"`
	PendingInterest  string `json:"pending_interest"`
	TotalAssets      string `json:"total_assets"`
}

func (s *Server) accountGet(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	sum, err := s.Accounts.Summary(r.Context(), me.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, accountResponse{
		Available: fmtMoney(sum.Available), Frozen: fmtMoney(sum.Frozen), PendingPrincipal: fmtMoney(sum.PendingPrincipal),
		PendingInterest: fmtMoney(sum.PendingInterest), TotalAssets: fmtMoney(sum.TotalAssets),
	})
}

func (s *Server) rechargeCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, _ := userFrom(ctx)
	amount, ok := s.amount(w, r)
	if !ok {
		return
	}
	// The client may hang up; the recharge goes on, so that a retry finds it.
	// The business date is the platform's (a zero date).
	rc, err := s.Accounts.RechargeOnce(context.WithoutCancel(ctx), idempotencyKey(ctx), me.ID, amount, time.Time{})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": rc.ID, "amount": fmtMoney(rc.Amount), "status": rc.Status})
}

type fundLogItem struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	Type           string    `json:"type"`
	Amount         string    `json:"amount"`
	AvailableAfter string    `json:"available_after"`
	FrozenAfter    string    `json:"frozen_after"`
	Counterpart    string    `json:"counterpart"`
	Ref            string    `json:"ref"`
	// Kind and PendingReceivableAfter: ledger.FundLogItem's.
	Kind                   string `json:"kind"`
	PendingReceivableAfter string `json:"pending_receivable_after"`
}

func (s *Server) fundLogs(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var fields []FieldError
	after, limit := pageAsked(r, &fields)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	items, next, err := s.Accounts.FundLog(r.Context(), me.ID, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeFundLog(w, items, next)
}

// writeFundLog answers a page of a fund log, the user's own or, for ops, any
// user's (GET /v1/ops/users/{id}/fund-logs answers as GET /v1/me/fund-logs).
func writeFundLog(w http.ResponseWriter, items []ledger.FundLogItem, next int64) {
	out := struct {
		Items      []fundLogItem `json:"items"`
		NextCursor *string       `json:"next_cursor"`
	}{Items: []fundLogItem{}}
	for _, it := range items {
		out.Items = append(out.Items, fundLogBody(it))
	}
	if next != 0 {
		c := strconv.FormatInt(next, 10)
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}

func fundLogBody(it ledger.FundLogItem) fundLogItem {
	return fundLogItem{ID: it.ID, At: it.At, Type: it.Type, Amount: fmtMoney(it.Amount), AvailableAfter: fmtMoney(it.AvailableAfter),
		FrozenAfter: fmtMoney(it.FrozenAfter), Counterpart: it.Counterpart, Ref: it.Ref,
		Kind: it.Kind, PendingReceivableAfter: fmtMoney(it.PendingReceivableAfter)}
}
