package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/console"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
)

// The ops console (docs/console.md): server-rendered pages at /console/ for
// the manual steps of a loan's life. It signs in against the same users,
// password check and login throttle as POST /v1/auth/login, keeps the same
// kind of session (an ops session's lifetime), and every action calls the
// service the JSON handler calls (loans.Service, clock.Clock.AdvanceBy), so
// validation, the Temporal update, the refusal codes and the audit entry are
// the API's own. The session travels in a cookie instead of a bearer header
// (HttpOnly, SameSite=Strict, and over HTTPS Secure with the __Host- prefix:
// api/cookies.go); every POST carries the session's form token (CSRF).
const (
	consolePrefix = "/console/"
	// consoleCookie holds the session token.
	consoleCookie = "lendflow_console"
	// consoleLoginCookie holds the sign-in form's token until sign-in.
	consoleLoginCookie = "lendflow_console_login"
	// consoleFormMax bounds a console form's body: the longest is a note.
	consoleFormMax = 64 << 10
	// csrfField is the form field of the session's form token.
	csrfField = "csrf"
)

// consoleState is what the console keeps in this process: its templates,
// which every replica holds the same. What a replica must share (the clock
// advance it started) is in PostgreSQL (console_clock.go).
type consoleState struct {
	views *console.Renderer
}

func newConsoleState() *consoleState {
	views, err := console.New()
	if err != nil {
		// The templates are embedded: a parse error is a bug the console's
		// tests catch before any binary is built.
		panic(err)
	}
	return &consoleState{views: views}
}

// consoleRoutes mounts the console. Its pages answer HTML, never problem
// JSON: a refusal is shown on the page it refused.
func (s *Server) consoleRoutes(r chi.Router) {
	r.Route("/console", func(r chi.Router) {
		r.Get("/static/{file}", console.Static("/console/static/").ServeHTTP)
		r.Get("/login", s.consoleLoginPage)
		r.Post("/login", s.consoleLogin)
		r.Group(func(r chi.Router) {
			r.Use(s.consoleSession)
			r.Post("/logout", s.consoleLogout)
			r.Get("/", s.consoleQueues)
			r.Get("/loans", s.consoleFindLoan)
			r.Get("/loans/{id}", s.consoleLoan)
			r.Post("/loans/{id}/reveal", s.consoleReveal)
			loan := s.loanIn(s.consoleFail)
			r.With(loan).Post("/loans/{id}/"+kindDueDiligence, s.consoleDecide(loans.DueDiligence))
			r.With(loan).Post("/loans/{id}/"+kindFullTenderReview, s.consoleDecide(loans.FullTenderReview))
			r.With(loan).Post("/loans/{id}/"+kindWriteOff, s.consoleDecide(loans.WriteOff))
			r.With(loan).Post("/loans/{id}/"+kindRetry, s.consoleRetry)
			r.Get("/reports", s.consoleReports)
			r.Get("/users", s.consoleUsers)
			r.Get("/users/{id}", s.consoleUserPage)
			r.Post("/users/{id}/reveal", s.consoleUserReveal)
			r.Get("/reconciliation", s.consoleReconciliation)
			r.Get("/disclosure", s.consoleDisclosure)
			r.Get("/clock", s.consoleClock)
			r.Get("/calendar", s.consoleCalendar)
			r.Get("/coupons", s.consoleCoupons)
			r.Post("/coupons/grant", s.consoleCouponGrant)
			r.Post("/coupons/top-up", s.consoleBonusTopUp)
			r.Post("/coupons/payments/{id}/retry", s.consoleBonusRetry)
			r.Post("/calendar", s.consoleCalendarSet)
			// As in the JSON API, a wall clock has no advance at all (404).
			if s.ClockMode == clock.Sandbox {
				r.Post("/clock/advance", s.consoleAdvance)
				r.Get("/clock/progress", s.consoleAdvanceProgress)
			}
		})
	})
}

type consoleSessionKey struct{}

