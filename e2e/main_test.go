package e2e

import (
	"flag"
	"testing"

	"github.com/lendflow/lendflow/internal/proctest"
)

// parallel is how many of the package's tests run at once unless -parallel
// says otherwise. A stack waits on Temporal's timers, its processes and the
// bank's delays far more than it computes. Alone, the package's tests but the
// cluster's took 106 s two at a time, 93 s three, 80 s four (which held at
// most 43 PostgreSQL connections). Three: at four, TestRequestsThatMeet once
// waited past its 90 s for a disbursement in a whole-tree run on a loaded
// machine (docs/testing.md "End-to-end tests"). TestClusterLosesNodes, which
// needs about 70 connections by itself, runs alone first.
const parallel = "3"

// The binary the processes run from is built once and removed at the end.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", parallel); err != nil {
			panic(err)
		}
	}
	proctest.Main(m)
}
