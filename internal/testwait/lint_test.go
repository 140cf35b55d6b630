package testwait

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleeps are the fixed sleeps a test may keep, by file: none is a wait for
// an outcome. Everything else that waits goes through this package.
var sleeps = map[string]int{
	"e2e/crash_test.go": 1, // the chaos's seeded kill moments
	"e2e/races_test.go": 4, // the seeded offsets at which two requests meet
	"bench/hot_test.go": 1, // the CPU profile's request ahead of the first bid
}

var waitOfItsOwn = regexp.MustCompile(`time\.Sleep\(|\.Eventually(WithT)?\(`)

// The repository's tests wait one way (docs/testing.md "Rules every test
// keeps"): no test sleeps a fixed time, or waits through testify's
// Eventually, but those listed above.
func TestTestsWaitThroughTestwait(t *testing.T) {
	root := filepath.Join("..", "..")
	found := map[string]int{}
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") || filepath.Base(p) == "lint_test.go" {
			return nil
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		for i, line := range strings.Split(string(b), "\n") {
			if waitOfItsOwn.MatchString(line) {
				found[rel]++
				if _, ok := sleeps[rel]; !ok {
					t.Errorf("%s:%d waits on its own: wait through testwait (a condition and a deadline)", rel, i+1)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 100, "the walk found the tests")
	for f, n := range sleeps {
		assert.Equal(t, n, found[f], "%s: the sleeps it may keep", f)
	}
}
