package errs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Codes names every code this file declares, so Known knows a code the
// moment it is added (and the API's status table, which covers Codes, with
// it).
func TestCodesNameEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errs.go", nil, 0)
	require.NoError(t, err)
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		gd, ok := node.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			return true
		}
		for _, spec := range gd.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					code, _ := strconv.Unquote(lit.Value)
					assert.True(t, Known(code), "%q is not in Codes", code)
					n++
				}
			}
		}
		return false
	})
	assert.Equal(t, n, len(Codes), "Codes holds each code once")
	assert.False(t, Known("PanicError"), "a Temporal error type that is no code")
}

// A refusal's figures go with it, by name; Code reads the code through
// wrapping.
func TestFigures(t *testing.T) {
	e := New(LimitExceeded, "x").With("outstanding", decimal.RequireFromString("150000.00")).With("cap", decimal.RequireFromString("200000.00"))
	assert.Equal(t, "150000", e.Figures["outstanding"].String())
	assert.Equal(t, "200000", e.Figures["cap"].String())
	assert.Equal(t, LimitExceeded, Code(e))
	assert.Equal(t, "", Code(assert.AnError))
}
