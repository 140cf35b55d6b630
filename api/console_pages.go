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

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/disclosure"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/money"
	"github.com/lendflow/lendflow/reconcile"
	"github.com/lendflow/lendflow/workflows"
)

// queueShown is how many loans a queue lists on the page.
const queueShown = 100

// The history rows the workflow writes when it asks ops to write a loan off
// (activities.Collect, step write_off_request) and when ops decline
// (workflows/loan.go; opsNoteKinds): the write-off queue reads them. The
// end-to-end console test takes a loan past 90 days and sees it queued.
const (
	writeOffAskNote      = "more than 90 days past due: ops asked to write off"
	writeOffDeclinedNote = "write-off declined: "
)

// Defaults of a dev stack, when the deps name no Temporal UI.
const (
	defaultTemporalUI        = "http://127.0.0.1:8233"
	defaultTemporalNamespace = "default"
)

// consoleQueues is the ops work queues with their counts.
func (s *Server) consoleQueues(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := s.queuesView(ctx)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "queues", v)
}

func (s *Server) queuesView(ctx context.Context) (console.QueuesView, error) {
	v := console.QueuesView{Page: s.page(ctx, "Queues", "queues")}
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		return v, err
	}
	counts, err := s.Q.LoanCountByStatus(ctx, lending.Strings(lending.StatusDueDiligence, lending.StatusFullReview))
	if err != nil {
		return v, err
	}
	byStatus := map[lending.Status]int{}
	for _, c := range counts {
		byStatus[c.Status] = int(c.Loans)
	}
	list := func(status lending.Status) ([]console.LoanRow, error) {
		loans, err := s.Q.LoanListByStatus(ctx, dbq.LoanListByStatusParams{Status: status, Lim: queueShown})
		rows := make([]console.LoanRow, 0, len(loans))
		for _, l := range loans {
			rows = append(rows, loanRow(l, ""))
		}
		return rows, err
	}
	if v.DueDiligence, err = list(lending.StatusDueDiligence); err != nil {
		return v, err
	}
	if v.FullReview, err = list(lending.StatusFullReview); err != nil {
		return v, err
	}
	writeOffs, err := s.Q.LoanListWriteOffRequested(ctx, dbq.LoanListWriteOffRequestedParams{
		DueBy: today.AddDate(0, 0, -(lending.WriteOffAfterDPD + 1)), AskNote: writeOffAskNote, DeclinedNote: writeOffDeclinedNote, Lim: queueShown,
	})
	if err != nil {
		return v, err
	}
	for _, l := range writeOffs {
		v.WriteOffs = append(v.WriteOffs, loanRow(l.Loan, fmt.Sprintf("%d days past due", lending.Days(l.OldestDue, today))))
	}
	failed, err := s.Q.LoanListFailedDisbursement(ctx, queueShown)
	if err != nil {
		return v, err
	}
	for _, l := range failed {
		v.FailedDisbursements = append(v.FailedDisbursements, loanRow(l, "batch refused by the bank"))
	}
	tasks, err := s.collectionTasks(ctx, today)
	if err != nil {
		return v, err
	}
	perBucket := map[string]int{}
	for _, t := range tasks {
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
		{Name: "Awaiting due diligence", Anchor: "due-diligence", N: byStatus[lending.StatusDueDiligence]},
		{Name: "Full-tender review", Anchor: "full-review", N: byStatus[lending.StatusFullReview]},
		{Name: "Write-off requests", Anchor: "write-off", N: len(v.WriteOffs)},
		{Name: "Failed disbursements", Anchor: "failed-disbursement", N: len(v.FailedDisbursements)},
		{Name: "Collection tasks", Anchor: "collection", N: len(v.Tasks)},
	}
	return v, nil
}

