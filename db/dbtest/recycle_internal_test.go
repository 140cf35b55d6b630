package dbtest

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ledgerLike is a set of migrations of this test's own, so the kept schemas
// of its fingerprint are this test's alone: an append-only table the
// migration writes a row into.
var ledgerLike = Migration{Table: "schema_migrations", FS: fstest.MapFS{"0001_entries.sql": {Data: []byte(`
CREATE TABLE entries (id bigserial PRIMARY KEY, note text NOT NULL);
CREATE FUNCTION entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'entries are append-only'; END $$;
CREATE TRIGGER entries_kept BEFORE UPDATE OR DELETE ON entries FOR EACH ROW EXECUTE FUNCTION entries_append_only();
CREATE TRIGGER entries_not_emptied BEFORE TRUNCATE ON entries FOR EACH STATEMENT EXECUTE FUNCTION entries_append_only();
INSERT INTO entries (note) VALUES ('written by the migration');
`)}}}

func schemaOf(t *testing.T, pool *pgxpool.Pool) string {
	var s string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&s))
	return s
}

func notes(t *testing.T, pool *pgxpool.Pool) []string {
	rows, err := pool.Query(context.Background(), `SELECT id || ' ' || note FROM entries ORDER BY id`)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return got
}

// The next test gets the kept schema back as its migration left it, though
// the rows before it are append-only; a schema whose shape a test changed
// (a trigger left off) is dropped, never handed on.
func TestKeptSchemasComeBackAsMigrated(t *testing.T) {
	ctx := context.Background()
	s, err := setOf([]Migration{ledgerLike})
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	old, err := names(ctx, conn, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, recycledPrefix+s.fp+"_")
	require.NoError(t, err)
	for _, schema := range old { // an earlier run's, emptied each time: start from none
		_, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		require.NoError(t, err)
	}

	var first, second string
	t.Run("first", func(t *testing.T) {
		pool := NewWith(t, ledgerLike)
		first = schemaOf(t, pool)
		assert.Equal(t, []string{"1 written by the migration"}, notes(t, pool))
		_, err := pool.Exec(ctx, `INSERT INTO entries (note) VALUES ('a test''s'), ('another')`)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `DELETE FROM entries`)
		require.ErrorContains(t, err, "append-only")
	})
	t.Run("second", func(t *testing.T) {
		pool := NewWith(t, ledgerLike)
		second = schemaOf(t, pool)
		assert.Equal(t, first, second, "the one kept schema, taken again")
		assert.Equal(t, []string{"1 written by the migration"}, notes(t, pool), "emptied, the migration's row back")
		_, err := pool.Exec(ctx, `INSERT INTO entries (note) VALUES ('next')`)
		require.NoError(t, err)
		assert.Equal(t, []string{"1 written by the migration", "2 next"}, notes(t, pool), "the sequence where the migration left it")
		_, err = pool.Exec(ctx, `ALTER TABLE entries DISABLE TRIGGER entries_kept`)
		require.NoError(t, err)
	})
	t.Run("third", func(t *testing.T) {
		pool := NewWith(t, ledgerLike)
		assert.NotEqual(t, second, schemaOf(t, pool), "a schema with a trigger off is not handed on")
		var gone bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT to_regnamespace($1) IS NULL`, second).Scan(&gone))
		assert.True(t, gone, "and it is dropped")
		_, err := pool.Exec(ctx, `DELETE FROM entries`)
		require.ErrorContains(t, err, "append-only", "the trigger on again")
	})
}
