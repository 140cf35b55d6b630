package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/crypto/bcrypt"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
)

// How long a login token lives: ops tokens less, since an ops session can
// move loans and lock users (docs/security.md "Sessions").
const (
	sessionTTL    = 24 * time.Hour
	opsSessionTTL = 8 * time.Hour
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

type registerRequest struct {
	Email    string       `json:"email"`
	Password string       `json:"password"`
	Role     lending.Role `json:"role"`
	Name     string       `json:"name"`
	IDNumber string       `json:"id_number"`
	Phone    string       `json:"phone"`
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	email := normalizeEmail(req.Email)
	var fields []FieldError
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		fields = append(fields, FieldError{Field: "email", Message: "must be an email address"})
	}
	// bcrypt reads only the first 72 bytes; a longer password would be silently cut.
	if len(req.Password) < 8 || len(req.Password) > 72 {
		fields = append(fields, FieldError{Field: "password", Message: "must be 8 to 72 bytes"})
	}
	// ops accounts are made by the operator (EnsureOpsUser), never by sign-up.
	if req.Role != RoleBorrower && req.Role != RoleInvestor && req.Role != RoleGuarantor {
		fields = append(fields, FieldError{Field: "role", Message: "must be borrower, investor or guarantor"})
	}
	if n := strings.TrimSpace(req.Name); n == "" || len(n) > 100 {
		fields = append(fields, FieldError{Field: "name", Message: "required, at most 100 bytes"})
	}
	if !kyc.ValidIDNumber(req.IDNumber) {
		fields = append(fields, FieldError{Field: "id_number", Message: "must be an 18-character resident ID number with a valid check digit"})
	}
	if !kyc.ValidPhone(req.Phone) {
		fields = append(fields, FieldError{Field: "phone", Message: "must be an 11-digit mobile number"})
	}
	if len(fields) > 0 {
		s.writeError(w, r, Validation(fields...))
		return
	}
	// The check character may be typed x or X; one spelling keeps lookups exact.
	idNumber := strings.ToUpper(req.IDNumber)
	// Only a verified identity is anyone's (docs/security.md "Identities"):
	// a number someone merely typed blocks nobody; one the bank verified is
	// taken.
	if taken, err := s.Q.UserVerifiedIDNumberTaken(r.Context(), dbq.UserVerifiedIDNumberTakenParams{IDNumber: idNumber}); err != nil {
		s.writeError(w, r, err)
		return
	} else if taken {
		s.writeError(w, r, errs.New(errs.IdentityTaken, "ID number verified by another user"))
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Q.UserInsert(r.Context(), dbq.UserInsertParams{
		Email: email, PasswordHash: string(hash), Role: req.Role, Name: strings.TrimSpace(req.Name),
		IDNumber: idNumber, Phone: req.Phone,
	})
	if db.UniqueViolation(err) {
		s.writeError(w, r, errs.New(errs.Conflict, "that email is registered already"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"user_id": u.ID})
}

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
	u, err := s.authenticate(ctx, req.Email, req.Password, clientAddr(r))
	if wait, ok := throttledFor(err); ok {
		s.throttled(w, r, wait)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	token, expires, err := s.newSession(ctx, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
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

// authenticate checks an email and password from a client address, under
// the login throttle (docs/security.md "Sign-in"): it answers the user, or
// a *loginThrottledError (throttledFor) with the wait, or unauthenticated
// for a wrong email or password alike. The API's login and the console's
// sign-in both come through here.
func (s *Server) authenticate(ctx context.Context, rawEmail, password, addr string) (dbq.User, error) {
	wrong := errs.New(errs.Unauthenticated, "wrong email or password")
	// bcrypt reads 72 bytes; a longer password is nobody's, and a huge one
	// must not be hashed for nothing.
	if len(rawEmail) > 254 || len(password) > 72 {
		return dbq.User{}, wrong
	}
	email, now := normalizeEmail(rawEmail), s.now()
	u, err := s.Q.UserGetByEmail(ctx, email)
	found := err == nil
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return dbq.User{}, err
	}
	keys := []throttleKey{{scope: scopeAddress, key: addr, free: addressFreeFailures}}
	known := false
	if found {
		if known, err = s.knownAddress(ctx, u.ID, addr, now); err != nil {
			return dbq.User{}, err
		}
	}
	if !known {
		keys = append(keys, throttleKey{scope: scopeAccount, key: email, free: accountFreeFailures})
	}
	wait, err := s.admitLogin(ctx, now, keys...)
	if err != nil {
		return dbq.User{}, err
	}
	if wait > 0 {
		s.Logger.Warn("login throttled", "request_id", middleware.GetReqID(ctx), "address", addr, "wait", wait)
		return dbq.User{}, &loginThrottledError{wait: wait}
	}
	if !found {
		_ = bcrypt.CompareHashAndPassword([]byte(noSuchUserHash), []byte(password))
		return dbq.User{}, wrong
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return dbq.User{}, wrong
	}
	if err := s.loginSucceeded(ctx, u.ID, email, addr, now); err != nil {
		return dbq.User{}, err
	}
	return u, nil
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
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
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
