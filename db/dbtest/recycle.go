package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A fresh schema costs its migrations, about 0.35 s of DDL for the platform's
// files on a quiet machine, and a DROP ... CASCADE at the end, about 0.2 s:
// over the tree's few hundred database tests, most of the time many of them
// spend. So a schema is kept when its test ends and the next test that wants
// the same migrations takes it, emptied and given back what the migrations
// wrote, in one statement of a few milliseconds (docs/testing.md "Database
// tests").
//
// Everything two test processes (go test -p 2) must agree on lives in
// PostgreSQL, not in memory: a schema in use is one whose advisory lock a
// session holds (released by PostgreSQL if the process dies), and what the
// migrations wrote is kept in a seed schema, one per set of migrations.

// recycledPrefix names the kept schemas: r_<fingerprint>_<pid>_<n>.
const recycledPrefix = "r_"

// seedPrefix names a set's seed schema: dbtest_seed_<fingerprint>.
const seedPrefix = "dbtest_seed_"

// set is one set of migrations as this process knows it.
type set struct {
	fp string

	mu      sync.Mutex
	checked bool
	// off: schemas of this set are not kept, as the server refuses
	// session_replication_role to a role that is not a superuser, and the
	// reset needs it to skip the append-only triggers.
	off bool
	// reset empties a schema and puts back the seed; %[1]s is the schema.
	// Empty until the set's seed is known.
	reset string
	// catalog is the catalog fingerprint of a schema just migrated.
	catalog string
}

var sets sync.Map // fingerprint → *set

// setOf is the process's set for migs, keyed by what the files hold, so a
// changed migration makes new schemas rather than reusing stale ones.
func setOf(migs []Migration) (*set, error) {
	h := sha256.New()
	for _, m := range migs {
		names, err := fs.Glob(m.FS, "*.sql")
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		fmt.Fprintf(h, "table %s\n", m.Table)
		for _, n := range names {
			body, err := fs.ReadFile(m.FS, n)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(h, "%s %d\n", n, len(body))
			h.Write(body)
		}
	}
	fp := hex.EncodeToString(h.Sum(nil))[:12]
	s, _ := sets.LoadOrStore(fp, &set{fp: fp})
	return s.(*set), nil
}

// known answers whether s's kept schemas can be taken: recycling is allowed
// and the seed is known (learnt from PostgreSQL if another process made it).
func (s *set) known(ctx context.Context, conn *pgx.Conn) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checked {
		if _, err := conn.Exec(ctx, `SET session_replication_role = replica; RESET session_replication_role`); err != nil {
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" {
				return false, err
			}
			s.off = true
		}
		s.checked = true
	}
	if s.off || s.reset != "" {
		return s.reset != "", nil
	}
	return s.load(ctx, conn)
}

// seedFrom makes s's seed from schema, just migrated, unless a process made
// it already, and learns it.
func (s *set) seedFrom(ctx context.Context, conn *pgx.Conn, schema string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off || s.reset != "" {
		return nil
	}
	seed := seedPrefix + s.fp
	// One process makes the seed; the others wait for it here.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, seed); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`, seed) //nolint:errcheck
	if ok, err := s.load(ctx, conn); err != nil || ok {
		return err
	}
	if err := makeSeed(ctx, conn, schema, seed); err != nil {
		return fmt.Errorf("seed %s: %w", seed, err)
	}
	dropStale(ctx, conn, s.fp)
	_, err := s.load(ctx, conn)
	return err
}

// load reads s's seed, if it is there, into reset and catalog.
func (s *set) load(ctx context.Context, conn *pgx.Conn) (bool, error) {
	seed := seedPrefix + s.fp
	var made bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, seed+"._catalog").Scan(&made); err != nil || !made {
		return false, err
	}
	if err := conn.QueryRow(ctx, `SELECT md5 FROM `+seed+`._catalog`).Scan(&s.catalog); err != nil {
		return false, err
	}
	// When a process last took up the set: dropStale goes by it.
	if _, err := conn.Exec(ctx, `UPDATE `+seed+`._used SET at = now()`); err != nil {
		return false, err
	}
	reset, err := resetScript(ctx, conn, seed)
	if err != nil {
		return false, err
	}
	s.reset = reset
	return true, nil
}

