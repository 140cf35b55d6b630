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

	"github.com/jackc/pgx/v5"
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

// New returns a pool whose search_path is a schema of the test's own with
// the platform migrations applied: fresh, or kept from a test that ended and
// emptied back to what the migrations left (recycle.go).
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewWith(t, Platform())
}

// NewWith is New with exactly the given migrations (the bank simulator's,
// say); with none it is an empty schema, dropped when the test ends.
func NewWith(t testing.TB, migs ...Migration) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Fatalf("dbtest: connect %s: %v (set DATABASE_URL, or run scripts/test.sh which starts PostgreSQL)", URL(), err)
	}
	// The session holds the kept schema's lock until the test's pool is closed.
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	schema, fresh, kept, err := claim(ctx, conn, t.Name(), migs)
	if err != nil {
		t.Fatalf("dbtest: schema: %v", err)
	}
	pool, err := db.Open(ctx, URL(), schema)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		if kept == nil {
			_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			return
		}
		// Let go of the schema before the connection closes: the server
		// ends a closed session a moment later, and the next test would
		// find the schema still held.
		_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock_all()`)
	})
	if !fresh {
		return pool
	}
	for _, m := range migs {
		if err := db.Migrate(ctx, pool, m.FS, m.Table); err != nil {
			t.Fatalf("dbtest: migrate: %v", err)
		}
	}
	if kept != nil {
		if err := kept.seedFrom(ctx, conn, schema); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
	}
	return pool
}

// claim is the schema a test gets on conn: a kept one of its migrations'
// set, emptied, or a new one to migrate (fresh). kept is the set the schema
// stays with when the test ends; nil for a schema dropped then (no
// migrations, or a server that does not allow the reset).
func claim(ctx context.Context, conn *pgx.Conn, test string, migs []Migration) (schema string, fresh bool, kept *set, err error) {
	if len(migs) > 0 {
		kept, err = setOf(migs)
		if err != nil {
			return "", false, nil, err
		}
		known, err := kept.known(ctx, conn)
		if err != nil {
			return "", false, nil, err
		}
		if kept.off {
			kept = nil
		} else if known {
			schema, fresh, err = kept.take(ctx, conn)
			return schema, fresh, kept, err
		}
	}
	if kept != nil {
		schema, _, err = kept.newSchema(ctx, conn)
		return schema, true, kept, err
	}
	schema = db.SchemaName(fmt.Sprintf("%s_%d_%d", test, time.Now().UnixNano()%1e6, seq.Add(1)))
	_, err = conn.Exec(ctx, `CREATE SCHEMA `+schema)
	return schema, true, nil, err
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
