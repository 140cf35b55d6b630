package api

import (
	"net/http"
	"time"
)

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

// collectionTaskList answers GET /v1/ops/collection-tasks
// (loans.Service.CollectionTasks). Ops see the
// borrower's real name and phone here, since calling them is the task; the
// list is their work queue, not a disclosure, so reading it is not audited
// (docs/console.md).
func (s *Server) collectionTaskList(w http.ResponseWriter, r *http.Request) {
	tasks, err := s.loans.CollectionTasks(r.Context())
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
