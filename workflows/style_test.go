package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// maxLine is the longest line workflows/ may hold, in characters (a tab is
// one): the story is read top to bottom, in a review's side-by-side diff too.
const maxLine = 120

func TestNoLineOver120Characters(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			if n := utf8.RuneCountInString(line); n > maxLine {
				t.Errorf("%s:%d is %d characters long, over %d", f, i+1, n, maxLine)
			}
		}
	}
}

// An answer's error is the run's: a phase returns what answer returns, and
// never drops it (requests.go "Answering a request"). A call to answer as a
// statement of its own would drop it, so none may stand alone.
func TestAnAnswerIsNeverDropped(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	calls := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && isAnswer(call) {
				calls++
			}
			stmt, ok := n.(*ast.ExprStmt)
			if !ok {
				return true
			}
			if call, ok := stmt.X.(*ast.CallExpr); ok && isAnswer(call) {
				t.Errorf("%s: answer's error dropped: return it, or reply if the loan goes on", fset.Position(stmt.Pos()))
			}
			return true
		})
	}
	require.Greater(t, calls, 5, "the walk found the phases' answers")
}

func isAnswer(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "answer"
}
