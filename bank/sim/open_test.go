package sim_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testwait"
)

// Open creates its schema, and opening again (a restart, or a second process)
// changes nothing.
func TestOpenCreatesSchemaAndRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := db.SchemaName(fmt.Sprintf("banksim_open_%d", time.Now().UnixNano()))
	admin, err := db.Open(ctx, dbtest.URL(), "")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		admin.Close()
	})

	first, err := sim.Open(ctx, sim.Config{DatabaseURL: dbtest.URL(), Schema: schema, APIKey: apiKey})
	require.NoError(t, err)
	first.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s, err := sim.Open(ctx, sim.Config{DatabaseURL: dbtest.URL(), Schema: schema, Listen: addr, APIKey: apiKey})
	require.NoError(t, err)
	defer s.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()

	c := bank.NewHTTPClient("http://"+addr, nil, bank.WithAPIKey(apiKey))
	testwait.Within(5*time.Second).Every(20*time.Millisecond).For(t, "the platform accounts opened", func() bool {
		_, err := c.Balance(ctx, bank.AccountRiskReserve)
		return err == nil
	})
	for _, no := range []string{bank.AccountFee, bank.AccountBonus, bank.AccountRiskReserve, bank.AccountSummary} {
		b, err := c.Balance(ctx, no)
		require.NoError(t, err)
		require.True(t, b.Available.IsZero())
	}
	var n int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.bank_schema_migrations`).Scan(&n))
	require.Equal(t, 2, n, "0001_bank and 0002_bonus_top_up")
	stop()
	require.NoError(t, <-done)
}
