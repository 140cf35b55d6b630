// Command lendflow runs one of the platform's processes:
//
//	lendflow api      the HTTP API
//	lendflow worker   the loan workflow worker
//	lendflow bank     the custody bank simulator
//	lendflow migrate  apply database migrations and exit
//	lendflow dev      bank, worker and API in one process (local use)
//	lendflow lb       the load balancer in front of API replicas (make cluster)
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/logging"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lendflow api|worker|bank|migrate|dev|lb")
		os.Exit(2)
	}
	cmd := os.Args[1]
	cfg, err := app.FromEnv()
	if err == nil {
		err = cfg.Validate(cmd)
	}
	log, lerr := logging.New(os.Stderr, cfg.LogFormat)
	if lerr != nil {
		log, _ = logging.New(os.Stderr, logging.JSON)
	}
	log = log.With("process", cmd)
	if err != nil {
		log.Error("configuration", "error", err)
		os.Exit(2)
	}
	// Libraries that log through the default logger (slog or log) write the
	// same lines as the process.
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "api":
		err = app.RunAPI(ctx, cfg, log)
	case "worker":
		err = app.RunWorker(ctx, cfg, log)
	case "bank":
		err = app.RunBank(ctx, cfg, log)
	case "migrate":
		err = app.Migrate(ctx, cfg)
	case "dev":
		err = app.RunDev(ctx, cfg, log)
	case "lb":
		err = app.RunLB(ctx, cfg, log)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", cmd)
		os.Exit(2)
	}
	if err != nil {
		log.Error("exit", "error", err)
		os.Exit(1)
	}
}
