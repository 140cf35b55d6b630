// Package db owns the platform's PostgreSQL schema: the embedded migrations,
// the connection pool, and the sqlc-generated queries in db/dbq. Code outside
// db/ and the activities sees domain types, not generated rows.
package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the platform schema's migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Open connects a pool. schema, when set, becomes the search_path, which is
// how tests get a schema of their own.
func Open(ctx context.Context, url, schema string) (*pgxpool.Pool, error) {
	return OpenSized(ctx, url, schema, 0)
}

// OpenSized is Open with at most maxConns connections (API_DB_MAX_CONNS and
// the like); 0 leaves pgxpool's size, max(4, CPUs), or the URL's
// pool_max_conns, which wins over maxConns when both are given.
func OpenSized(ctx context.Context, url, schema string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	if maxConns > 0 && !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

// Migrate applies the *.sql files of fsys in name order, each once, recording
// them in table; the pending ones go in together, in one transaction. An
// advisory lock keeps two processes starting at once from applying the same
// file twice.
func Migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, table string) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// The lock key is per table so the bank simulator's migrations do not wait on ours.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext(current_schema() || $1))`, table); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext(current_schema() || $1))`, table) //nolint:errcheck
	ident := pgx.Identifier{table}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+ident+` (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT name FROM `+ident)
	if err != nil {
		return err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, name := range applied {
		done[name] = true
	}
	// Every pending migration in one transaction: all of them or none, and one
	// commit rather than one a file (a fresh test schema applies them all: a
	// commit a file took half of its second).
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	for _, name := range names {
		if done[name] {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+ident+` (name) VALUES ($1)`, name); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// SchemaName makes a test or tenant name safe as an unquoted schema name.
func SchemaName(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 50 {
		out = out[len(out)-50:]
	}
	return "t_" + out
}
