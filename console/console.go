// Package console is the presentation of the ops console (docs/console.md):
// the HTML templates, the stylesheet and the one small script, embedded in
// the binary, and the view models the pages render. It holds no rules and
// reads nothing: the API's console handlers (api/console*.go) gather the
// figures through the same code paths as the JSON API and hand them here.
package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pages are the templates a handler may render, each with the layout.
var Pages = []string{"login", "queues", "loan", "reconciliation", "disclosure", "clock", "calendar", "coupons", "error", "users", "user", "reports"}

// Renderer renders the console's pages.
type Renderer struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"lower": strings.ToLower,
	// statusClass names the CSS class of a status badge: the status with
	// underscores as dashes (written_off → st-written-off).
	"statusClass": func(s any) string { return "st-" + strings.ReplaceAll(fmt.Sprint(s), "_", "-") },
	"words":       func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") },
}

// New parses every page with the layout; a template error is a programming
// error and is found by the package's tests.
func New() (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, p := range Pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", p, err)
		}
		r.pages[p] = t
	}
	return r, nil
}

// Render writes a page with the status. The page is rendered to a buffer
// first, so a template failure answers a plain 500 rather than half a page.
func (r *Renderer) Render(w http.ResponseWriter, status int, page string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("console: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return fmt.Errorf("console page %s: %w", page, err)
	}
	Headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Headers are the console's security headers on every answer: scripts,
// styles and forms only from the console itself, never framed, never cached
// (pages carry borrowers' names and the session's form token).
func Headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// Static serves the embedded assets under prefix (the console's
// /console/static/). They carry nothing private, so they may be cached.
func Static(prefix string) http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	files := http.StripPrefix(prefix, http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
