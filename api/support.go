package api

import (
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/support"
	"github.com/lendflow/lendflow/transfer"
)

// supportRoutes mounts customer service (docs/support.md). The reveal takes
// no Idempotency-Key on purpose: a replay would answer the stored response,
// and the idempotency table would keep the person's data in the clear.
func (s *Server) supportRoutes(r chi.Router) {
	ops := s.requireRole(lending.RoleOps)
	r.With(ops).Get("/v1/ops/users", s.supportSearch)
	r.With(ops).Get("/v1/ops/users/{id}", s.supportPage)
	r.With(ops).Get("/v1/ops/users/{id}/fund-logs", s.supportFundLogs)
	r.With(ops).Post("/v1/ops/users/{id}/reveal", s.supportReveal)
}

type personItem struct {
	UserID    int64        `json:"user_id"`
	Role      lending.Role `json:"role"`
	Name      string       `json:"name"`
	Email     string       `json:"email"`
	Phone     string       `json:"phone"`
	Locked    bool         `json:"locked"`
	CreatedAt time.Time    `json:"created_at"`
}

func personBody(p support.Person) personItem {
	return personItem{UserID: p.UserID, Role: p.Role, Name: p.Name, Email: p.Email, Phone: p.Phone, Locked: p.Locked, CreatedAt: p.CreatedAt}
}

