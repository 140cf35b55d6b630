package db_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDatabaseBoundary: outside db/, nobody tests for pgx.ErrNoRows (it is
// db.ErrNotFound) or builds generated queries past db.Queries, which is what
// maps it (docs/testing.md "Rules every test keeps").
func TestDatabaseBoundary(t *testing.T) {
	root := ".."
	forbidden := []string{"pgx.ErrNoRows", "dbq.New(", ".WithTx(", "simdb.New(s.pool)"}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", ".tools", ".data", "db", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasPrefix(rel, "bank/sim/simdb") {
			return nil
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, f := range forbidden {
			if strings.Contains(string(src), f) {
				t.Errorf("%s uses %s: go through db.Queries and db.ErrNotFound", rel, f)
			}
		}
		return nil
	})
	require.NoError(t, err)
}
