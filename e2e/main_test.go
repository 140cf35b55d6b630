package e2e

import (
	"flag"
	"testing"

	"github.com/lendflow/lendflow/internal/proctest"
)

// parallel is how many of the package's tests run at once unless -parallel
// says otherwise. A stack waits on Temporal's timers, its processes and the
// bank's delays far more than it computes: four at once kept two cores about
// three-quarters busy and ran the package's tests but the cluster's in 80 s
// (106 s two at once), and held at most 43 PostgreSQL connections between
// them. TestClusterLosesNodes, which needs about 70 by itself, runs alone
// first (docs/testing.md "End-to-end tests").
const parallel = "4"

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
