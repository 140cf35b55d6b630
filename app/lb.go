package app

import (
	"context"
	"log/slog"
	"net"

	"github.com/lendflow/lendflow/lb"
)

// RunLB balances the API replicas of LB_BACKENDS on LB_LISTEN until ctx
// ends, its own metrics on LB_METRICS_LISTEN.
func RunLB(ctx context.Context, c Config, log *slog.Logger) error {
	b := lb.New(c.LBBackends, log)
	go b.Run(ctx)
	if err := listenAndServe(ctx, c.LBMetricsListen, metricsMux(), log, "metrics"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.LBListen)
	if err != nil {
		return err
	}
	srv := newServer(ctx, b)
	// The replica bounds how long it answers (a sandbox clock advance takes
	// as long as its loans do, api clockAdvanceWrite); a write timeout here
	// would cut such an answer short.
	srv.WriteTimeout = 0
	log.Info("balancing", "backends", len(c.LBBackends))
	return serveServer(ctx, ln, srv, log)
}
