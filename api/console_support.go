package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/support"
)

// Customer service in the console (docs/support.md): the search and the
// user's page, through support.Service as the JSON API's /v1/ops/users.

func userRow(p support.Person) console.UserRow {
	return console.UserRow{UserID: p.UserID, Role: string(p.Role), Name: p.Name, Email: p.Email, Phone: p.Phone,
		Locked: p.Locked, Since: p.CreatedAt.Format(time.DateOnly)}
}

func (s *Server) consoleUsers(w http.ResponseWriter, r *http.Request) {
	v := console.UsersView{Page: s.page(r.Context(), "Users", "users"), Q: r.URL.Query().Get("q")}
	status := http.StatusOK
	if v.Q != "" {
		v.Searched = true
		found, err := s.support.Search(r.Context(), v.Q)
		if err != nil {
			prob, known := consoleProblem(err)
			if !known {
				s.consoleFail(w, r, err)
				return
			}
			v.Problem, status = prob, prob.Status
		}
		for _, p := range found {
			v.Users = append(v.Users, userRow(p))
		}
	}
	s.render(w, r, status, "users", v)
}

func (s *Server) consoleUserPage(w http.ResponseWriter, r *http.Request) {
	s.renderUser(w, r, nil)
}

// consoleUserReveal reveals the person for the reason in the form (audited,
// support.Service.Reveal) and shows the page with it.
func (s *Server) consoleUserReveal(w http.ResponseWriter, r *http.Request) {
	id, err := supportUserID(r)
	var form = r.PostForm
	if err == nil {
		form, err = consoleForm(r, "reason")
	}
	var v support.Revealed
	if err == nil {
		me, _ := userFrom(r.Context())
		v, err = s.support.Reveal(r.Context(), me.ID, id, form.Get("reason"))
	}
	if err != nil {
		prob, known := consoleProblem(err)
		if !known || prob.Status == http.StatusNotFound {
			s.consoleFail(w, r, err)
			return
		}
		s.renderUser(w, r, prob)
		return
	}
	card := ""
	if v.CardNumber != nil {
		card = *v.CardNumber
	}
	s.renderUserWith(w, r, nil, &console.RevealedPerson{Name: v.Name, IDNumber: v.IDNumber, Phone: v.Phone, CardNumber: card})
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, prob *console.Problem) {
	s.renderUserWith(w, r, prob, nil)
}

func (s *Server) renderUserWith(w http.ResponseWriter, r *http.Request, prob *console.Problem, revealed *console.RevealedPerson) {
	id, err := supportUserID(r)
	var p support.Page
	if err == nil {
		p, err = s.support.Page(r.Context(), id)
	}
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	v := userView(p)
	v.Page = s.page(r.Context(), "User #"+strconv.FormatInt(p.UserID, 10), "users")
	v.Revealed = revealed
	status := http.StatusOK
	if prob != nil {
		v.Problem, status = prob, prob.Status
	}
	s.render(w, r, status, "user", v)
}

// userView is the page's view model, from what support.Service.Page answers.
func userView(p support.Page) console.UserView {
	const at = "2006-01-02 15:04"
	a := p.Account
	v := console.UserView{Person: userRow(p.Person), IDNumber: p.IDNumber, BankError: p.BankError,
		Platform:         console.Balances{Available: fmtMoney(a.Available), Frozen: fmtMoney(a.Frozen)},
		PendingPrincipal: fmtMoney(a.PendingPrincipal), PendingInterest: fmtMoney(a.PendingInterest), TotalAssets: fmtMoney(a.TotalAssets)}
	if p.Bank != nil {
		v.Bank = &console.Balances{Available: fmtMoney(p.Bank.Available), Frozen: fmtMoney(p.Bank.Frozen)}
	}
	for _, l := range p.Loans {
		v.Loans = append(v.Loans, console.UserLoanRow{ID: l.ID, Amount: l.Amount, Status: string(l.Status), On: l.AppliedOn.Format(time.DateOnly), TermMonths: l.TermMonths})
	}
	for _, h := range p.Holdings {
		v.Holdings = append(v.Holdings, console.UserHoldingRow{LoanID: h.LoanID, Source: h.Source, Principal: fmtMoney(h.Principal),
			Received: fmtMoney(h.ReceivedPrincipal.Add(h.ReceivedInterest)), Pending: fmtMoney(h.PendingPrincipal.Add(h.PendingInterest)), Status: h.Status})
	}
	for _, b := range p.Bids {
		v.Bids = append(v.Bids, console.BidRow{ID: b.ID, LoanID: b.LoanID, Amount: fmtMoney(b.Amount), Status: string(b.Status), At: b.CreatedAt.Format(at)})
	}
	for _, w := range p.Withdrawals {
		v.Withdrawals = append(v.Withdrawals, console.WithdrawalRow{ID: w.ID, Amount: fmtMoney(w.Amount), Fee: fmtMoney(w.Fee), Route: w.Route,
			Status: w.Status, On: w.BusinessDate.Format(time.DateOnly)})
	}
	for _, l := range p.Transfers {
		t := transferOf(l, p.UserID)
		price := "—"
		if t.Price != nil {
			price = *t.Price
		}
		v.Transfers = append(v.Transfers, console.UserTransferRow{ID: t.TransferID, LoanID: t.LoanID, Role: t.Role, Status: t.Status, Price: price, At: t.At.Format(at)})
	}
	for _, c := range p.Coupons {
		it := couponBody(c)
		value := ""
		if it.Amount != nil {
			value = *it.Amount
		} else if it.ExtraRate != nil {
			value = "+" + *it.ExtraRate + " for " + strconv.Itoa(*it.Months) + " months"
		}
		v.Coupons = append(v.Coupons, console.UserCouponRow{ID: it.CouponID, Kind: it.Kind, Value: value, MinBid: it.MinBid,
			Expires: it.ExpiresOn, Status: it.Status, Paid: it.Paid})
	}
	for _, n := range p.Notifications {
		v.Notifications = append(v.Notifications, console.NoticeRow{On: n.BusinessDate.Format(time.DateOnly), Kind: n.Kind, Message: n.Message})
	}
	for _, f := range p.FundLog {
		v.FundLog = append(v.FundLog, console.FundRow{ID: f.ID, On: f.BusinessDate.Format(time.DateOnly), At: f.At.Format(at),
			Type: f.Type, Kind: f.Kind, Amount: fmtMoney(f.Amount), AvailableAfter: fmtMoney(f.AvailableAfter),
			FrozenAfter: fmtMoney(f.FrozenAfter), PendingReceivableAfter: fmtMoney(f.PendingReceivableAfter), Counterpart: f.Counterpart})
	}
	for _, a := range p.Actions {
		v.Actions = append(v.Actions, console.ActionRow{At: a.At.Format(at), Action: string(a.Action), By: "ops user " + strconv.FormatInt(a.OpsUserID, 10), Note: a.Note})
	}
	return v
}