// lockKey is the advisory lock a session holds while it uses name (a kept
// schema, or a set while its seed is made).
const lockKey = `hashtextextended('lendflow dbtest ' || $1, 0)`

func tryLock(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`, name).Scan(&ok)
	return ok, err
}

// take finds a kept schema of s that no session holds, locks it on conn and
// empties it; with none free it makes a new one. conn holds the lock until
// it is closed or unlocks it. It answers the schema and whether it is new
// (the caller migrates a new one).
func (s *set) take(ctx context.Context, conn *pgx.Conn) (string, bool, error) {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY random()`,
		recycledPrefix+s.fp+"_")
	if err != nil {
		return "", false, err
	}
	kept, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", false, err
	}
	for _, schema := range kept {
		ok, err := tryLock(ctx, conn, schema)
		if err != nil {
			return "", false, err
		}
		if !ok {
			continue
		}
		same, err := s.sameCatalog(ctx, conn, schema)
		if err != nil {
			return "", false, err
		}
		if !same {
			// A test changed its schema (disabled a trigger and never turned
			// it back on, say): it goes, and no later test inherits the change.
			if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
				return "", false, err
			}
			continue
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf(s.reset, schema)); err != nil {
			return "", false, fmt.Errorf("empty kept schema %s: %w", schema, err)
		}
		return schema, false, nil
	}
	return s.newSchema(ctx, conn)
}

// newSchema makes a schema for s, locked by conn, for the caller to migrate.
func (s *set) newSchema(ctx context.Context, conn *pgx.Conn) (string, bool, error) {
	schema := fmt.Sprintf("%s%s_%d_%d", recycledPrefix, s.fp, os.Getpid(), seq.Add(1))
	if _, err := tryLock(ctx, conn, schema); err != nil {
		return "", false, err
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", false, err
	}
	return schema, true, nil
}

// catalogOf fingerprints what a test could change in a schema's shape:
// relations, columns and their types, triggers and whether they fire,
// functions' bodies, constraints. Names only, never OIDs, which differ from
// schema to schema (a foreign key's own triggers are named by OID, so they go
// by their constraint's name).
const catalogOf = `
SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
  SELECT 'r ' || c.relname || ' ' || c.relkind::text FROM pg_class c WHERE c.relnamespace = $1::text::regnamespace
  UNION ALL
  SELECT 'a ' || c.relname || '.' || a.attname || ' ' || ty.typname || ' ' || a.attnotnull
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type ty ON ty.oid = a.atttypid
   WHERE c.relnamespace = $1::text::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 't ' || c.relname || '.' || coalesce(k.conname || ' ' || tg.tgtype, tg.tgname) || ' ' || tg.tgenabled::text
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
    LEFT JOIN pg_constraint k ON k.oid = tg.tgconstraint AND tg.tgisinternal
   WHERE c.relnamespace = $1::text::regnamespace
  UNION ALL
  SELECT 'f ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p WHERE p.pronamespace = $1::text::regnamespace
  UNION ALL
  SELECT 'k ' || k.conname || ' ' || k.contype::text FROM pg_constraint k WHERE k.connamespace = $1::text::regnamespace
) AS shape(x)`

func (s *set) sameCatalog(ctx context.Context, conn *pgx.Conn, schema string) (bool, error) {
	var got string
	if err := conn.QueryRow(ctx, catalogOf, schema).Scan(&got); err != nil {
		return false, err
	}
	return got == s.catalog, nil
}

