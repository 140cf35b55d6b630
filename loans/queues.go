package loans

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

// CollectionTask is one loan ops must work (docs/rules.md "Overdue": M2, an
// ops collection task): its oldest open installment is at least 31 days past
// due.
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

func (s *service) CollectionTasks(ctx context.Context) ([]CollectionTask, error) {
	today, err := s.today(ctx)
	if err != nil {
		return nil, err
	}
	return s.collectionTasks(ctx, today)
}

// collectionTasks are the loans at M2 and beyond as of today, most days past
// due first. Derived from the installments and the business date, so a loan
// leaves the list the moment a payment makes a younger installment its oldest.
func (s *service) collectionTasks(ctx context.Context, today time.Time) ([]CollectionTask, error) {
	rows, err := s.q.InstallmentListForCollection(ctx, dbq.InstallmentListForCollectionParams{
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
			phone, err := pii.Open(r.BorrowerPhone)
			if err != nil {
				return nil, err
			}
			dpd := lending.Days(i.DueDate, today)
			out = append(out, CollectionTask{
				LoanID: i.LoanID, DPD: dpd, Bucket: lending.Bucket(dpd), Overdue: decimal.Zero,
				BorrowerID: r.BorrowerID, BorrowerName: r.BorrowerName, BorrowerPhone: phone,
				OpenedOn: i.DueDate.AddDate(0, 0, lending.M2FromDPD),
			})
		}
		t := &out[len(out)-1]
		t.Overdue = t.Overdue.Add(unpaidPrincipalInterest(i)).Add(penaltyAsOf(i, today).Sub(i.PaidPenalty))
	}
	slices.SortStableFunc(out, func(a, b CollectionTask) int { return cmp.Compare(b.DPD, a.DPD) })
	return out, nil
}

// QueueShown is how many loans a queue lists.
const QueueShown = 100

// Queues are ops' work queues (docs/console.md "The queues").
type Queues struct {
	Today time.Time
	// Waiting counts the loans in each manual status (due diligence,
	// full-tender review), beyond the QueueShown listed.
	Waiting             map[lending.Status]int
	DueDiligence        []Loan
	FullReview          []Loan
	WriteOffs           []WriteOffAsk
	FailedDisbursements []Loan
	Tasks               []CollectionTask
}

// WriteOffAsk is a loan ops were asked to write off and have not declined
// since, with the days past due of its oldest open installment.
type WriteOffAsk struct {
	Loan Loan
	DPD  int
}

func (s *service) Queues(ctx context.Context) (Queues, error) {
	today, err := s.today(ctx)
	if err != nil {
		return Queues{}, err
	}
	v := Queues{Today: today, Waiting: map[lending.Status]int{}}
	counts, err := s.q.LoanCountByStatus(ctx, lending.Strings(lending.StatusDueDiligence, lending.StatusFullReview))
	if err != nil {
		return v, err
	}
	for _, c := range counts {
		v.Waiting[c.Status] = int(c.Loans)
	}
	for status, into := range map[lending.Status]*[]Loan{lending.StatusDueDiligence: &v.DueDiligence, lending.StatusFullReview: &v.FullReview} {
		loans, err := s.q.LoanListByStatus(ctx, dbq.LoanListByStatusParams{Status: status, Lim: QueueShown})
		if err != nil {
			return v, err
		}
		*into = loansFrom(loans)
	}
	writeOffs, err := s.q.LoanListWriteOffRequested(ctx, dbq.LoanListWriteOffRequestedParams{
		DueBy: today.AddDate(0, 0, -(lending.WriteOffAfterDPD + 1)), AskNote: WriteOffAskNote, DeclinedNote: WriteOffDeclinedNote, Lim: QueueShown,
	})
	if err != nil {
		return v, err
	}
	for _, l := range writeOffs {
		v.WriteOffs = append(v.WriteOffs, WriteOffAsk{Loan: loanFrom(l.Loan), DPD: lending.Days(l.OldestDue, today)})
	}
	failed, err := s.q.LoanListFailedDisbursement(ctx, QueueShown)
	if err != nil {
		return v, err
	}
	v.FailedDisbursements = loansFrom(failed)
	if v.Tasks, err = s.collectionTasks(ctx, today); err != nil {
		return v, err
	}
	return v, nil
}
