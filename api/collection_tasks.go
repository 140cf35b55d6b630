package api

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// CollectionTask is one loan ops must work (docs/rules.md "overdue": M2, an ops
// collection task): its oldest open installment is at least 31 days past due.
type CollectionTask struct {
	LoanID int64
	// DPD is the days past due of the loan's oldest open installment, and
	// Bucket its name (lending.Bucket).
	DPD    int
	Bucket string
	// Overdue is what the borrower owes now on every installment past its
	// due date: unpaid principal + interest + unpaid penalty accrued to the
	// business date (penaltyAsOf).
	Overdue decimal.Decimal
	// The borrower, unmasked: contacting them is the task.
	BorrowerID    int64
	BorrowerName  string
	BorrowerPhone string
	// OpenedOn is when the loan entered M2: the oldest open installment's
	// due date + 31 days.
	OpenedOn time.Time
}

// collectionTasks are the loans at M2 and beyond as of today, most days past
// due first. Derived from the installments and the business date, so a loan
// leaves the list the moment a payment makes a younger installment its oldest.
func (s *Server) collectionTasks(ctx context.Context, today time.Time) ([]CollectionTask, error) {
	rows, err := s.Q.InstallmentListForCollection(ctx, dbq.InstallmentListForCollectionParams{
		Today: today, M2DueBy: today.AddDate(0, 0, -lending.M2FromDPD),
	})
	if err != nil {
		return nil, err
	}
	var out []CollectionTask
	for _, r := range rows {
		i := r.Installment
		// Rows come by loan, oldest installment first: the first row of a loan
		// opens its task and fixes its DPD.
		if len(out) == 0 || out[len(out)-1].LoanID != i.LoanID {
			dpd := lending.Days(i.DueDate, today)
			out = append(out, CollectionTask{
				LoanID: i.LoanID, DPD: dpd, Bucket: lending.Bucket(dpd), Overdue: decimal.Zero,
				BorrowerID: r.BorrowerID, BorrowerName: r.BorrowerName, BorrowerPhone: r.BorrowerPhone,
				OpenedOn: i.DueDate.AddDate(0, 0, lending.M2FromDPD),
			})
		}
		t := &out[len(out)-1]
		t.Overdue = t.Overdue.Add(unpaidPrincipalInterest(i)).Add(penaltyAsOf(i, today).Sub(i.PaidPenalty))
	}
	slices.SortStableFunc(out, func(a, b CollectionTask) int { return cmp.Compare(b.DPD, a.DPD) })
	return out, nil
}

type collectionTaskItem struct {
	LoanID        int64                  `json:"loan_id"`
	DPD           int                    `json:"dpd"`
	Bucket        string                 `json:"bucket"`
	OverdueAmount string                 `json:"overdue_amount"`
	Borrower      collectionTaskBorrower `json:"borrower"`
	OpenedOn      string                 `json:"opened_on"`
}

type collectionTaskBorrower struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	Phone  string `json:"phone"`
}

// collectionTaskList answers GET /v1/ops/collection-tasks. Ops see the
// borrower's real name and phone here, since calling them is the task; the
// list is their work queue, not a disclosure, so reading it is not audited
// (docs/console.md).
func (s *Server) collectionTaskList(w http.ResponseWriter, r *http.Request) {
	today, ok := s.today(w, r)
	if !ok {
		return
	}
	tasks, err := s.collectionTasks(r.Context(), today)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items []collectionTaskItem `json:"items"`
	}{Items: []collectionTaskItem{}}
	for _, t := range tasks {
		out.Items = append(out.Items, collectionTaskItem{
			LoanID: t.LoanID, DPD: t.DPD, Bucket: t.Bucket, OverdueAmount: fmtMoney(t.Overdue),
			Borrower: collectionTaskBorrower{UserID: t.BorrowerID, Name: t.BorrowerName, Phone: t.BorrowerPhone},
			OpenedOn: t.OpenedOn.Format(time.DateOnly),
		})
	}
	writeJSON(w, http.StatusOK, out)
}
