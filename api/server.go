// Package api is the HTTP API (docs/api.md): chi handlers closed over the
// server's dependencies, problem+json errors with stable codes, bearer-token
// auth by role, and Idempotency-Key replay for every creating POST.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/calendar"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/coupons"
	"github.com/lendflow/lendflow/disclosure"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/reconcile"
	"github.com/lendflow/lendflow/replica"
	"github.com/lendflow/lendflow/reports"
	"github.com/lendflow/lendflow/support"
	"github.com/lendflow/lendflow/transfer"
	"github.com/lendflow/lendflow/users"
	"github.com/lendflow/lendflow/workflows"
)

// Deps are what the handlers need.
type Deps struct {
	Pool     *pgxpool.Pool
	Logger   *slog.Logger
	Temporal client.Client
	Bank     bank.Client
	Clock    *clock.Clock
	Bids     *bidding.Service
	Accounts *accounts.Service
	// Transfers is debt transfer (docs/transfer.md).
	Transfers *transfer.Service
	// Coupons is coupons and the bonus account (docs/coupons.md).
	Coupons    *coupons.Service
	HMACSecret []byte
	// PasswordCost is bcrypt's cost for password hashes; zero is
	// production's (auth.Deps.PasswordCost).
	PasswordCost int
	// ClockMode is the clock's mode (clock.Sandbox or clock.Wall). The
	// sandbox clock's advance is routed only in sandbox mode: in wall mode
	// it does not exist (404), rather than existing and refusing.
	ClockMode string
	// BankFiles serves the bank's daily reconciliation files.
	BankFiles reconcile.Source
	// Checks are readiness probes by name (postgres, temporal, bank). With
	// none named postgres, /readyz pings Pool itself.
	Checks map[string]func(context.Context) error
	// UpdateWait bounds a request's wait on a loan's workflow; zero is
	// loans.DefaultUpdateWait.
	UpdateWait time.Duration
	// The ops console (docs/console.md): where its loan pages link to a
	// loan's workflow (TEMPORAL_UI_URL, and the namespace).
	TemporalUIURL     string
	TemporalNamespace string
	// PlainHTTP: clients reach the API over plain HTTP (PUBLIC_HTTPS=false,
	// development on localhost), so its cookies cannot be Secure
	// (api/cookies.go). A request that came over TLS is HTTPS regardless.
	PlainHTTP bool
	// Replica is this process's lease among the API's replicas
	// (docs/replicas.md): the Idempotency-Key claims and the console's clock
	// advance carry it, so another replica takes them over once it is gone,
	// and the rate limit's budget is shared among the replicas it counts. nil:
	// a server in no fleet (tests), whose claims go stale after
	// idempotency.StaleClaim.
	Replica *replica.Replica
	// WebhookPolicy is what a webhook's URL may point at (docs/events.md
	// "Which URLs"; WEBHOOK_ALLOW_NETS).
	WebhookPolicy events.Policy
	// TrustedProxies are the proxies in front of the API (TRUSTED_PROXIES:
	// lendflow lb's address): a request whose TCP peer is one of them is
	// keyed by the address its X-Forwarded-For names, read from the right
	// past every trusted hop (clientAddr; docs/security.md "The client
	// address"). None: the TCP peer, and the header is never read.
	TrustedProxies []netip.Prefix
}

// Server serves the API.
type Server struct {
	Deps
	limits *limiter
	// now is the wall clock of sessions, login throttling and the bank's
	// signatures (tests move it).
	now func() time.Time
	// console is the ops console's state in this process (api/console.go).
	console *consoleState
	// The services the handlers call, built from Deps (New).
	auth       auth.Service
	users      users.Service
	loans      loans.Service
	replays    *idempotency.Store
	audit      *audit.Log
	inbox      *contact.Inbox
	reports    *reconcile.Reports
	disclosure *disclosure.Publisher
	calendar   *calendar.Service
	support    *support.Service
	books      *reports.Service
}

// Requests a caller may make: a sustained rate and a burst.
const (
	requestsPerSecond = 50
	requestBurst      = 100
)

// New builds a server.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Transfers == nil && d.Pool != nil && d.Clock != nil {
		// The service as the deps make it, for a server wired without one.
		d.Transfers = transfer.New(d.Pool, workflows.Transfers{Client: d.Temporal, Wait: d.UpdateWait}, d.Clock.Date, d.Logger)
	}
	if d.Coupons == nil && d.Pool != nil && d.Clock != nil {
		d.Coupons = coupons.New(d.Pool, d.Bank, d.Clock.Date, d.Logger)
	}
	s := &Server{Deps: d, limits: newLimiter(requestsPerSecond, requestBurst), now: time.Now, console: newConsoleState()}
	s.wire()
	if d.Replica != nil {
		s.limits.replicas = d.Replica.Live
	}
	return s
}

