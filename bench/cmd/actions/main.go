// Command actions counts the Temporal Cloud actions of loan workflows
// (bench.CountActions), from recorded history JSON or a running server:
//
//	go run ./bench/cmd/actions workflows/testdata/loan_repaid_run*.json
//	go run ./bench/cmd/actions -address 127.0.0.1:7233 loan-1 loan-2
//
// Files are the runs of one workflow, in order; workflow IDs are read from
// the server, every run of each.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/bench"
)

func main() {
	address := flag.String("address", "", "Temporal frontend (host:port); without it, the arguments are history JSON files")
	namespace := flag.String("namespace", "default", "Temporal namespace")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: actions FILE.json... | actions -address HOST:PORT WORKFLOW_ID...")
		os.Exit(2)
	}
	if *address == "" {
		var runs [][]*historypb.HistoryEvent
		for _, p := range flag.Args() {
			events, err := bench.ReadHistory(p)
			if err != nil {
				fail(err)
			}
			runs = append(runs, events)
		}
		fmt.Printf("%s: %v\n", strings.Join(flag.Args(), " "), bench.CountActions(runs...))
		return
	}
	tc, err := client.Dial(client.Options{HostPort: *address, Namespace: *namespace})
	if err != nil {
		fail(err)
	}
	defer tc.Close()
	for _, id := range flag.Args() {
		runs, err := bench.FetchRuns(context.Background(), tc, id)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s: %v\n", id, bench.CountActions(runs...))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "actions:", err)
	os.Exit(1)
}
