package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
)

// Applying the migrations again changes nothing: every process migrates at start.
func TestMigrateTwiceIsANoOp(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	var before int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&before))
	require.NoError(t, db.Migrate(ctx, pool, db.Migrations(), "schema_migrations"))
	var after int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&after))
	assert.Equal(t, before, after)
	assert.GreaterOrEqual(t, after, 3)
}

// The database itself refuses what would corrupt money, whatever the Go code does.
func TestSchemaGuardsMoney(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO users (email, password_hash, role, name, id_number, phone) VALUES ('a@b', 'x', 'borrower', 'n', '', '')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO loans (borrower_id, amount, term_months, repayment_method, purpose, monthly_income, status, workflow_id, applied_on)
		VALUES (1, 1000.00, 12, 'bullet', 'x', 1.00, 'listed', 'w1', '2026-01-01')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE loans SET raised = 1000.01 WHERE id = 1`)
	assert.Error(t, err, "raised can never exceed the amount: no oversubscription")
	_, err = pool.Exec(ctx, `UPDATE loans SET term_months = 37 WHERE id = 1`)
	assert.Error(t, err, "term 1–36")
	_, err = pool.Exec(ctx, `INSERT INTO loans (borrower_id, amount, term_months, repayment_method, purpose, monthly_income, status, workflow_id, applied_on)
		VALUES (1, 1000.00, 12, 'bullet', 'x', 1.00, 'listed', 'w1', '2026-01-01')`)
	assert.Error(t, err, "one workflow per loan")
	var amount string
	require.NoError(t, pool.QueryRow(ctx, `SELECT amount::text FROM loans WHERE id = 1`).Scan(&amount))
	assert.Equal(t, "1000.00", amount)
}