// supportSearch finds users by e-mail, phone, ID number or id, masked.
func (s *Server) supportSearch(w http.ResponseWriter, r *http.Request) {
	found, err := s.support.Search(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items      []personItem `json:"items"`
		NextCursor *string      `json:"next_cursor"`
	}{Items: []personItem{}}
	for _, p := range found {
		out.Items = append(out.Items, personBody(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func supportUserID(r *http.Request) (int64, error) {
	id, fe := parseInt("id", chi.URLParam(r, "id"), 1, math.MaxInt64)
	if fe != nil {
		return 0, errs.New(errs.NotFound, "no such user")
	}
	return id, nil
}

type supportPageBody struct {
	personItem
	IDNumber      string             `json:"id_number"`
	Account       accountResponse    `json:"account"`
	Bank          *bankBalanceBody   `json:"bank"`
	BankError     string             `json:"bank_error,omitempty"`
	Loans         []supportLoanItem  `json:"loans"`
	Holdings      []holdingItem      `json:"holdings"`
	Bids          []bidResponse      `json:"bids"`
	Withdrawals   []withdrawalItem   `json:"withdrawals"`
	Coupons       []couponItem       `json:"coupons"`
	Transfers     []myTransferItem   `json:"transfers"`
	Notifications []notificationItem `json:"notifications"`
	FundLogs      []fundLogItem      `json:"fund_logs"`
	Actions       []auditItem        `json:"actions"`
}

type bankBalanceBody struct {
	Available string `json:"available"`
	Frozen    string `json:"frozen"`
}

type supportLoanItem struct {
	LoanID     int64          `json:"loan_id"`
	Amount     string         `json:"amount"`
	TermMonths int32          `json:"term_months"`
	Status     lending.Status `json:"status"`
	AppliedOn  string         `json:"applied_on"`
}

type withdrawalItem struct {
	ID           int64  `json:"id"`
	Amount       string `json:"amount"`
	Fee          string `json:"fee"`
	Route        string `json:"route"`
	Status       string `json:"status"`
	BusinessDate string `json:"business_date"`
}

// supportPage is a user's one page (support.Service.Page).
func (s *Server) supportPage(w http.ResponseWriter, r *http.Request) {
	id, err := supportUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.support.Page(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, supportBody(p))
}

func supportBody(p support.Page) supportPageBody {
	a := p.Account
	out := supportPageBody{personItem: personBody(p.Person), IDNumber: p.IDNumber, BankError: p.BankError,
		Account: accountResponse{Available: fmtMoney(a.Available), Frozen: fmtMoney(a.Frozen), PendingPrincipal: fmtMoney(a.PendingPrincipal),
			PendingInterest: fmtMoney(a.PendingInterest), TotalAssets: fmtMoney(a.TotalAssets)},
		Loans: []supportLoanItem{}, Holdings: []holdingItem{}, Bids: []bidResponse{}, Withdrawals: []withdrawalItem{},
		Coupons: []couponItem{}, Transfers: []myTransferItem{}, Notifications: []notificationItem{}, FundLogs: []fundLogItem{},
		Actions: []auditItem{}}
	if p.Bank != nil {
		out.Bank = &bankBalanceBody{Available: fmtMoney(p.Bank.Available), Frozen: fmtMoney(p.Bank.Frozen)}
	}
	for _, l := range p.Loans {
		out.Loans = append(out.Loans, supportLoanItem{LoanID: l.ID, Amount: l.Amount, TermMonths: l.TermMonths, Status: l.Status,
			AppliedOn: l.AppliedOn.Format(time.DateOnly)})
	}
	for _, h := range p.Holdings {
		item := holdingItem{LoanID: h.LoanID, BidID: h.BidID, Source: h.Source, Principal: fmtMoney(h.Principal),
			ReceivedPrincipal: fmtMoney(h.ReceivedPrincipal), ReceivedInterest: fmtMoney(h.ReceivedInterest),
			PendingPrincipal: fmtMoney(h.PendingPrincipal), PendingInterest: fmtMoney(h.PendingInterest), Status: h.Status}
		if h.ID != 0 {
			hid := h.ID
			item.HoldingID = &hid
		}
		out.Holdings = append(out.Holdings, item)
	}
	for _, b := range p.Bids {
		out.Bids = append(out.Bids, bidBody(b))
	}
	for _, w := range p.Withdrawals {
		out.Withdrawals = append(out.Withdrawals, withdrawalItem{ID: w.ID, Amount: fmtMoney(w.Amount), Fee: fmtMoney(w.Fee),
			Route: w.Route, Status: w.Status, BusinessDate: w.BusinessDate.Format(time.DateOnly)})
	}
	for _, c := range p.Coupons {
		out.Coupons = append(out.Coupons, couponBody(c))
	}
	for _, l := range p.Transfers {
		out.Transfers = append(out.Transfers, transferOf(l, p.UserID))
	}
	for _, n := range p.Notifications {
		item := notificationItem{ID: n.ID, BusinessDate: n.BusinessDate.Format(time.DateOnly), At: n.At, Kind: n.Kind,
			LoanID: n.LoanID, InstallmentNo: n.InstallmentNo, Message: n.Message}
		if n.Amount != nil {
			am := fmtMoney(*n.Amount)
			item.Amount = &am
		}
		out.Notifications = append(out.Notifications, item)
	}
	for _, it := range p.FundLog {
		out.FundLogs = append(out.FundLogs, fundLogBody(it))
	}
	for _, a := range p.Actions {
		out.Actions = append(out.Actions, auditItem{ID: a.ID, At: a.At, OpsUserID: a.OpsUserID, Action: a.Action, Target: a.Target, Note: a.Note})
	}
	return out
}

// transferOf is a transfer as its user sees it: seller or buyer.
func transferOf(l transfer.Listing, userID int64) myTransferItem {
	it := myTransferItem{TransferID: l.ID, LoanID: l.LoanID, Role: "seller", Status: string(l.Status), At: l.CreatedAt}
	if l.BuyerID == userID {
		it.Role = "buyer"
	}
	if l.ClosedAt != nil {
		it.At = *l.ClosedAt
	}
	if l.Priced {
		p, f := fmtMoney(l.Quote.Price), fmtMoney(l.Quote.Fee)
		it.Price, it.Fee = &p, &f
	}
	return it
}

// supportFundLogs is a user's fund log, paged as GET /v1/me/fund-logs.
func (s *Server) supportFundLogs(w http.ResponseWriter, r *http.Request) {
	id, err := supportUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	after, limit := pageAsked(r, &fields)
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	items, next, err := s.support.FundLog(r.Context(), id, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeFundLog(w, items, next)
}

type revealRequest struct {
	Reason string `json:"reason"`
}

type revealBody struct {
	Name       string  `json:"name"`
	IDNumber   string  `json:"id_number"`
	Phone      string  `json:"phone"`
	CardNumber *string `json:"card_number"`
}

// supportReveal answers a user's data unmasked, audited with its reason.
func (s *Server) supportReveal(w http.ResponseWriter, r *http.Request) {
	id, err := supportUserID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req revealRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	me, _ := userFrom(r.Context())
	v, err := s.support.Reveal(r.Context(), me.ID, id, req.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revealBody{Name: v.Name, IDNumber: v.IDNumber, Phone: v.Phone, CardNumber: v.CardNumber})
}
