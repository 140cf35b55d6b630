package db_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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

// TestAPICallsNoQuery: the HTTP API is thin handlers over the services
// (docs/api.md "Handlers and services"): no file of api/ but its tests
// imports the generated queries, builds them (db.Queries) or opens a
// transaction. The one exception is the wiring: api/server.go keeps the
// pool in Deps to hand it to the services it builds (Server.wire; readiness
// pings it when no check named postgres was given), so it may import
// pgxpool (the pool's type), never pgx itself (where BeginFunc lives).
func TestAPICallsNoQuery(t *testing.T) {
	files, err := filepath.Glob("../api/*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	forbidden := []string{"pgx.BeginFunc", "db.Queries(", ".Begin(ctx", ".BeginTx("}
	pool := map[string]bool{"server.go": true}
	checked := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		name := filepath.Base(path)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == "github.com/lendflow/lendflow/db/dbq":
				t.Errorf("api/%s imports the generated queries: call a service", name)
			case p == "github.com/jackc/pgx/v5":
				t.Errorf("api/%s imports pgx: transactions are the services'", name)
			case p == "github.com/jackc/pgx/v5/pgxpool" && !pool[name]:
				t.Errorf("api/%s imports pgxpool: only the wiring (server.go) holds the pool", name)
			}
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, s := range forbidden {
			if strings.Contains(string(src), s) {
				t.Errorf("api/%s calls %s: call a service", name, s)
			}
		}
		checked++
	}
	assert.Greater(t, checked, 20, "the API's files were read")
}