func loanRow(l dbq.Loan, detail string) console.LoanRow {
	row := console.LoanRow{ID: l.ID, Status: string(l.Status), Amount: fmtMoney(l.Amount), TermMonths: l.TermMonths,
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

// consoleActions are the manual steps' forms, by their path segment.
var consoleActions = []struct {
	kind, title, help string
	update            string
	at                lending.Status
	terms             bool
}{
	{"due-diligence", "Due diligence", "Approve (optionally with another grade and rate) or reject a loan waiting for manual due diligence.", workflows.UpdateDueDiligence, lending.StatusDueDiligence, true},
	{"full-tender-review", "Full-tender review", "Approve to disburse the fully bid loan, or reject to release every bid.", workflows.UpdateFullTenderReview, lending.StatusFullReview, false},
	{"write-off", "Write-off", "Approve to close the receivables as loss (核销), or decline: ops are asked again 30 days later. Only while more than 90 days past due.", workflows.UpdateWriteOff, lending.StatusOverdue, false},
	{"disbursement-retry", "Retry the disbursement", "Send the disbursement batch again under a new attempt number, after the bank refused the last one. It can never pay twice.", workflows.UpdateRetryDisbursal, lending.StatusDisbursing, false},
}

func actionFor(update string) (kind, title string) {
	for _, a := range consoleActions {
		if a.update == update {
			return a.kind, a.title
		}
	}
	return "", ""
}

// consoleLoan is one loan: terms, borrower (masked), manual steps, schedule,
// investors and history.
func (s *Server) consoleLoan(w http.ResponseWriter, r *http.Request) {
	loan, err := s.loanFor(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	v, err := s.loanView(r.Context(), loan, false)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
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

func (s *Server) loanView(ctx context.Context, loan dbq.Loan, reveal bool) (console.LoanView, error) {
	v := console.LoanView{Page: s.page(ctx, fmt.Sprintf("Loan %d", loan.ID), "queues")}
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		return v, err
	}
	d := console.LoanDetail{
		ID: loan.ID, Status: string(loan.Status), Amount: fmtMoney(loan.Amount), Raised: fmtMoney(loan.Raised),
		TermMonths: loan.TermMonths, Method: loan.RepaymentMethod, Purpose: loan.Purpose, Newbie: loan.Newbie,
		AppliedOn: loan.AppliedOn.Format(time.DateOnly), WorkflowID: loan.WorkflowID, BorrowerID: loan.BorrowerID,
	}
	if loan.Grade != nil {
		d.Grade = *loan.Grade
	}
	if loan.AnnualRate != nil {
		d.Rate = loan.AnnualRate.String()
	}
	if loan.ListingExpiresOn != nil {
		d.ListingExpires = loan.ListingExpiresOn.Format(time.DateOnly)
	}
	if loan.DisbursedOn != nil {
		d.DisbursedOn = loan.DisbursedOn.Format(time.DateOnly)
	}
	if loan.GuarantorID != nil {
		d.GuarantorUserID = *loan.GuarantorID
	}
	v.Loan = d

	b, err := s.Q.UserGet(ctx, loan.BorrowerID)
	if err != nil {
		return v, err
	}
	v.Borrower = console.Person{UserID: b.ID, Name: kyc.MaskName(b.Name), IDNumber: kyc.MaskIDNumber(b.IDNumber), Phone: kyc.MaskPhone(b.Phone)}
	if reveal {
		v.Borrower = console.Person{UserID: b.ID, Name: b.Name, IDNumber: b.IDNumber, Phone: b.Phone, Revealed: true}
	}

	insts, err := s.Q.InstallmentList(ctx, loan.ID)
	if err != nil {
		return v, err
	}
	var tp, ti, tpen, tpaid decimal.Decimal
	for _, i := range insts {
		row := installmentAsOf(i, today)
		ir := console.InstallmentRow{No: row.No, DueDate: row.DueDate, Principal: row.Principal, Interest: row.Interest,
			Penalty: row.Penalty, Paid: row.Paid, Status: string(row.Status)}
		if row.Status.Open() && today.After(i.DueDate) {
			ir.DPD = lending.Days(i.DueDate, today)
		}
		v.Schedule = append(v.Schedule, ir)
		tp, ti = tp.Add(i.Principal), ti.Add(i.Interest)
		tpen = tpen.Add(penaltyAsOf(i, today))
		tpaid = tpaid.Add(i.PaidPrincipal).Add(i.PaidInterest).Add(i.PaidPenalty)
	}
	v.Total = console.InstallmentRow{Principal: fmtMoney(tp), Interest: fmtMoney(ti), Penalty: fmtMoney(tpen), Paid: fmtMoney(tpaid)}

	hist, err := s.Q.LoanHistoryList(ctx, loan.ID)
	if err != nil {
		return v, err
	}
	// Newest first: ops come to a loan for what just happened.
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		v.History = append(v.History, console.HistoryRow{Date: h.BusinessDate.Format(time.DateOnly), At: h.At.Format(time.RFC3339), Status: string(h.Status), Note: h.Note})
	}

	bids, err := s.Q.BidListWithShares(ctx, loan.ID)
	if err != nil {
		return v, err
	}
	for _, bid := range bids {
		v.Investors = append(v.Investors, console.InvestorRow{
			BidID: bid.BidID, UserID: bid.InvestorID, Name: kyc.MaskName(bid.InvestorName), Amount: fmtMoney(bid.Amount),
			Share: bid.Amount.Shift(2).DivRound(loan.Amount, 2).StringFixed(2) + " %", Status: string(bid.Status),
			ReceivedPrincipal: fmtMoney(bid.ReceivedPrincipal), ReceivedInterest: fmtMoney(bid.ReceivedInterest),
			PendingPrincipal: fmtMoney(bid.PendingPrincipal), PendingInterest: fmtMoney(bid.PendingInterest),
		})
	}

	for _, a := range consoleActions {
		v.Actions = append(v.Actions, console.Action{
			Kind: a.kind, Title: a.title, Help: a.help, Path: fmt.Sprintf("%sloans/%d/%s", consolePrefix, loan.ID, a.kind),
			Current: loan.Status == a.at, Open: loan.Status == a.at, Decide: a.update != workflows.UpdateRetryDisbursal, Terms: a.terms,
		})
	}
	for _, g := range []money.Grade{"A", "B", "C", "D", "E"} {
		v.Grades = append(v.Grades, string(g))
	}
	v.TemporalURL = s.temporalURL(loan.WorkflowID)
	return v, nil
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
// only, once the reveal and its reason are in the audit log: a reveal the
// log does not hold is not shown.
func (s *Server) consoleReveal(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	loan, err := s.loanFor(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	form, err := consoleForm(r, "reason")
	if err == nil {
		reason := strings.TrimSpace(form.Get("reason"))
		note := fmt.Sprintf("loan %d: %s", loan.ID, reason)
		switch {
		case reason == "":
			err = Validation(FieldError{Field: "reason", Message: "say why you need the full identity"})
		case len(note) > audit.MaxNote:
			err = Validation(FieldError{Field: "reason", Message: "at most 2000 bytes"})
		default:
			err = s.audit(ctx, nil, audit.BorrowerReveal, audit.User(loan.BorrowerID), note)
		}
	}
	v, verr := s.loanView(ctx, loan, err == nil)
	if verr != nil {
		s.consoleFail(w, r, verr)
		return
	}
	status := http.StatusOK
	if err != nil {
		prob, known := consoleProblem(err)
		if !known {
			s.consoleFail(w, r, err)
			return
		}
		v.Problem, status = prob, prob.Status
	}
	s.render(w, r, status, "loan", v)
}

// consoleDecide sends a decision form through decide, as the JSON API's
// POST /v1/ops/loans/{id}/<step> does.
func (s *Server) consoleDecide(update string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		loan, err := s.loanFor(r)
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		form, err := consoleForm(r, "decision", "note", "grade", "annual_rate")
		var reply workflows.StatusReply
		if err == nil {
			req := decisionRequest{Decision: lending.Decision(form.Get("decision")), Note: strings.TrimSpace(form.Get("note"))}
			if g := form.Get("grade"); g != "" {
				req.Grade = &g
			}
			if rate := strings.TrimSpace(form.Get("annual_rate")); rate != "" {
				req.AnnualRate = &rate
			}
			reply, err = s.decide(r.Context(), loan, update, req)
		}
		s.actionAnswered(w, r, loan, update, reply, err)
	}
}

// consoleRetry sends the disbursement retry through dateAction, as POST
// /v1/ops/loans/{id}/disbursement/retry does.
func (s *Server) consoleRetry(w http.ResponseWriter, r *http.Request) {
	loan, err := s.loanFor(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	var reply workflows.StatusReply
	if _, err = consoleForm(r); err == nil {
		reply, err = s.dateAction(r.Context(), loan, workflows.UpdateRetryDisbursal)
	}
	s.actionAnswered(w, r, loan, workflows.UpdateRetryDisbursal, reply, err)
}

// actionAnswered shows the outcome of a manual step: done, the loan page
// again (a redirect, so reloading it sends nothing twice); refused, the loan
// page as it is now with the refusal at the top.
func (s *Server) actionAnswered(w http.ResponseWriter, r *http.Request, loan dbq.Loan, update string, reply workflows.StatusReply, err error) {
	kind, _ := actionFor(update)
	if err == nil {
		q := url.Values{"done": {kind}, "to": {string(reply.Status)}}
		http.Redirect(w, r, fmt.Sprintf("%sloans/%d?%s", consolePrefix, loan.ID, q.Encode()), http.StatusSeeOther)
		return
	}
	prob, known := consoleProblem(err)
	if !known {
		s.consoleFail(w, r, err)
		return
	}
	if now, gerr := s.Q.LoanGet(r.Context(), loan.ID); gerr == nil {
		loan = now
	}
	v, verr := s.loanView(r.Context(), loan, false)
	if verr != nil {
		s.consoleFail(w, r, verr)
		return
	}
	v.Problem = prob
	for i := range v.Actions {
		// Unfold the refused form, so ops see what they sent it for.
		v.Actions[i].Open = v.Actions[i].Kind == kind
	}
	s.render(w, r, prob.Status, "loan", v)
}

// consoleReconciliation is one business date's reconciliation, by
// reconcile.Run as GET /v1/ops/reconciliation/{date} answers it.
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
		rep, err := reconcile.Run(ctx, s.Q, s.BankFiles, date, today)
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
	today, _, err := s.Clock.Today(ctx)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	f, err := disclosure.Compute(ctx, s.Q, today)
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
	}
	for i, b := range disclosure.Buckets {
		v.Buckets = append(v.Buckets, console.BucketFigure{Bucket: b, Amount: body.OverdueByBucket[b], Rate: pct(f.OverdueByBucket[b]), Color: fmt.Sprintf("b%d", i+1)})
	}
	hist, err := disclosure.History(ctx, s.Q, today.AddDate(0, 0, -disclosureHistory), today)
	if err != nil {
		s.consoleFail(w, r, err)
		return
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
