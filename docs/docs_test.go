// Package docs holds the project's design notes; its test keeps the code's
// citations of them true.
package docs

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The repository explains itself: code and docs cite the rules they follow as
// `docs/<page>.md "Section"`, and every such citation must name a page that
// exists and a heading on it. A renamed heading or a page never written fails
// here rather than leaving a reader at a dead end.

var (
	// A citation: the page, then any quoted section names after it
	// (`docs/rules.md "Overdue", "Compensation"`).
	citation = regexp.MustCompile(`docs/([a-z0-9_-]+\.md)((?:[ ,;]*"[^"\n]+")*)`)
	quoted   = regexp.MustCompile(`"([^"\n]+)"`)
	// A comment wrapped across lines: the break and the next line's marker.
	wrap = regexp.MustCompile(`\n[ \t]*(//|--|#)?[ \t]*`)
	// The spec pages the project was written from live outside the
	// repository; a reader of the repository cannot follow a citation of them.
	outside = regexp.MustCompile(`\b(DOMAIN|API|STYLE|TEMPORAL)\.md\b`)
)

var checked = map[string]bool{".go": true, ".md": true, ".sql": true, ".sh": true, ".yaml": true, ".yml": true, ".html": true, ".tmpl": true}

func TestCitationsOfTheDocsResolve(t *testing.T) {
	headings := map[string]map[string]bool{}
	pages, err := filepath.Glob("*.md")
	require.NoError(t, err)
	for _, p := range pages {
		headings[p] = headingsOf(t, p)
	}

	cited := 0
	walk(t, func(path, text string) {
		for _, m := range citation.FindAllStringSubmatch(wrap.ReplaceAllString(text, " "), -1) {
			page := m[1]
			hs, ok := headings[page]
			if !ok {
				t.Errorf("%s cites docs/%s, which does not exist", path, page)
				continue
			}
			for _, q := range quoted.FindAllStringSubmatch(m[2], -1) {
				cited++
				if !hs[strings.ToLower(q[1])] {
					t.Errorf("%s cites docs/%s %q: no such heading there", path, page, q[1])
				}
			}
		}
	})
	assert.Greater(t, cited, 50, "the walk found the citations")
}

func TestNothingCitesTheSpecOutsideTheRepository(t *testing.T) {
	walk(t, func(path, text string) {
		for i, line := range strings.Split(text, "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d cites %s, which is not in the repository: cite its rule in docs/ (rules.md, api.md, workflow.md, testing.md)", path, i+1, m)
			}
		}
	})
}

// headingsOf is a page's headings, lower-cased, without their backticks; a
// heading's trailing note in parentheses ("Sign-in (`api/auth.go`)") is not
// part of its name.
func headingsOf(t *testing.T, page string) map[string]bool {
	f, err := os.Open(page)
	require.NoError(t, err)
	defer f.Close()
	hs := map[string]bool{}
	sc := bufio.NewScanner(f)
	fenced := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		if i := strings.Index(h, " ("); i > 0 && strings.HasSuffix(h, ")") {
			h = h[:i]
		}
		hs[strings.ToLower(strings.ReplaceAll(h, "`", ""))] = true
	}
	require.NoError(t, sc.Err())
	return hs
}

// walk calls fn with every checked file of the repository, by its path from
// the root.
func walk(t *testing.T, fn func(path, text string)) {
	root := ".."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !checked[filepath.Ext(name)] && name != "Makefile" && name != "Dockerfile" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fn(rel, string(b))
		return nil
	})
	require.NoError(t, err)
}

// codePath is a backticked path of the repository in a page: `money/split.go`,
// `bidding/`, `bank/sim`.
var codePath = regexp.MustCompile("`([a-z0-9_]+/[A-Za-z0-9_./-]*)`")

// docs/rules.md says where each rule lives, so a newcomer finds a rule by its
// file's name: every rule (a "###" section) points at a file or folder of the
// code, and every path the page names exists.
func TestRulesPointAtTheirFiles(t *testing.T) {
	b, err := os.ReadFile("rules.md")
	require.NoError(t, err)
	rules, pointed := 0, 0
	section, hasPointer := "", true
	done := func() {
		if !hasPointer {
			t.Errorf("docs/rules.md %q points at no file of the code", section)
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			done()
			section, hasPointer = h, false
			rules++
			continue
		}
		if strings.HasPrefix(line, "## ") {
			done()
			section, hasPointer = "", true
		}
		for _, m := range codePath.FindAllStringSubmatch(line, -1) {
			path := m[1]
			if _, err := os.Stat(filepath.Join("..", path)); err != nil {
				t.Errorf("docs/rules.md %q points at %s, which does not exist", section, path)
				continue
			}
			if !strings.HasPrefix(path, "docs/") {
				hasPointer = true
				pointed++
			}
		}
	}
	done()
	assert.Greater(t, rules, 20, "the walk found the rules")
	assert.Greater(t, pointed, rules, "the walk found the pointers")
}
