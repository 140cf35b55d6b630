package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
)

// How long a login token lives: ops tokens less, since an ops session can
// move loans and lock users (docs/security.md "Sessions"); and how many live
// sessions a user keeps: a sign-in beyond them ends the oldest, so signing
// in again and again cannot pile up rows.
const (
	sessionTTL         = 24 * time.Hour
	opsSessionTTL      = 8 * time.Hour
	maxSessionsPerUser = 10
)

// ttlFor is the session lifetime of a role.
func ttlFor(role lending.Role) time.Duration {
	if role == lending.RoleOps {
		return opsSessionTTL
	}
	return sessionTTL
}

// Roles (docs/api.md "Conventions").
const (
	RoleBorrower  = lending.RoleBorrower
	RoleInvestor  = lending.RoleInvestor
	RoleGuarantor = lending.RoleGuarantor
	RoleOps       = lending.RoleOps
)

// User is the signed-in caller as handlers see it: the users row without its
// password hash, so the hash never travels in a request context.
type User struct {
	ID               int64
	Role             lending.Role
	Email            string
	Name             string
	IDNumber         string
	Phone            string
	RiskLevel        *string
	Locked           bool
	CustodyAccountNo *string
	CardNumber       *string
}

func userFromRow(u dbq.User) User {
	return User{
		ID: u.ID, Role: u.Role, Email: u.Email, Name: u.Name, IDNumber: u.IDNumber, Phone: u.Phone,
		RiskLevel: u.RiskLevel, Locked: u.Locked, CustodyAccountNo: u.CustodyAccountNo, CardNumber: u.CardNumber,
	}
}

type ctxKey struct{}

// userFrom is the caller requireRole admitted; false on routes without it.
func userFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// normalizeEmail makes the address the unique key it is treated as: people do
// not expect Alice@x.cn and alice@x.cn to be two accounts.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expires_at"`
	Role      lending.Role `json:"role"`
}

// noSuchUserHash is compared against when the email is unknown, so that an
// unknown email costs what a wrong password costs and emails cannot be probed
// by timing. It is a real cost-10 hash (of a password nobody knows).
const noSuchUserHash = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z7FxkHtz1vJ8rJvQH4uY5Dq."

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, device, err := s.authenticate(ctx, signIn{Email: req.Email, Password: req.Password, Addr: clientAddr(r), Device: s.cookie(r, deviceCookie)})
	if s.refused(w, r, err) {
		return
	}
	token, expires, err := s.newSession(ctx, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setDeviceCookie(w, r, device)
	writeJSON(w, http.StatusOK, loginResponse{Token: token, ExpiresAt: expires, Role: u.Role})
}

// loginThrottledError: the attempt came before its wait was over; its
// password was not looked at.
type loginThrottledError struct{ wait time.Duration }

func (e *loginThrottledError) Error() string { return fmt.Sprintf("login throttled for %s", e.wait) }

// throttledFor is the wait of a throttled attempt.
func throttledFor(err error) (time.Duration, bool) {
	var te *loginThrottledError
	if errors.As(err, &te) {
		return te.wait, true
	}
	return 0, false
}

// signIn is one sign-in attempt: what the client sent, and from where.
type signIn struct {
	Email, Password string
	Addr            string // clientAddr
	Device          string // the device cookie's token, "" without one (devices.go)
}

// authenticate checks an attempt under the login throttle (docs/security.md
// "Sign-in"): it answers the user and the device token to keep in the
// client's cookie, or a *loginThrottledError (throttledFor) with the wait,
// or unauthenticated for a wrong email or password alike. The API's login
// and the console's sign-in both come through here.
func (s *Server) authenticate(ctx context.Context, in signIn) (dbq.User, string, error) {
	wrong := errs.New(errs.Unauthenticated, "wrong email or password")
	// bcrypt reads 72 bytes; a longer password is nobody's, and a huge one
	// must not be hashed for nothing.
	if len(in.Email) > 254 || len(in.Password) > 72 {
		return dbq.User{}, "", wrong
	}
	email, now := normalizeEmail(in.Email), s.now()
	var user *dbq.User
	var device *dbq.LoginDevice
	u, err := s.Q.UserGetByEmail(ctx, email)
	switch {
	case err == nil:
		user = &u
		if device, err = s.deviceOf(ctx, u.ID, in.Device, now); err != nil {
			return dbq.User{}, "", err
		}
	case !errors.Is(err, db.ErrNotFound):
		return dbq.User{}, "", err
	}
	keys, err := s.signInKeys(ctx, user, device, email, in.Addr, now)
	if err != nil {
		return dbq.User{}, "", err
	}
	wait, charged, err := s.admit(ctx, now, keys...)
	if err != nil {
		return dbq.User{}, "", err
	}
	if wait > 0 {
		s.Logger.Warn("login throttled", "request_id", middleware.GetReqID(ctx), "address", in.Addr, "wait", wait)
		return dbq.User{}, "", &loginThrottledError{wait: wait}
	}
	if user == nil {
		_ = s.comparePassword(noSuchUserHash, in.Password)
		return dbq.User{}, "", wrong
	}
	if s.comparePassword(u.PasswordHash, in.Password) != nil {
		return dbq.User{}, "", wrong
	}
	var token string
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := s.signedInThrough(ctx, q, keys, charged, u.ID, in.Addr, now); err != nil {
			return err
		}
		token, err = rememberDevice(ctx, q, u.ID, device, in.Device, now)
		return err
	})
	if err != nil {
		return dbq.User{}, "", err
	}
	return u, token, nil
}

