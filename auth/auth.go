// Package auth is how people get in (docs/security.md "Sign-in", "Sessions",
// "Registration"): registration, sign-in under the sign-in throttle, the
// devices and addresses an account is known at, sessions, the bootstrap ops
// user, and the keys the platform makes itself. The API's login and
// registration and the ops console's sign-in all come through here.
package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/users"
)

// Service is how people register, sign in and hold a session.
type Service interface {
	// Register makes the account reg asks for (its fields checked already:
	// Registration), registered from the client address addr, under the
	// address's throttle; an attempt that only learns that an identity exists
	// stays a failure of the address, and the owner of a taken email is told
	// someone tried. It answers the user and the token of the device cookie
	// the client keeps. Errors: conflict (the email has an account),
	// identity_taken (another user verified the ID number), a *Throttled
	// (login_throttled, with its wait).
	Register(ctx context.Context, reg Registration, addr string) (users.User, string, error)
	// SignIn checks an attempt under the sign-in throttle and answers the
	// user and the device token to keep in the client's cookie. Errors:
	// unauthenticated (a wrong email or password alike), a *Throttled
	// (login_throttled: the attempt came before its wait was over, and its
	// password was not looked at).
	SignIn(ctx context.Context, a Attempt) (users.User, string, error)
	// Login is SignIn and, the password right, StartSession: the session of
	// the user the attempt signs in, and the device token to keep. Errors:
	// as SignIn's.
	Login(ctx context.Context, a Attempt) (Session, error)
	// StartSession starts a session for u, living as long as its role's
	// sessions do (24 hours, 8 for ops), ending u's oldest beyond
	// MaxSessionsPerUser, and answers its token.
	StartSession(ctx context.Context, u users.User) (string, time.Time, error)
	// Session is the user of the live session token names; nil when it names
	// none (unknown, expired or ended).
	Session(ctx context.Context, token string) (*users.User, error)
	// EndSession ends the session token names, at once; a token that names
	// none is no error.
	EndSession(ctx context.Context, token string) error
	// EnsureOpsUser creates the bootstrap ops user unless it exists. An
	// existing ops user keeps its password, so a restart never undoes a
	// change made since. An email belonging to a user who is not ops is an
	// error: starting up must not quietly leave ops without a login.
	EnsureOpsUser(ctx context.Context, email, password string) error
	// KeyedHash is hex HMAC-SHA256 of the parts under the platform's own key
	// named (made at random by whoever needs it first, one for every
	// replica): for values an attacker may know or plant (a cookie value,
	// an email), whose keyed hash is the platform's alone.
	KeyedHash(ctx context.Context, name string, parts ...string) (string, error)
	// Hashes counts the password hashes and comparisons run (each costs tens
	// of milliseconds of CPU): how much hashing requests made the server do.
	Hashes() int64
}

// Clock is the business date (clock.Clock): a registration attempt's notice
// is dated by it.
type Clock interface {
	Today(ctx context.Context) (time.Time, string, error)
}

// Deps are what the service works with.
type Deps struct {
	Pool  *pgxpool.Pool
	Clock Clock
	Log   *slog.Logger
	// Now is the wall clock of sessions and throttling; nil: time.Now.
	Now func() time.Time
	// PasswordCost is bcrypt's cost for the hashes the service makes; zero
	// is bcrypt.DefaultCost, production's. Tests that sign in hundreds of
	// times give bcrypt.MinCost: the throttle's rules do not depend on what
	// a hash costs, and at cost 10 the hashing was most of their time.
	PasswordCost int
}

type service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	clock Clock
	log   *slog.Logger
	now   func() time.Time
	keys  serverKeys
	cost  int
	// noSuchUser is compared against when the email is unknown: a hash of
	// the service's cost (noSuchUserHash at production's).
	noSuchUser string
	// hashes counts bcrypt runs (Hashes).
	hashes atomic.Int64
}

// New is the service.
func New(d Deps) Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &service{pool: d.Pool, q: db.Queries(d.Pool), clock: d.Clock, log: d.Log, now: d.Now,
		cost: d.PasswordCost, noSuchUser: noSuchUserHash}
	if s.cost == 0 {
		s.cost = bcrypt.DefaultCost
	}
	if s.cost != bcrypt.DefaultCost {
		h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), s.cost)
		if err != nil {
			panic(fmt.Sprintf("auth: bcrypt cost %d: %v", s.cost, err))
		}
		s.noSuchUser = string(h)
	}
	return s
}

func (s *service) Hashes() int64 { return s.hashes.Load() }