// wire builds the services the handlers call from the server's Deps: the
// one place the API meets the database and Temporal, through them.
func (s *Server) wire() {
	d := s.Deps
	if s.Accounts == nil {
		s.Accounts = accounts.New(d.Pool, d.Bank, d.Logger)
	}
	s.auth = auth.New(auth.Deps{Pool: d.Pool, Clock: d.Clock, Log: d.Logger, Now: func() time.Time { return s.now() },
		PasswordCost: d.PasswordCost})
	s.users = users.New(d.Pool, d.Logger)
	s.loans = loans.New(loans.Deps{Pool: d.Pool, Temporal: d.Temporal, Clock: d.Clock, Log: d.Logger, UpdateWait: d.UpdateWait})
	s.replays = idempotency.NewStore(d.Pool)
	s.audit = audit.NewLog(d.Pool)
	s.inbox = contact.NewInbox(d.Pool)
	s.reports = reconcile.NewReports(d.Pool, d.BankFiles)
	s.disclosure = disclosure.NewPublisher(d.Pool)
	s.calendar = calendar.New(d.Pool)
	if d.Clock != nil {
		s.books = reports.New(d.Pool, d.Clock.Date)
	}
	s.support = support.New(d.Pool, d.Bank, d.Transfers, d.Coupons, d.Logger)
}

// replicaID is what this process's claims carry: its replica, or nil.
func (s *Server) replicaID() *int64 {
	if s.Replica == nil {
		return nil
	}
	id := s.Replica.ID()
	return &id
}

// Handler is the router with its middleware.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	// Metrics and the request's logger come before the recoverer, so a panic's
	// 500 is counted and logged like any other answer; identify reads the
	// token before the limiter keys on the caller.
	r.Use(middleware.RequestID, httpMetrics.Middleware, s.requestLog, s.recoverer, s.answerHeaders, s.limitRequest, s.identify)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, NewProblem(http.StatusNotFound, errs.NotFound, ""))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, NewProblem(http.StatusMethodNotAllowed, codeMethodNotAllowed, ""))
	})
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/openapi.yaml", serveOpenAPI)
	// GET /metrics is not here: it is served on a listener of its own
	// (API_METRICS_LISTEN, app/run.go), never the public one.
	r.With(s.idempotent).Post("/v1/auth/register", s.register)
	r.Post("/v1/auth/login", s.login)
	r.With(s.requireRole(lending.Roles...)).Post("/v1/auth/logout", s.logout)
	r.With(s.requireRole(lending.RoleInvestor)).Post("/v1/me/risk-assessment", s.riskAssessment)
	s.accountRoutes(r)
	s.loanRoutes(r)
	s.notificationRoutes(r)
	s.guaranteeRoutes(r)
	s.cardRoutes(r)
	s.recoveryRoutes(r)
	s.transferRoutes(r)
	s.couponRoutes(r)
	s.opsRoutes(r)
	s.supportRoutes(r)
	s.reportRoutes(r)
	r.With(s.requireRole(lending.RoleOps)).Get("/v1/ops/collection-tasks", s.collectionTaskList)
	s.consoleRoutes(r)
	s.eventRoutes(r)
	s.webhookRoutes(r)
	s.calendarRoutes(r)
	return r
}

// recoverer turns a panic into a 500 problem that carries no internals.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log(r.Context()).Error("panic", "panic", v)
				s.writeError(w, r, NewProblem(http.StatusInternalServerError, codeInternal, ""))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// answerHeaders go on every answer: nosniff keeps browsers from reading a
// JSON answer as something else; no-store keeps answers (a sign-in's token,
// balances, personal data) out of every cache, the browser's and a proxy's;
// over HTTPS, HSTS tells browsers to come back over HTTPS only, for a year
// (a browser ignores it on plain HTTP anyway).
func (s *Server) answerHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		if s.overHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

type amountRequest struct {
	Amount string `json:"amount"`
}

// amount reads an `{"amount": "…"}` body, or answers what is wrong with it.
func (s *Server) amount(w http.ResponseWriter, r *http.Request) (decimal.Decimal, bool) {
	var req amountRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return decimal.Zero, false
	}
	amount, fe := parseMoney("amount", req.Amount)
	if fe != nil {
		s.writeError(w, r, Validation(*fe))
		return decimal.Zero, false
	}
	return amount, true
}