// setDeviceCookie keeps the sign-in's device token in the client for as
// long as a device is remembered.
func (s *Server) setDeviceCookie(w http.ResponseWriter, r *http.Request, token string) {
	s.setCookie(w, r, deviceCookie, token, int(deviceFor/time.Second))
}

// hashPassword and comparePassword are the only bcrypt calls (each costs
// tens of milliseconds of CPU); bcryptRuns counts them, so a test can tell
// how much hashing a request made the server do.
func (s *Server) hashPassword(password string) ([]byte, error) {
	s.bcryptRuns.Add(1)
	return bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
}

func (s *Server) comparePassword(hash, password string) error {
	s.bcryptRuns.Add(1)
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
}

// newSession starts a session for u, living as long as its role's sessions
// do (ttlFor), and answers its token.
func (s *Server) newSession(ctx context.Context, u dbq.User) (string, time.Time, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, err
	}
	token := hex.EncodeToString(raw)
	expires := s.now().Add(ttlFor(u.Role)).UTC().Truncate(time.Second)
	// Only the token's hash is stored: a copy of the table grants no sessions.
	if err := s.Q.SessionInsert(ctx, dbq.SessionInsertParams{TokenHash: tokenHash(token), UserID: u.ID, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	if err := s.Q.SessionTrim(ctx, dbq.SessionTrimParams{UserID: u.ID, Newest: tokenHash(token), Others: maxSessionsPerUser - 1}); err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// logout ends the caller's session: the token stops working at once
// (docs/api.md "Endpoints").
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := requireNoBody(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	token, _ := bearer(r)
	if _, err := s.Q.SessionDelete(r.Context(), tokenHash(token)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// requireRole authenticates the bearer token, admits only the given roles and
// puts the caller in the context for userFrom. The user is read afresh on each
// request (once, by identify, when it runs first), so a lock or a new custody
// account is seen at once.
func (s *Server) requireRole(roles ...lending.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := s.lookup(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if id.user == nil {
				// RFC 6750 §3: a 401 names the scheme the client should use.
				w.Header().Set("WWW-Authenticate", `Bearer realm="lendflow"`)
				s.writeError(w, r, errs.New(errs.Unauthenticated, "no live session"))
				return
			}
			if !slices.Contains(roles, id.user.Role) {
				s.writeError(w, r, errs.New(errs.Forbidden, "this needs the %s role", strings.Join(lending.Strings(roles...), " or ")))
				return
			}
			noteUser(r.Context(), id.user.ID) // the request's access line names the caller
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, *id.user)))
		})
	}
}

// EnsureOpsUser creates the bootstrap ops user (README: the dev stack's ops
// login) unless it exists. An existing ops user keeps its password, so a
// restart never undoes a change made since. The email belonging to a
// non-ops user is an error: starting up must not quietly leave ops without
// a login.
func (s *Server) EnsureOpsUser(ctx context.Context, email, password string) error {
	email = normalizeEmail(email)
	if len(password) < 8 || len(password) > 72 {
		return errors.New("ops password must be 8 to 72 bytes")
	}
	u, err := s.Q.UserGetByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		u, err = s.insertOpsUser(ctx, email, password)
	}
	if err != nil {
		return err
	}
	if u.Role != RoleOps {
		return fmt.Errorf("ops email %s is taken by a user with role %s", email, u.Role)
	}
	return nil
}

func (s *Server) insertOpsUser(ctx context.Context, email, password string) (dbq.User, error) {
	hash, err := s.hashPassword(password)
	if err != nil {
		return dbq.User{}, err
	}
	u, err := s.Q.UserInsert(ctx, dbq.UserInsertParams{Email: email, PasswordHash: string(hash), Role: RoleOps, Name: "ops"})
	if db.UniqueViolation(err) {
		// Another replica starting with us made it first.
		return s.Q.UserGetByEmail(ctx, email)
	}
	return u, err
}
