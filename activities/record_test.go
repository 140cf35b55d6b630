package activities_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
)

// A declined write-off's row publishes the date ops are asked again: the
// clock stops only where a loan has published a step, so without it the loan
// would never be asked again (docs/workflow.md "The business clock").
func TestRecordPublishesTheNextDatedStep(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	acts := activities.New(e.Pool, e.Bank, e.Log, false)
	loan := e.ListedLoan(e.User(lending.RoleBorrower, ""), "2000.00", "C", "0.11", 3, false)
	_, err := e.Pool.Exec(e.Ctx, `UPDATE loans SET status = $2, next_event_on = NULL WHERE id = $1`, loan.ID, lending.StatusOverdue)
	require.NoError(t, err)

	reask := e.Today.AddDate(0, 0, 30)
	require.NoError(t, acts.Record(e.Ctx, activities.RecordInput{LoanID: loan.ID, Seq: 500,
		From: []lending.Status{lending.StatusOverdue}, To: lending.StatusOverdue,
		Note: "write-off declined: one more try", Today: e.Today, Next: &reask}))
	got, err := e.Q.LoanGet(e.Ctx, loan.ID)
	require.NoError(t, err)
	require.NotNil(t, got.NextEventOn)
	assert.Equal(t, reask.Format("2006-01-02"), got.NextEventOn.Format("2006-01-02"))
	assert.Equal(t, int32(500), got.NextEventSeq)
	assert.Equal(t, lending.StatusOverdue, got.Status)
}