// makeSeed copies what the migrations wrote in schema (the rows of each table
// that has any, every sequence's position, the catalog's fingerprint) into a
// new schema seed, in one transaction.
func makeSeed(ctx context.Context, conn *pgx.Conn, schema, seed string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	stmts := []string{
		`CREATE SCHEMA ` + seed,
		`CREATE TABLE ` + seed + `._sequences (name text PRIMARY KEY, last_value bigint NOT NULL, is_called bool NOT NULL)`,
		`CREATE TABLE ` + seed + `._catalog (md5 text NOT NULL)`,
		`CREATE TABLE ` + seed + `._tables (name text PRIMARY KEY)`,
		`CREATE TABLE ` + seed + `._used (at timestamptz NOT NULL)`,
		`INSERT INTO ` + seed + `._used VALUES (now())`,
	}
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st); err != nil {
			return err
		}
	}
	tables, err := names(ctx, tx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, schema)
	if err != nil {
		return err
	}
	for _, tbl := range tables {
		if _, err := tx.Exec(ctx, `INSERT INTO `+seed+`._tables VALUES ($1)`, tbl); err != nil {
			return err
		}
		var rows bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+schema+`.`+tbl+`)`).Scan(&rows); err != nil {
			return err
		}
		if rows {
			if _, err := tx.Exec(ctx, `CREATE TABLE `+seed+`.`+tbl+` AS SELECT * FROM `+schema+`.`+tbl); err != nil {
				return err
			}
		}
	}
	seqs, err := names(ctx, tx, `SELECT sequencename FROM pg_sequences WHERE schemaname = $1 ORDER BY 1`, schema)
	if err != nil {
		return err
	}
	for _, sq := range seqs {
		if _, err := tx.Exec(ctx, `INSERT INTO `+seed+`._sequences SELECT $1, last_value, is_called FROM `+schema+`.`+sq, sq); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+seed+`._catalog (md5) `+catalogOf, schema); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// resetScript is the one statement that returns a kept schema to what its
// migrations left: with the triggers off (the ledger's append-only guards
// refuse a DELETE, and the seed's rows were checked when first written) every
// table emptied, the seed's rows copied back, every sequence where it was.
// DELETE rather than TRUNCATE: a few rows deleted cost far less than a new
// file for each table and index.
func resetScript(ctx context.Context, conn *pgx.Conn, seed string) (string, error) {
	tables, err := names(ctx, conn, `SELECT name FROM `+seed+`._tables ORDER BY 1`)
	if err != nil {
		return "", err
	}
	seeded, err := names(ctx, conn, `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND NOT starts_with(tablename, '_') ORDER BY 1`, seed)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("BEGIN;\nSET LOCAL session_replication_role = replica;\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "DELETE FROM %%[1]s.%s;\n", t)
	}
	for _, t := range seeded {
		fmt.Fprintf(&b, "INSERT INTO %%[1]s.%s SELECT * FROM %s.%s;\n", t, seed, t)
	}
	rows, err := conn.Query(ctx, `SELECT name, last_value, is_called FROM `+seed+`._sequences ORDER BY name`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var last int64
		var called bool
		if err := rows.Scan(&name, &last, &called); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "SELECT setval('%%[1]s.%s', %d, %t);\n", name, last, called)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	b.WriteString("COMMIT;")
	return b.String(), nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func names(ctx context.Context, q querier, sql string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// dropStale drops the sets no process has taken up for a day (an older
// tree's migrations, say): their kept schemas that no session holds, and
// their seed once none of those is left. Several sets are in use at once
// (the platform's, the bank's, a test's own), so it goes by the seed's
// last use, not by fingerprint. Best effort: what is in use stays.
func dropStale(ctx context.Context, conn *pgx.Conn, fp string) {
	seeds, err := names(ctx, conn, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) AND nspname <> $2`,
		seedPrefix, seedPrefix+fp)
	if err != nil {
		return
	}
	for _, seed := range seeds {
		var stale bool
		err := conn.QueryRow(ctx, `SELECT coalesce((SELECT at < now() - interval '1 day' FROM `+seed+`._used), true)`).Scan(&stale)
		if err != nil || !stale {
			continue
		}
		kept, err := names(ctx, conn, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`,
			recycledPrefix+strings.TrimPrefix(seed, seedPrefix)+"_")
		if err != nil {
			continue
		}
		left := 0
		for _, schema := range kept {
			if ok, err := tryLock(ctx, conn, schema); err != nil || !ok {
				left++
				continue
			}
			if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
				left++
			}
			_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`, schema)
		}
		if left == 0 {
			_, _ = conn.Exec(ctx, `DROP SCHEMA `+seed+` CASCADE`)
		}
	}
}