// consoleSession admits a request with a live ops session in its cookie:
// without one it sends the browser to sign in; another role's session is
// 403. A POST must also carry the session's form token, or it is 403 before
// anything else reads the form. The user goes in the context as
// requireRole puts it, so the audit log names them.
func (s *Server) consoleSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, u, err := s.consoleUser(r)
		if err != nil {
			s.consoleFail(w, r, err)
			return
		}
		if u == nil {
			console.Headers(w)
			http.Redirect(w, r, consolePrefix+"login", http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, *u)
		ctx = context.WithValue(ctx, consoleSessionKey{}, token)
		r = r.WithContext(ctx)
		if u.Role != lending.RoleOps {
			s.consoleFail(w, r, errs.New(errs.Forbidden, "the console is for ops; this session is a %s's", u.Role))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, consoleFormMax)
			if err := r.ParseForm(); err != nil {
				s.consoleFail(w, r, Validation(FieldError{Field: "form", Message: "not a form of at most 64 KiB"}))
				return
			}
			if !hmac.Equal([]byte(r.PostForm.Get(csrfField)), []byte(csrfToken(token))) {
				s.consoleFail(w, r, errs.New(errs.Forbidden, "the form token is missing or not this session's"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// consoleUser is the session the request's cookie names; nil without one.
func (s *Server) consoleUser(r *http.Request) (string, *User, error) {
	token := s.cookie(r, consoleCookie)
	if token == "" {
		return "", nil, nil
	}
	u, err := s.auth.Session(r.Context(), token)
	if u == nil || err != nil {
		return "", nil, err
	}
	return token, u, nil
}

// csrfToken is the form token of a session: an HMAC of a fixed label under
// the session's own token. Only whoever holds the cookie can compute it, and
// the cookie is HttpOnly, so another site's page can neither read nor
// forge it; the database holds only the token's hash, from which it cannot
// be computed either. It needs no storage and holds across API replicas.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("lendflow console form token"))
	return hex.EncodeToString(m.Sum(nil))
}

// consoleForm reads the POST form (parsed by consoleSession), refusing any
// field it does not name: as the JSON API refuses unknown fields, nothing a
// form sends is silently ignored.
func consoleForm(r *http.Request, fields ...string) (url.Values, error) {
	var unknown []string
	for k := range r.PostForm {
		if k != csrfField && !slices.Contains(fields, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		fe := make([]FieldError, 0, len(unknown))
		for _, k := range unknown {
			fe = append(fe, FieldError{Field: k, Message: "unknown field"})
		}
		return nil, Validation(fe...)
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, Validation(FieldError{Field: k, Message: "given more than once"})
		}
	}
	return r.PostForm, nil
}

// keyConsoleLogin is the server key that binds the console sign-in form's
// token to its cookie.
const keyConsoleLogin = "console_login_form"

// loginFormToken is the sign-in form's token for the browser whose cookie
// holds cookieToken: HMAC-SHA256 under the platform's own key
// (auth.Service.KeyedHash).
func (s *Server) loginFormToken(ctx context.Context, cookieToken string) (string, error) {
	return s.auth.KeyedHash(ctx, keyConsoleLogin, "console sign-in", cookieToken)
}

// loginTokenShape is what renderLogin issues: 32 random bytes in hex.
var loginTokenShape = regexp.MustCompile(`^[0-9a-f]{64}$`)

// consoleLoginPage shows the sign-in form with its form token, bound to a
// random token in a cookie (a signed double submit): a sign-in posted from
// another site lacks the cookie, so nobody can sign a browser in to an
// account of theirs; and one who can plant a cookie (a sibling subdomain, a
// plain-HTTP path) still cannot make the form token that goes with it, which
// is an HMAC under a key only the platform holds (loginFormToken).
func (s *Server) consoleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, email string, refusal error) {
	// A browser keeps its sign-in token while it has one, so two sign-in
	// tabs do not void each other's form.
	var token string
	if c := s.cookie(r, consoleLoginCookie); loginTokenShape.MatchString(c) {
		token = c
	} else {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			s.consoleFail(w, r, err)
			return
		}
		token = hex.EncodeToString(raw)
	}
	formToken, err := s.loginFormToken(r.Context(), token)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.setCookie(w, r, consoleLoginCookie, token, int(time.Hour/time.Second))
	v := console.LoginView{Page: console.Page{Title: "Sign in"}, Email: email, Token: formToken}
	if refusal != nil {
		v.Problem, _ = consoleProblem(refusal)
	}
	s.render(w, r, status, "login", v)
}

// consoleLogin signs in as the API's login does (auth.Service.SignIn) and
// starts an ops session. A right password of a user who is not ops starts no session.
func (s *Server) consoleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, consoleFormMax)
	if err := r.ParseForm(); err != nil {
		s.consoleFail(w, r, Validation(FieldError{Field: "form", Message: "not a form of at most 64 KiB"}))
		return
	}
	c := s.cookie(r, consoleLoginCookie)
	want, err := s.loginFormToken(r.Context(), c)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	if !loginTokenShape.MatchString(c) || !hmac.Equal([]byte(want), []byte(r.PostForm.Get(csrfField))) {
		s.consoleFail(w, r, errs.New(errs.Forbidden, "the sign-in form's token is missing or not this browser's"))
		return
	}
	form, err := consoleForm(r, "email", "password")
	if err != nil {
		s.renderLogin(w, r, http.StatusUnprocessableEntity, "", err)
		return
	}
	email := form.Get("email")
	u, device, err := s.auth.SignIn(r.Context(), auth.Attempt{Email: email, Password: form.Get("password"), Addr: clientAddr(r, s.TrustedProxies), Device: s.cookie(r, deviceCookie)})
	if wait, ok := auth.ThrottledFor(err); ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.renderLogin(w, r, http.StatusTooManyRequests, email, errs.New(errs.LoginThrottled, "wait %s", wait))
		return
	}
	if err != nil {
		if p := problemFor(err); p != nil {
			s.renderLogin(w, r, p.Status, email, err)
		} else {
			s.consoleFail(w, r, err)
		}
		return
	}
	// The password was right: the device is this account's, console or not.
	s.setDeviceCookie(w, r, device)
	if u.Role != lending.RoleOps {
		s.renderLogin(w, r, http.StatusForbidden, email, errs.New(errs.Forbidden, "only ops sign in to the console"))
		return
	}
	token, expires, err := s.auth.StartSession(r.Context(), u)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.setCookie(w, r, consoleLoginCookie, "", -1)
	s.setCookie(w, r, consoleCookie, token, int(time.Until(expires)/time.Second))
	console.Headers(w)
	http.Redirect(w, r, consolePrefix, http.StatusSeeOther)
}

