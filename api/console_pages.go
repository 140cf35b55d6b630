package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/disclosure"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/money"
)

// Defaults of a dev stack, when the deps name no Temporal UI.
const (
	defaultTemporalUI        = "http://127.0.0.1:8233"
	defaultTemporalNamespace = "default"
)

// consoleQueues is the ops work queues with their counts (loans.Service.Queues).
func (s *Server) consoleQueues(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, err := s.loans.Queues(ctx)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "queues", s.queuesView(ctx, q))
}

func (s *Server) queuesView(ctx context.Context, q loans.Queues) console.QueuesView {
	v := console.QueuesView{Page: s.page(ctx, "Queues", "queues")}
	rows := func(ls []loans.Loan, detail string) []console.LoanRow {
		out := make([]console.LoanRow, 0, len(ls))
		for _, l := range ls {
			out = append(out, loanRow(l, detail))
		}
		return out
	}
	v.DueDiligence, v.FullReview = rows(q.DueDiligence, ""), rows(q.FullReview, "")
	for _, a := range q.WriteOffs {
		v.WriteOffs = append(v.WriteOffs, loanRow(a.Loan, fmt.Sprintf("%d days past due", a.DPD)))
	}
	if len(q.FailedDisbursements) > 0 {
		v.FailedDisbursements = rows(q.FailedDisbursements, "batch refused by the bank")
	}
	perBucket := map[string]int{}
	for _, t := range q.Tasks {
		perBucket[t.Bucket]++
		v.Tasks = append(v.Tasks, console.TaskRow{
			LoanID: t.LoanID, DPD: t.DPD, Bucket: t.Bucket, Overdue: fmtMoney(t.Overdue),
			BorrowerID: t.BorrowerID, Name: t.BorrowerName, Phone: t.BorrowerPhone, OpenedOn: t.OpenedOn.Format(time.DateOnly),
		})
	}
	// Collection tasks open at M2; M1 is the borrower's reminders alone.
	for i, b := range disclosure.Buckets[1:] {
		v.Buckets = append(v.Buckets, console.Count{Name: b, Anchor: fmt.Sprintf("b%d", i+2), N: perBucket[b]})
	}
	v.Counts = []console.Count{
		{Name: "Awaiting due diligence", Anchor: "due-diligence", N: q.Waiting[lending.StatusDueDiligence]},
		{Name: "Full-tender review", Anchor: "full-review", N: q.Waiting[lending.StatusFullReview]},
		{Name: "Write-off requests", Anchor: "write-off", N: len(v.WriteOffs)},
		{Name: "Failed disbursements", Anchor: "failed-disbursement", N: len(v.FailedDisbursements)},
		{Name: "Collection tasks", Anchor: "collection", N: len(v.Tasks)},
	}
	return v
}

func loanRow(l loans.Loan, detail string) console.LoanRow {
	row := console.LoanRow{ID: l.ID, Status: string(l.Status), Amount: fmtMoney(l.Amount), TermMonths: int32(l.TermMonths),
		Raised: fmtMoney(l.Raised), Applied: l.AppliedOn.Format(time.DateOnly), Detail: detail, Grade: "—", Rate: "—"}
	if l.Grade != nil {
		row.Grade = *l.Grade
	}
	if l.AnnualRate != nil {
		row.Rate = l.AnnualRate.String()
	}
	return row
}

