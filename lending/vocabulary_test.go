package lending_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

func TestTerminalSet(t *testing.T) {
	var terminal []lending.Status
	for _, s := range lending.Statuses {
		if s.Terminal() {
			terminal = append(terminal, s)
		}
	}
	assert.Equal(t, []lending.Status{lending.StatusRejected, lending.StatusExpired, lending.StatusReviewRejected,
		lending.StatusRepaid, lending.StatusWrittenOff, lending.StatusCancelled}, terminal)
	assert.True(t, lending.StatusListed.Cancellable())
	assert.False(t, lending.StatusFull.Cancellable(), "the borrower may cancel only before the loan is full")
	assert.False(t, lending.Status("paid").Valid())
}

func TestBuckets(t *testing.T) {
	for dpd, want := range map[int]string{0: "", 1: "M1", 30: "M1", 31: "M2", 60: "M2", 61: "M3", 90: "M3", 91: "M3+"} {
		assert.Equal(t, want, lending.Bucket(dpd), "DPD %d", dpd)
	}
}

// TestNoStatusLiteralsOutsideTheVocabulary: a loan status is spelled only
// here. A string literal equal to one, anywhere else in the platform's Go
// code (tests, the generated queries, the bank simulator, constants typed
// by another package's own vocabulary and lists of names aside), fails.
func TestNoStatusLiteralsOutsideTheVocabulary(t *testing.T) {
	statuses := map[string]bool{}
	for _, s := range lending.Statuses {
		statuses[string(s)] = true
	}
	root := filepath.Join("..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", ".tools", ".data", "lending", "db/dbq", "bank/sim", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if field, ok := n.(*ast.Field); ok && field.Tag != nil {
				field.Tag = nil // struct tags name JSON fields, not statuses
			}
			// A []string lists names (a report's columns); loan statuses
			// would be a []lending.Status.
			if lit, ok := n.(*ast.CompositeLit); ok {
				if arr, ok := lit.Type.(*ast.ArrayType); ok {
					if id, ok := arr.Elt.(*ast.Ident); ok && id.Name == "string" {
						return false
					}
				}
			}
			// A constant of another vocabulary's own type (transfer.Status's
			// "listed", "cancelled") spells that vocabulary, not a loan's.
			if spec, ok := n.(*ast.ValueSpec); ok {
				if id, ok := spec.Type.(*ast.Ident); ok && id.Name != "string" {
					return false
				}
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && statuses[v] {
				t.Errorf("%s: status literal %s: use lending.Status", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
}
