package activities

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/lendflow/lendflow/logging"
)

// logger is the logger for one activity execution: the workflow it works for
// (workflow_id, run_id), the loan (loan_id, read back from the workflow ID),
// the activity and its attempt, so a retried bank call's lines can be found
// from the loan number alone. Outside an activity it is the plain logger.
func (a *Activities) logger(ctx context.Context) *slog.Logger {
	l := a.log
	if l == nil {
		l = slog.Default()
	}
	if !activity.IsActivity(ctx) {
		return l
	}
	info := activity.GetInfo(ctx)
	wf := info.WorkflowExecution.ID
	l = l.With(logging.WorkflowID, wf, logging.RunID, info.WorkflowExecution.RunID,
		"activity", info.ActivityType.Name, "attempt", info.Attempt)
	if id := loanIDOf(wf); id != 0 {
		l = l.With(logging.LoanID, id)
	}
	return l
}

// loanIDOf is the loan a workflow ID names ("loan-42",
// workflows.LoanWorkflowID, which this package cannot import), or 0.
func loanIDOf(workflowID string) int64 {
	n, ok := strings.CutPrefix(workflowID, "loan-")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != n {
		return 0
	}
	return id
}
