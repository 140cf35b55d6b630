package db

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lendflow/lendflow/db/dbq"
)

// ErrNotFound is what every query answers when the row it looks for is not
// there. It is the only not-found error outside db/: pgx.ErrNoRows never
// leaves this package, so callers test errors.Is(err, db.ErrNotFound).
var ErrNotFound = errors.New("not found")

// Queries is the generated queries over d (a pool, a connection or a
// transaction), with pgx.ErrNoRows answered as ErrNotFound. Code outside db/
// builds its queries here, never with dbq.New or Queries.WithTx, so the
// mapping cannot be bypassed.
func Queries(d DBTX) *dbq.Queries { return dbq.New(MapNotFound(d)) }

// DBTX is what sqlc's generated queries run on: a pool, a connection or a
// transaction.
type DBTX = dbq.DBTX

// MapNotFound wraps d so that a single-row query that finds nothing answers
// ErrNotFound. The bank simulator's own generated queries (bank/sim/simdb)
// take it too, through MapNotFoundBatch.
func MapNotFound(d DBTX) DBTX { return mapped{d} }

// Batcher is a DBTX that also sends pgx batches, which sqlc's generated
// code asks for once a package has a :batch query (the bank simulator's
// FreezeApply). Every pool, connection and transaction is one.
type Batcher interface {
	DBTX
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// MapNotFoundBatch is MapNotFound for a Batcher: single-row queries answer
// ErrNotFound; batches pass through, and the generated code hands each
// batched query's pgx.ErrNoRows to its callback, which maps it (NotFound).
func MapNotFoundBatch(d Batcher) Batcher { return mappedBatch{mapped{d}, d} }

type mappedBatch struct {
	mapped
	b Batcher
}

func (m mappedBatch) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return m.b.SendBatch(ctx, b)
}

// NotFound maps pgx.ErrNoRows from a hand-written query (QueryRow.Scan) to
// ErrNotFound and passes every other error through.
func NotFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// UniqueViolation reports a unique-constraint violation (SQLSTATE 23505),
// the one database error callers decide on (a duplicate email, a request
// number seen before).
func UniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// ConstraintViolated reports a violation of the named constraint or unique
// index, for callers that must tell one unique rule from another.
func ConstraintViolated(err error, name string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.ConstraintName == name
}

// CheckViolation reports a check-constraint violation (SQLSTATE 23514).
func CheckViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514"
}

type mapped struct{ dbq.DBTX }

func (m mapped) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{m.DBTX.QueryRow(ctx, sql, args...)}
}

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return NotFound(r.Row.Scan(dest...)) }
