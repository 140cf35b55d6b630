package ledger_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/ledger"
)

// BenchmarkPost measures committed two-posting transfers against PostgreSQL:
// one transaction per Post, as an activity does. Reported as postings/s.
//
//	serial:   one writer.
//	parallel: 16 writers, each moving money between its own two users, so
//	          they share no account and only compete for the server.
//	hot:      16 writers that all pay into platform:fee, the worst case for
//	          the per-account row lock every Post takes.
//
// See BENCHMARKS.md for figures and the command.
func BenchmarkPost(b *testing.B) {
	const writers = 16
	setup := func(b *testing.B) (*pgxpool.Pool, []int64) {
		pool := benchPool(b, writers)
		users := newUsers(b, pool, 2*writers)
		for i, u := range users {
			mustPost(b, pool, ledger.Recharge(fmt.Sprintf("seed-%d", i), u, d("1000000.00"), day))
		}
		return pool, users
	}
	var seq atomic.Int64
	transfer := func(b *testing.B, pool *pgxpool.Pool, from, to string) {
		ctx := context.Background()
		e := ledger.Transfer(fmt.Sprintf("bench-%d", seq.Add(1)), 0, ledger.TypeBonus, from, to, d("0.01"), "", day)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := ledger.Post(ctx, tx, e)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "postings/s")
	}

	b.Run("serial", func(b *testing.B) {
		pool, users := setup(b)
		a, c := ledger.UserAvailable(users[0]), ledger.UserAvailable(users[1])
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				transfer(b, pool, a, c)
			} else {
				transfer(b, pool, c, a)
			}
		}
		report(b)
	})

	b.Run("parallel", func(b *testing.B) {
		pool, users := setup(b)
		var next atomic.Int64
		b.SetParallelism(writers / runtime.GOMAXPROCS(0))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := int(next.Add(1)-1) % writers
			a, c := ledger.UserAvailable(users[2*k]), ledger.UserAvailable(users[2*k+1])
			for i := 0; pb.Next(); i++ {
				if i%2 == 0 {
					transfer(b, pool, a, c)
				} else {
					transfer(b, pool, c, a)
				}
			}
		})
		report(b)
	})

	b.Run("hot", func(b *testing.B) {
		pool, users := setup(b)
		var next atomic.Int64
		b.SetParallelism(writers / runtime.GOMAXPROCS(0))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := int(next.Add(1)-1) % len(users)
			from := ledger.UserAvailable(users[k])
			for pb.Next() {
				transfer(b, pool, from, ledger.PlatformFee)
			}
		})
		report(b)
	})
}

// benchPool is a pool on the test schema with room for every writer:
// dbtest's default pool has as many connections as CPUs.
// BENCH_SYNCHRONOUS_COMMIT=off separates the cost of the ledger's statements
// from the WAL flush at commit.
func benchPool(b *testing.B, conns int32) *pgxpool.Pool {
	small := dbtest.New(b)
	ctx := context.Background()
	var schema string
	require.NoError(b, small.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema))
	cfg, err := pgxpool.ParseConfig(dbtest.URL())
	require.NoError(b, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = conns
	if v := os.Getenv("BENCH_SYNCHRONOUS_COMMIT"); v != "" {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = v
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	return pool
}
