// Package worker hosts the loan workflow and its activities on the lendflow
// task queue.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/workflows"
)

// New registers the workflow under its frozen name and every activity method.
func New(tc client.Client, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(tc, workflows.TaskQueue, sdkworker.Options{})
	Register(w, acts)
	return w
}

// Register is shared with the replayer and tests so they see the same names.
func Register(r interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
	RegisterActivity(any)
}, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.LoanWorkflow, workflow.RegisterOptions{Name: workflows.LoanWorkflowName})
	if acts != nil {
		r.RegisterActivity(acts)
	}
}
