package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
)

func (s *Server) accountRoutes(r chi.Router) {
	both := s.requireRole(lending.RoleBorrower, lending.RoleInvestor)
	r.With(both, s.idempotent).Post("/v1/me/custody-account", s.custodyOpen)
	r.With(both).Get("/v1/me/account", s.accountGet)
	r.With(both, s.idempotent).Post("/v1/me/recharges", s.rechargeCreate)
	r.With(both).Get("/v1/me/fund-logs", s.fundLogs)
	r.With(both, s.idempotent).Post("/v1/me/withdrawals", s.withdrawalCreate)
	r.With(both).Get("/v1/me/withdrawals/{id}", s.withdrawalGet)
	r.Post("/v1/bank/callbacks", s.bankCallback)
}

type custodyRequest struct {
	CardNumber string `json:"card_number"`
}

func (s *Server) custodyOpen(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req custodyRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	no, err := s.Accounts.OpenCustody(r.Context(), me.ID, req.CardNumber)
	if errs.Code(err) == errs.ValidationFailed {
		err = Validation(FieldError{Field: "card_number", Message: "not a valid bank card number"})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"account_no": no})
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
	sum, err := ledger.AccountSummary(r.Context(), s.Pool, me.ID)
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
	amount, today, ok := s.amountAndDate(w, r)
	if !ok {
		return
	}
	rc, err := s.Accounts.Recharge(ctx, me.ID, amount, today)
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
}

func (s *Server) fundLogs(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var after int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		var err error
		if after, err = strconv.ParseInt(c, 10, 64); err != nil || after <= 0 {
			s.writeError(w, r, Validation(FieldError{Field: "cursor", Message: "not a cursor this API gave"}))
			return
		}
	}
	items, next, err := ledger.FundLog(r.Context(), s.Pool, me.ID, after, pageSize)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items      []fundLogItem `json:"items"`
		NextCursor *string       `json:"next_cursor"`
	}{Items: []fundLogItem{}}
	for _, it := range items {
		out.Items = append(out.Items, fundLogItem{
			ID: it.ID, At: it.At, Type: it.Type, Amount: fmtMoney(it.Amount), AvailableAfter: fmtMoney(it.AvailableAfter),
			FrozenAfter: fmtMoney(it.FrozenAfter), Counterpart: it.Counterpart, Ref: it.Ref,
		})
	}
	if next != 0 {
		c := strconv.FormatInt(next, 10)
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
}