// consoleFindLoan opens the loan a number names (the search box).
func (s *Server) consoleFindLoan(w http.ResponseWriter, r *http.Request) {
	id, fe := parseInt("id", strings.TrimSpace(strings.TrimPrefix(r.URL.Query().Get("id"), "#")), 1, 1<<62)
	if fe != nil {
		s.consoleFail(w, r, Validation(*fe))
		return
	}
	http.Redirect(w, r, consolePrefix+"loans/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// consoleActions are the manual steps' forms, by their path segment; step
// is the decision's step ("" for the disbursement retry, which decides
// nothing).
var consoleActions = []struct {
	kind, title, help string
	step              loans.Step
	at                lending.Status
	terms             bool
}{
	{kindDueDiligence, "Due diligence", "Approve (optionally with another grade and rate) or reject a loan waiting for manual due diligence.", loans.DueDiligence, lending.StatusDueDiligence, true},
	{kindFullTenderReview, "Full-tender review", "Approve to disburse the fully bid loan, or reject to release every bid.", loans.FullTenderReview, lending.StatusFullReview, false},
	{kindWriteOff, "Write-off", "Approve to close the receivables as loss (核销), or decline: ops are asked again 30 days later. Only while more than 90 days past due.", loans.WriteOff, lending.StatusOverdue, false},
	{kindRetry, "Retry the disbursement", "Send the disbursement batch again under a new attempt number, after the bank refused the last one. It can never pay twice.", "", lending.StatusDisbursing, false},
}

// The manual steps' path segments.
const (
	kindDueDiligence     = "due-diligence"
	kindFullTenderReview = "full-tender-review"
	kindWriteOff         = "write-off"
	kindRetry            = "disbursement-retry"
)

// consoleLoan is one loan: terms, borrower (masked), manual steps, schedule,
// investors and history (loans.Service.Dossier).
func (s *Server) consoleLoan(w http.ResponseWriter, r *http.Request) {
	d, err := s.loans.Dossier(r.Context(), loanID(r))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	v := s.loanView(r.Context(), d)
	q := r.URL.Query()
	for _, a := range consoleActions {
		if q.Get("done") == a.kind {
			v.Flash = a.title + ": done."
			if to := lending.Status(q.Get("to")); to.Valid() {
				v.Flash = fmt.Sprintf("%s: done; the workflow answered %s.", a.title, strings.ReplaceAll(string(to), "_", " "))
			}
		}
	}
	s.render(w, r, http.StatusOK, "loan", v)
}

// loanView is a dossier as the loan page shows it.
func (s *Server) loanView(ctx context.Context, d loans.Dossier) console.LoanView {
	loan := d.Loan
	v := console.LoanView{Page: s.page(ctx, fmt.Sprintf("Loan %d", loan.ID), "queues")}
	ld := console.LoanDetail{
		ID: loan.ID, Status: string(loan.Status), Amount: fmtMoney(loan.Amount), Raised: fmtMoney(loan.Raised),
		TermMonths: int32(loan.TermMonths), Method: loan.RepaymentMethod, Purpose: loan.Purpose, Newbie: loan.Newbie,
		AppliedOn: loan.AppliedOn.Format(time.DateOnly), WorkflowID: loan.WorkflowID, BorrowerID: loan.BorrowerID,
	}
	if loan.Grade != nil {
		ld.Grade = *loan.Grade
	}
	if loan.AnnualRate != nil {
		ld.Rate = loan.AnnualRate.String()
	}
	if loan.ListingExpiresOn != nil {
		ld.ListingExpires = loan.ListingExpiresOn.Format(time.DateOnly)
	}
	if loan.DisbursedOn != nil {
		ld.DisbursedOn = loan.DisbursedOn.Format(time.DateOnly)
	}
	if loan.GuarantorID != nil {
		ld.GuarantorUserID = *loan.GuarantorID
	}
	v.Loan = ld
	b := d.Borrower
	v.Borrower = console.Person{UserID: b.UserID, Name: b.Name, IDNumber: b.IDNumber, Phone: b.Phone, Revealed: b.Revealed}

	var tp, ti, tpen, tpaid decimal.Decimal
	for _, i := range d.Installments {
		v.Schedule = append(v.Schedule, console.InstallmentRow{No: int32(i.No), DueDate: i.DueDate.Format(time.DateOnly),
			Principal: fmtMoney(i.Principal), Interest: fmtMoney(i.Interest), Penalty: fmtMoney(i.Penalty), Paid: fmtMoney(i.Paid()),
			Status: string(i.Status), DPD: i.DPD})
		tp, ti, tpen, tpaid = tp.Add(i.Principal), ti.Add(i.Interest), tpen.Add(i.Penalty), tpaid.Add(i.Paid())
	}
	v.Total = console.InstallmentRow{Principal: fmtMoney(tp), Interest: fmtMoney(ti), Penalty: fmtMoney(tpen), Paid: fmtMoney(tpaid)}

	// Newest first: ops come to a loan for what just happened.
	for i := len(d.History) - 1; i >= 0; i-- {
		h := d.History[i]
		v.History = append(v.History, console.HistoryRow{Date: h.BusinessDate.Format(time.DateOnly), At: h.At.Format(time.RFC3339), Status: string(h.Status), Note: h.Note})
	}
	for _, bid := range d.Investors {
		v.Investors = append(v.Investors, console.InvestorRow{
			BidID: bid.BidID, UserID: bid.UserID, Name: bid.Name, Amount: fmtMoney(bid.Amount),
			Share: bid.Amount.Shift(2).DivRound(loan.Amount, 2).StringFixed(2) + " %", Status: string(bid.Status),
			ReceivedPrincipal: fmtMoney(bid.ReceivedPrincipal), ReceivedInterest: fmtMoney(bid.ReceivedInterest),
			PendingPrincipal: fmtMoney(bid.PendingPrincipal), PendingInterest: fmtMoney(bid.PendingInterest),
		})
	}
	for _, h := range d.Holdings {
		row := console.HoldingRow{ID: h.ID, BidID: h.BidID, UserID: h.UserID, Name: h.Name, Source: h.Source,
			Principal: fmtMoney(h.Principal), Cost: fmtMoney(h.Cost), Outstanding: fmtMoney(h.Outstanding),
			HeldFrom: h.HeldFrom.Format(time.DateOnly), Status: h.Status}
		if h.HeldTo != nil {
			row.HeldTo = h.HeldTo.Format(time.DateOnly)
		}
		v.Holdings = append(v.Holdings, row)
	}
	for _, t := range d.Transfers {
		row := console.TransferRow{ID: t.ID, BidID: t.BidID, SellerID: t.SellerID, Seller: t.Seller, BuyerID: t.BuyerID, Buyer: t.Buyer,
			Discount: t.Discount.Shift(2).StringFixed(2) + " %", Status: t.Status,
			ListedOn: t.ListedOn.Format(time.DateOnly), Expires: t.ExpiresOn.Format(time.DateOnly)}
		if t.Principal != nil && t.Price != nil && t.Fee != nil {
			row.Principal, row.Price, row.Fee = fmtMoney(*t.Principal), fmtMoney(*t.Price), fmtMoney(*t.Fee)
		}
		if t.ClosedOn != nil {
			row.Closed = t.ClosedOn.Format(time.DateOnly)
		}
		v.Transfers = append(v.Transfers, row)
	}
	for _, a := range consoleActions {
		v.Actions = append(v.Actions, console.Action{
			Kind: a.kind, Title: a.title, Help: a.help, Path: fmt.Sprintf("%sloans/%d/%s", consolePrefix, loan.ID, a.kind),
			Current: loan.Status == a.at, Open: loan.Status == a.at, Decide: a.step != "", Terms: a.terms,
		})
	}
	for _, g := range []money.Grade{"A", "B", "C", "D", "E"} {
		v.Grades = append(v.Grades, string(g))
	}
	v.TemporalURL = s.temporalURL(loan.WorkflowID)
	return v
}

// temporalURL is where an engineer reads the loan's workflow in the
// Temporal UI: <TEMPORAL_UI_URL>/namespaces/<ns>/workflows/loan-<id>.
func (s *Server) temporalURL(workflowID string) string {
	base, ns := strings.TrimRight(s.TemporalUIURL, "/"), s.TemporalNamespace
	if base == "" {
		base = defaultTemporalUI
	}
	if ns == "" {
		ns = defaultTemporalNamespace
	}
	return base + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID)
}

// consoleReveal shows the borrower's identity in full, for this answer
// only, once the reveal and its reason are in the audit log
// (loans.Service.Reveal).
func (s *Server) consoleReveal(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, _ := userFrom(ctx)
	form, err := consoleForm(r, "reason")
	var d loans.Dossier
	if err == nil {
		d, err = s.loans.Reveal(ctx, me, loanID(r), form.Get("reason"))
	}
	if err == nil {
		s.render(w, r, http.StatusOK, "loan", s.loanView(ctx, d))
		return
	}
	s.loanRefused(w, r, "", err)
}

// consoleDecide sends a decision form through loans.Service.Decide, as the
// JSON API's POST /v1/ops/loans/{id}/<step> does.
func (s *Server) consoleDecide(step loans.Step) http.HandlerFunc {
	kind := kindOf(step)
	return func(w http.ResponseWriter, r *http.Request) {
		form, err := consoleForm(r, "decision", "note", "grade", "annual_rate")
		var status lending.Status
		if err == nil {
			req := decisionRequest{Decision: lending.Decision(form.Get("decision")), Note: strings.TrimSpace(form.Get("note"))}
			if g := form.Get("grade"); g != "" {
				req.Grade = &g
			}
			if rate := strings.TrimSpace(form.Get("annual_rate")); rate != "" {
				req.AnnualRate = &rate
			}
			var d loans.Decision
			if d, err = decision(step, req); err == nil {
				me, _ := userFrom(r.Context())
				status, err = s.loans.Decide(r.Context(), me, loanFrom(r), step, d, "")
			}
		}
		s.actionAnswered(w, r, kind, status, err)
	}
}

func kindOf(step loans.Step) string {
	for _, a := range consoleActions {
		if a.step == step {
			return a.kind
		}
	}
	return ""
}

// consoleRetry sends the disbursement retry through
// loans.Service.RetryDisbursement, as POST
// /v1/ops/loans/{id}/disbursement/retry does.
func (s *Server) consoleRetry(w http.ResponseWriter, r *http.Request) {
	var status lending.Status
	_, err := consoleForm(r)
	if err == nil {
		me, _ := userFrom(r.Context())
		status, err = s.loans.RetryDisbursement(r.Context(), me, loanFrom(r), "")
	}
	s.actionAnswered(w, r, kindRetry, status, err)
}

// actionAnswered shows the outcome of a manual step: done, the loan page
// again (a redirect, so reloading it sends nothing twice); refused, the loan
// page as it is now with the refusal at the top.
func (s *Server) actionAnswered(w http.ResponseWriter, r *http.Request, kind string, status lending.Status, err error) {
	if err == nil {
		q := url.Values{"done": {kind}, "to": {string(status)}}
		http.Redirect(w, r, fmt.Sprintf("%sloans/%d?%s", consolePrefix, loanID(r), q.Encode()), http.StatusSeeOther)
		return
	}
	s.loanRefused(w, r, kind, err)
}

// loanRefused shows the loan page as it is now with the refusal at the top
// and the refused form (kind) unfolded, so ops see what they sent it for.
func (s *Server) loanRefused(w http.ResponseWriter, r *http.Request, kind string, err error) {
	prob, known := consoleProblem(err)
	if !known {
		s.consoleFail(w, r, err)
		return
	}
	d, derr := s.loans.Dossier(r.Context(), loanID(r))
	if derr != nil {
		s.consoleFail(w, r, derr)
		return
	}
	v := s.loanView(r.Context(), d)
	v.Problem = prob
	if kind != "" {
		for i := range v.Actions {
			v.Actions[i].Open = v.Actions[i].Kind == kind
		}
	}
	s.render(w, r, prob.Status, "loan", v)
}

// consoleReconciliation is one business date's reconciliation, by
// reconcile.Reports.Day as GET /v1/ops/reconciliation/{date} answers it.
func (s *Server) consoleReconciliation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := console.ReconciliationView{Page: s.page(ctx, "Reconciliation", "reconciliation")}
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	date := today.AddDate(0, 0, -1) // the last finished day
	status := http.StatusOK
	if q := r.URL.Query().Get("date"); q != "" {
		d, fe := parseDate("date", q)
		if fe != nil {
			v.Problem, _ = consoleProblem(Validation(*fe))
			status = v.Problem.Status
		} else {
			date = d
		}
	}
	v.Date, v.Prev, v.Next = date.Format(time.DateOnly), date.AddDate(0, 0, -1).Format(time.DateOnly), date.AddDate(0, 0, 1).Format(time.DateOnly)
	if v.Problem == nil {
		rep, _, err := s.reports.Day(ctx, date)
		if err != nil {
			prob, known := consoleProblem(err)
			if !known {
				s.Logger.Error("console reconciliation", "date", v.Date, "error", err)
			}
			v.Problem, status = prob, prob.Status
		} else {
			v.Status = rep.Status
			for _, d := range rep.Differences {
				v.Differences = append(v.Differences, console.Difference{RequestNo: d.RequestNo, Kind: d.Kind, Account: d.Account,
					BankAmount: d.BankAmount, LedgerAmount: d.LedgerAmount, Reason: d.Reason})
			}
		}
	}
	s.render(w, r, status, "reconciliation", v)
}

