package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
)

// RecoveryInput starts the workflow of one recovery.
type RecoveryInput struct {
	LoanID     int64
	RecoveryID int64
}

// RecoveryWorkflow distributes one recovery on a written-off loan to its
// claim holders (docs/rules.md "write-off"; docs/collection.md "Recoveries"). The
// loan's own workflow has ended with the write-off; each recovery is a
// workflow of its own, ID loan-<id>-recovery-<n>, so a loan can receive
// several and each is recorded in Temporal as well as in its history rows.
func RecoveryWorkflow(ctx workflow.Context, in RecoveryInput) (activities.RecoverResult, error) {
	opts := bankCallOptions
	opts.Summary = "loan " + itoa(in.LoanID) + ": distribute recovery " + itoa(in.RecoveryID) + " to the claim holders"
	var res activities.RecoverResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), ActivityRecover,
		activities.RecoverInput{RecoveryID: in.RecoveryID}).Get(ctx, &res)
	return res, err
}
