package api

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/users"
)

// Roles (docs/api.md "Conventions").
const (
	RoleBorrower  = lending.RoleBorrower
	RoleInvestor  = lending.RoleInvestor
	RoleGuarantor = lending.RoleGuarantor
	RoleOps       = lending.RoleOps
)

// User is the signed-in caller as handlers see it: the users row without its
// password hash, so the hash never travels in a request context.
type User = users.User

type ctxKey struct{}

// userFrom is the caller requireRole admitted; false on routes without it.
func userFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
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

// login signs in under the sign-in throttle and starts a session
// (auth.Service.Login; docs/security.md "Sign-in").
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	sess, err := s.auth.Login(r.Context(), auth.Attempt{Email: req.Email, Password: req.Password, Addr: clientAddr(r, s.TrustedProxies), Device: s.cookie(r, deviceCookie)})
	if s.refused(w, r, err) {
		return
	}
	s.setDeviceCookie(w, r, sess.Device)
	writeJSON(w, http.StatusOK, loginResponse{Token: sess.Token, ExpiresAt: sess.Expires, Role: sess.User.Role})
}

// setDeviceCookie keeps the sign-in's device token in the client for as
// long as a device is remembered (auth.DeviceFor).
func (s *Server) setDeviceCookie(w http.ResponseWriter, r *http.Request, token string) {
	s.setCookie(w, r, deviceCookie, token, int(auth.DeviceFor/time.Second))
}

// refused answers err, if there is one, and says so: a throttled attempt's
// 429 with its wait, or the error's problem.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	if wait, ok := auth.ThrottledFor(err); ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.writeError(w, r, errs.New(errs.LoginThrottled, "wait %s", wait))
		return true
	}
	if err != nil {
		s.writeError(w, r, err)
		return true
	}
	return false
}

// retryAfter is a wait as Retry-After says it: whole seconds, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1))
}

// logout ends the caller's session: the token stops working at once
// (docs/api.md "Endpoints").
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := requireNoBody(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	token, _ := bearer(r)
	if err := s.auth.EndSession(r.Context(), token); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
// login) unless it exists (auth.Service.EnsureOpsUser).
func (s *Server) EnsureOpsUser(ctx context.Context, email, password string) error {
	return s.auth.EnsureOpsUser(ctx, email, password)
}
