package e2e

import (
	"testing"

	"github.com/lendflow/lendflow/internal/proctest"
)

// The binary the processes run from is built once and removed at the end.
func TestMain(m *testing.M) { proctest.Main(m) }
