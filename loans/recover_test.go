package loans

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// A recovery the API recorded (its shares reserved) and died before starting
// its workflow has its workflow started by the worker's sweep once it has
// waited a minute: under the ID that derives from it, so a second start is
// refused by Temporal and changes nothing. One still young, or finished, is
// left alone.
func TestResumeRecoveriesStartsTheStrandedOnes(t *testing.T) {
	f := newFixture(t)
	loan := f.loan(t, "6000.00", lending.StatusWrittenOff)
	recovery := func(status, age string) int64 {
		var id int64
		require.NoError(t, f.pool.QueryRow(f.ctx, `INSERT INTO recoveries (loan_id, amount, note, ops_user_id, status, business_date, created_at)
			VALUES ($1, 100.00, 'found', $2, $3, '2026-01-31', now() - $4::interval) RETURNING id`, loan.ID, f.ops.ID, status, age).Scan(&id))
		return id
	}
	stranded := recovery("processing", "2 minutes")
	recovery("processing", "5 seconds") // its API is starting it
	recovery("succeeded", "2 minutes")
	recovery("failed", "2 minutes")

	tc := mocks.NewClient(t)
	want := workflows.RecoveryWorkflowID(loan.ID, stranded)
	var starts []client.StartWorkflowOptions
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.RecoveryWorkflowName,
		workflows.RecoveryInput{LoanID: loan.ID, RecoveryID: stranded}).
		Run(func(a mock.Arguments) { starts = append(starts, a.Get(1).(client.StartWorkflowOptions)) }).
		Return(func(context.Context, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
			if len(starts) > 1 {
				return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", "")
			}
			return nil, nil
		})
	svc := New(Deps{Pool: f.pool, Temporal: tc, Clock: f.clock, Log: quiet})

	n, err := svc.ResumeRecoveries(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, starts, 1)
	assert.Equal(t, want, starts[0].ID)
	assert.Equal(t, enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, starts[0].WorkflowIDReusePolicy, "a second start is refused")

	n, err = svc.ResumeRecoveries(f.ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "started already: nothing started again")
	assert.Len(t, starts, 2)
}
