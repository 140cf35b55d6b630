// Package dbtest gives each test a PostgreSQL schema of its own, migrated and
// dropped at the end, so database tests can run in parallel without seeing each
// other's rows (docs/testing.md "Database tests").
package dbtest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db"
)

// DefaultURL is the server these machines run; scripts/test.sh exports
// DATABASE_URL for whichever server it found or started.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL is the database tests connect to.
func URL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var seq atomic.Int64

// Migration is one set of migrations to apply into the test schema.
type Migration struct {
	FS    fs.FS
	Table string
}

// Platform is the platform schema's migrations.
func Platform() Migration { return Migration{FS: db.Migrations(), Table: "schema_migrations"} }

// New returns a pool whose search_path is a fresh schema with the platform
// migrations applied. The schema is dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewWith(t, Platform())
}

// NewWith is New with exactly the given migrations (the bank simulator's, say).
func NewWith(t testing.TB, migs ...Migration) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	schema := db.SchemaName(fmt.Sprintf("%s_%d_%d", t.Name(), time.Now().UnixNano()%1e6, seq.Add(1)))
	admin, err := db.Open(ctx, URL(), "")
	if err != nil {
		t.Fatalf("dbtest: connect %s: %v (set DATABASE_URL, or run scripts/test.sh which starts PostgreSQL)", URL(), err)
	}
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("dbtest: create schema: %v", err)
	}
	pool, err := db.Open(ctx, URL(), schema)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		_, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	for _, m := range migs {
		if err := db.Migrate(ctx, pool, m.FS, m.Table); err != nil {
			t.Fatalf("dbtest: migrate: %v", err)
		}
	}
	return pool
}

// Another is a second pool on pool's schema: another process of the same
// platform (a second replica), with connections of its own. It is closed
// when the test ends.
func Another(t testing.TB, pool *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatalf("dbtest: schema: %v", err)
	}
	other, err := db.Open(ctx, URL(), schema)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(other.Close)
	return other
}