// consoleLogout ends the session, as POST /v1/auth/logout does.
func (s *Server) consoleLogout(w http.ResponseWriter, r *http.Request) {
	if _, err := consoleForm(r); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	token, _ := r.Context().Value(consoleSessionKey{}).(string)
	if err := s.auth.EndSession(r.Context(), token); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.setCookie(w, r, consoleCookie, "", -1)
	console.Headers(w)
	http.Redirect(w, r, consolePrefix+"login", http.StatusSeeOther)
}

// page is what every signed-in page carries.
func (s *Server) page(ctx context.Context, title, nav string) console.Page {
	p := console.Page{Title: title, Nav: nav}
	if u, ok := userFrom(ctx); ok {
		p.User = u.Email
	}
	if token, ok := ctx.Value(consoleSessionKey{}).(string); ok {
		p.CSRF = csrfToken(token)
	}
	if today, mode, err := s.Clock.Today(ctx); err == nil {
		p.Today, p.Mode = today.Format(time.DateOnly), mode
	}
	return p
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	if err := s.console.views.Render(w, status, name, data); err != nil {
		s.Logger.Error("console render", "request_id", middleware.GetReqID(r.Context()), "page", name, "error", err)
	}
}

// consoleProblem is a refusal as the page shows it: the code with its fixed
// title and detail (as the JSON API answers it), and the invalid fields.
// Anything else is an internal error, which says nothing of its cause.
func consoleProblem(err error) (*console.Problem, bool) {
	p := problemFor(err)
	known := p != nil
	if !known {
		p = NewProblem(http.StatusInternalServerError, codeInternal, "")
	}
	out := &console.Problem{Status: p.Status, Code: p.Code, Title: p.Title, Detail: p.Detail}
	if d, ok := detailByCode[p.Code]; ok {
		out.Detail = d
	}
	if p.Code == errs.Unauthenticated {
		out.Detail = "wrong email or password"
	}
	for _, f := range p.Errors {
		out.Fields = append(out.Fields, console.Field{Name: f.Field, Message: f.Message})
	}
	return out, known
}

// consoleFail answers a page that could not be shown: the refusal, or an
// internal error (logged, never shown).
func (s *Server) consoleFail(w http.ResponseWriter, r *http.Request, err error) {
	prob, known := consoleProblem(err)
	if !known {
		s.Logger.Error("console request failed", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "error", err)
	}
	page := console.Page{Title: prob.Title, Problem: prob}
	if _, ok := userFrom(r.Context()); ok && prob.Status != http.StatusForbidden {
		page = s.page(r.Context(), prob.Title, "")
		page.Problem = prob
	}
	s.render(w, r, prob.Status, "error", page)
}