// disclosureHistory is how far back the chart reaches.
const disclosureHistory = 366

// consoleDisclosure is the published figures (as GET /v1/stats answers
// them) and the history of overdue amounts by DPD bucket.
func (s *Server) consoleDisclosure(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := console.DisclosureView{Page: s.page(ctx, "Disclosure", "disclosure")}
	f, hist, err := s.disclosure.Chart(ctx, disclosureHistory)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	body := statsBody(f)
	pct := func(d decimal.Decimal) string { return f.Rate(d).Shift(2).StringFixed(2) + " %" }
	v.Figures = []console.Figure{
		{Name: "Cumulative volume", Value: body.CumulativeVolume},
		{Name: "Outstanding principal", Value: body.OutstandingPrincipal},
		{Name: "Borrowers", Value: strconv.FormatInt(body.Borrowers, 10)},
		{Name: "Investors", Value: strconv.FormatInt(body.Investors, 10)},
		{Name: "Overdue amount", Value: body.OverdueAmount},
		{Name: "Overdue rate", Value: pct(f.Overdue())},
		{Name: "M3+ amount", Value: body.M3PlusAmount},
		{Name: "Written off", Value: body.WrittenOff},
		{Name: "Risk-reserve balance", Value: body.RiskReserveBalance},
		{Name: "Claims sold (debt transfer)", Value: strconv.FormatInt(body.TransfersSold, 10)},
		{Name: "Transfer volume", Value: body.TransferVolume},
		{Name: "Transfer fees", Value: body.TransferFees},
	}
	for i, b := range disclosure.Buckets {
		v.Buckets = append(v.Buckets, console.BucketFigure{Bucket: b, Amount: body.OverdueByBucket[b], Rate: pct(f.OverdueByBucket[b]), Color: fmt.Sprintf("b%d", i+1)})
	}
	points := make([]console.ChartPoint, 0, len(hist))
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		hp := console.HistoryPoint{Date: h.AsOf.Format(time.DateOnly), Overdue: fmtMoney(h.Overdue()),
			Outstanding: fmtMoney(h.OutstandingPrincipal), Rate: h.Rate(h.Overdue()).Shift(2).StringFixed(2) + " %"}
		for _, b := range disclosure.Buckets {
			hp.Buckets = append(hp.Buckets, fmtMoney(h.OverdueByBucket[b]))
		}
		v.History = append(v.History, hp)
	}
	for _, h := range hist {
		p := console.ChartPoint{Date: h.AsOf}
		for _, b := range disclosure.Buckets {
			p.Values = append(p.Values, h.OverdueByBucket[b])
		}
		points = append(points, p)
	}
	v.Chart = console.OverdueChart(disclosure.Buckets, points)
	s.render(w, r, http.StatusOK, "disclosure", v)
}

// errAdvanceRunning: one console advance at a time, whichever replica runs
// it (the clock serializes advances anyway; this says so instead of queueing).
var errAdvanceRunning = errs.New(errs.Conflict, "a clock advance is running")

// errNoAdvance: the progress asked for before the console ever advanced.
var errNoAdvance = errs.New(errs.NotFound, "no clock advance started")
