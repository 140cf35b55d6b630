package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/money"
)

// sessionTTL is how long a login token lives.
const sessionTTL = 24 * time.Hour

type ctxKey struct{}

// User is the signed-in caller.
type User = dbq.User

func userFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var fields []FieldError
	if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email {
		fields = append(fields, FieldError{Field: "email", Message: "must be an email address"})
	}
	if len(req.Password) < 8 || len(req.Password) > 72 {
		fields = append(fields, FieldError{Field: "password", Message: "must be 8 to 72 bytes"})
	}
	if req.Role != "borrower" && req.Role != "investor" {
		fields = append(fields, FieldError{Field: "role", Message: "must be borrower or investor"})
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
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Q.UserInsert(r.Context(), dbq.UserInsertParams{
		Email: req.Email, PasswordHash: string(hash), Role: req.Role, Name: strings.TrimSpace(req.Name),
		IDNumber: strings.ToUpper(req.IDNumber), Phone: req.Phone,
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
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
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Role      string    `json:"role"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Q.UserGetByEmail(r.Context(), req.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		// Same answer and similar cost as a wrong password: emails are not probed.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z7FxkHtz1vJ8rJvQH4uY5Dq."), []byte(req.Password))
		s.writeError(w, r, errs.New(errs.Unauthenticated, "wrong email or password"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil {
		s.writeError(w, r, errs.New(errs.Unauthenticated, "wrong email or password"))
		return
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		s.writeError(w, r, err)
		return
	}
	token := hex.EncodeToString(raw)
	expires := time.Now().Add(sessionTTL).UTC().Truncate(time.Second)
	// Only the token's hash is stored: a copy of the table grants no sessions.
	if err := s.Q.SessionInsert(r.Context(), dbq.SessionInsertParams{TokenHash: tokenHash(token), UserID: u.ID, ExpiresAt: expires}); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{Token: token, ExpiresAt: expires, Role: u.Role})
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// requireRole authenticates the bearer token and admits only the given roles.
func (s *Server) requireRole(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || token == "" {
				s.writeError(w, r, errs.New(errs.Unauthenticated, "sign in: Authorization: Bearer <token>"))
				return
			}
			u, err := s.Q.SessionGetUser(r.Context(), tokenHash(token))
			if errors.Is(err, pgx.ErrNoRows) {
				s.writeError(w, r, errs.New(errs.Unauthenticated, "the token is unknown or expired"))
				return
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			allowed := false
			for _, role := range roles {
				allowed = allowed || u.Role == role
			}
			if !allowed {
				s.writeError(w, r, errs.New(errs.Forbidden, "this needs the %s role", strings.Join(roles, " or ")))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, u)))
		})
	}
}

// EnsureOpsUser creates the bootstrap ops user if the email is not taken.
func (s *Server) EnsureOpsUser(ctx context.Context, email, password string) error {
	if _, err := s.Q.UserGetByEmail(ctx, email); err == nil {
		return nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = s.Q.UserInsert(ctx, dbq.UserInsertParams{Email: email, PasswordHash: string(hash), Role: "ops", Name: "ops", IDNumber: "", Phone: ""})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil // another replica made it first
	}
	return err
}

type riskRequest struct {
	Answers []int `json:"answers"`
}

func (s *Server) riskAssessment(w http.ResponseWriter, r *http.Request) {
	me, _ := userFrom(r.Context())
	var req riskRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	level, err := money.RiskLevelFromAnswers(req.Answers)
	if err != nil {
		s.writeError(w, r, Validation(FieldError{Field: "answers", Message: err.Error()}))
		return
	}
	l := string(level)
	if err := s.Q.UserSetRiskLevel(r.Context(), dbq.UserSetRiskLevelParams{ID: me.ID, RiskLevel: &l}); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"risk_level": l})
}
