package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

var day = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

type marker struct {
	Marker string `json:"marker"`
}

func write(t *testing.T, tx pgx.Tx, m string) {
	t.Helper()
	require.NoError(t, events.Write(context.Background(), db.Queries(tx), events.New{Type: "loan.listed", BusinessDate: day, LoanID: 1, Data: marker{m}}))
}

// markers are the events' markers: the marker written, or a ledger
// event's request number.
func markers(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		var m struct {
			Marker    string `json:"marker"`
			RequestNo string `json:"request_no"`
		}
		if json.Unmarshal(e.Data, &m) == nil {
			out = append(out, m.Marker+m.RequestNo)
		}
	}
	return out
}

// The trap a feed paged by the writers' sequence falls into, and the feed
// does not: A takes its sequence value first and commits last. A reader by
// sequence that read B's event moves past A's for good; the feed numbers
// each event when it is committed, so B's is 1 and A's 2, and a reader
// after 1 finds A's.
func TestAReaderNeverSkipsAnEventCommittedLate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer a.Rollback(ctx) //nolint:errcheck
	write(t, a, "A")
	b, err := pool.Begin(ctx)
	require.NoError(t, err)
	write(t, b, "B")
	require.NoError(t, b.Commit(ctx))

	naive := func(after int64) (seqs []int64) {
		rows, err := pool.Query(ctx, `SELECT seq FROM events WHERE seq > $1 ORDER BY seq`, after)
		require.NoError(t, err)
		seqs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		return seqs
	}
	seen := naive(0)
	require.Len(t, seen, 1, "B's; A's is not committed")
	feed, err := events.Feed(ctx, pool, 0, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"B"}, markers(feed))
	assert.Equal(t, int64(1), feed[0].ID)

	require.NoError(t, a.Commit(ctx))
	assert.Empty(t, naive(seen[0]), "by sequence, A's event, committed late with a lower value, is skipped")
	feed, err = events.Feed(ctx, pool, 1, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"A"}, markers(feed), "the feed after B's id finds A's")
	assert.Equal(t, int64(2), feed[0].ID)
}

// Writers commit out of order — many transactions open at once, each with
// events written (events.Write, and ledger entries through Post), finished
// in a shuffled order, some rolled back — while two readers poll the feed
// and a numberer numbers. Each reader sees every committed event exactly
// once, ids 1, 2, 3… without a gap, and never an event rolled back.
func TestReadersPollingWhileWritersCommitOutOfOrderSkipNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	const txs, open = 300, 12
	// A user of its own for each transaction's ledger entries (a freeze of
	// 1.00), so the writers hold no account two of them need.
	users := make([]int64, txs)
	for i := range users {
		u, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: fmt.Sprintf("u%d@test", i), PasswordHash: "x", Role: lending.RoleInvestor,
			Name: "n", IDNumber: fmt.Sprint(i), Phone: fmt.Sprint(i)}))
		require.NoError(t, err)
		users[i] = u.ID
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := ledger.Post(ctx, tx, ledger.Recharge(fmt.Sprintf("funds-%d", i), u.ID, decimal.RequireFromString("10.00"), day))
			return err
		}))
	}
	before, err := events.Feed(ctx, pool, 0, events.MaxPage)
	require.NoError(t, err)
	first := int64(len(before)) // the recharges'
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 22))

	var done atomic.Bool
	type reader struct {
		ids     []int64
		markers []string
	}
	readers := make([]*reader, 2)
	var wg sync.WaitGroup
	for i := range readers {
		r := &reader{}
		readers[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := first
			for last := false; !last; {
				last = done.Load() // one more read after the writers are done
				for {
					page, err := events.Feed(ctx, pool, after, 37)
					if err != nil {
						t.Error(err)
						return
					}
					for _, e := range page {
						r.ids = append(r.ids, e.ID)
						after = e.ID
					}
					r.markers = append(r.markers, markers(page)...)
					if len(page) < 37 {
						break
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // a worker numbering beside the readers
		defer wg.Done()
		for !done.Load() {
			if _, err := events.Number(ctx, pool); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	// The writers: a seeded schedule of transactions opened and finished out
	// of order, each on a connection of its own (the readers' pool is another).
	var schema string
	require.NoError(t, pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema))
	writers, err := db.OpenSized(ctx, dbtest.URL(), schema, open+1)
	require.NoError(t, err)
	defer writers.Close()
	var committed []string
	var pending []pgx.Tx
	var pendingMarkers [][]string
	finish := func(i int) {
		tx := pending[i]
		if rng.IntN(7) == 0 {
			require.NoError(t, tx.Rollback(ctx))
		} else {
			require.NoError(t, tx.Commit(ctx))
			committed = append(committed, pendingMarkers[i]...)
		}
		pending = append(pending[:i], pending[i+1:]...)
		pendingMarkers = append(pendingMarkers[:i], pendingMarkers[i+1:]...)
	}
	for n := 0; n < txs; n++ {
		for len(pending) >= open || (len(pending) > 0 && rng.IntN(3) == 0) {
			finish(rng.IntN(len(pending)))
		}
		tx, err := writers.Begin(ctx)
		require.NoError(t, err)
		var ms []string
		for j := range 1 + rng.IntN(3) {
			m := fmt.Sprintf("tx-%d-%d", n, j)
			if rng.IntN(2) == 0 {
				write(t, tx, m)
			} else {
				_, err := ledger.Post(ctx, tx, ledger.Freeze(m, users[n], decimal.RequireFromString("1.00"), "bid:1", day))
				require.NoError(t, err)
			}
			ms = append(ms, m)
		}
		pending, pendingMarkers = append(pending, tx), append(pendingMarkers, ms)
	}
	for len(pending) > 0 {
		finish(rng.IntN(len(pending)))
	}
	done.Store(true)
	wg.Wait()

	for i, r := range readers {
		want := make([]int64, len(committed))
		for k := range want {
			want[k] = first + int64(k+1)
		}
		require.Equal(t, want, r.ids, "reader %d: ids %d…%d, each once, in order", i, first+1, first+int64(len(committed)))
		assert.ElementsMatch(t, committed, r.markers, "reader %d: every committed event, none rolled back", i)
	}
}
