package dbtest_test

import (
	"context"
	"fmt"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/lending"
)

// shape is what a schema holds that a test could see: each table's rows
// (counted) and each sequence's next value.
func shape(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	got := map[string]string{}
	for _, tbl := range tables {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+tbl).Scan(&n))
		got["table "+tbl] = fmt.Sprint(n)
	}
	rows, err = pool.Query(ctx, `SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = current_schema()`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		var last int64
		require.NoError(t, rows.Scan(&name, &last))
		got["sequence "+name] = fmt.Sprint(last)
	}
	require.NoError(t, rows.Err())
	var off int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND tg.tgenabled = 'D'`).Scan(&off))
	got["triggers off"] = fmt.Sprint(off)
	return got
}

// Schemas are kept and handed to the next test (recycle.go): whatever a test
// wrote, money through the ledger's append-only tables among it, the next
// test gets the platform's schema as its migrations left it.
func TestAKeptSchemaIsAsItsMigrationsLeftIt(t *testing.T) {
	var fresh map[string]string
	t.Run("fresh", func(t *testing.T) {
		pool := dbtest.NewWith(t, dbtest.Platform())
		fresh = shape(t, pool)
	})
	migrations, err := fs.Glob(db.Migrations(), "*.sql")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(len(migrations)), fresh["table schema_migrations"])
	assert.Equal(t, "1", fresh["table event_feed_head"], "the feed's head, written by its migration")
	assert.Equal(t, "0", fresh["table users"])
	assert.Equal(t, "0", fresh["triggers off"])
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			e := testenv.New(t)
			assert.Equal(t, fresh, shape(t, e.Pool), "what the schema held when the test got it")
			// Money moved (journal entries, postings: append-only), users, a loan.
			e.ListedLoan(e.User(lending.RoleBorrower, "100.00"), "10000.00", "A", "0.10", 12, false)
			e.Investor("C3", "5000.00")
			dirty := shape(t, e.Pool)
			assert.NotEqual(t, fresh["table postings"], dirty["table postings"])
			assert.NotEqual(t, fresh["sequence loans_id_seq"], dirty["sequence loans_id_seq"])
		})
	}
}
