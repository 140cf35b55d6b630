package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/users"
)

// Attempt is one sign-in attempt: what the client sent, and from where.
type Attempt struct {
	Email, Password string
	// Addr is the client's address as the throttles key it (the TCP peer,
	// an IPv6 peer by its /64).
	Addr string
	// Device is the device cookie's token, "" without one (devices.go).
	Device string
}

// Throttled answers an attempt that came before its wait was over
// (login_throttled); its password was not looked at, and it was not counted.
type Throttled struct{ Wait time.Duration }

func (e *Throttled) Error() string { return fmt.Sprintf("login throttled for %s", e.Wait) }

// ThrottledFor is the wait of a throttled attempt.
func ThrottledFor(err error) (time.Duration, bool) {
	var te *Throttled
	if errors.As(err, &te) {
		return te.Wait, true
	}
	return 0, false
}

// NormalizeEmail makes the address the unique key it is treated as: people
// do not expect Alice@x.cn and alice@x.cn to be two accounts.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// noSuchUserHash is compared against when the email is unknown, so that an
// unknown email costs what a wrong password costs and emails cannot be probed
// by timing. It is a real cost-10 hash (of a password nobody knows).
const noSuchUserHash = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z7FxkHtz1vJ8rJvQH4uY5Dq."

func (s *service) SignIn(ctx context.Context, in Attempt) (users.User, string, error) {
	wrong := errs.New(errs.Unauthenticated, "wrong email or password")
	// bcrypt reads 72 bytes; a longer password is nobody's, and a huge one
	// must not be hashed for nothing.
	if len(in.Email) > 254 || len(in.Password) > 72 {
		return users.User{}, "", wrong
	}
	email, now := NormalizeEmail(in.Email), s.now()
	var user *dbq.User
	var device *dbq.LoginDevice
	u, err := s.q.UserGetByEmail(ctx, email)
	switch {
	case err == nil:
		user = &u
		if device, err = s.deviceOf(ctx, u.ID, in.Device, now); err != nil {
			return users.User{}, "", err
		}
	case !errors.Is(err, db.ErrNotFound):
		return users.User{}, "", err
	}
	keys, err := s.signInKeys(ctx, user, device, email, in.Addr, now)
	if err != nil {
		return users.User{}, "", err
	}
	wait, charged, err := s.admit(ctx, now, keys...)
	if err != nil {
		return users.User{}, "", err
	}
	if wait > 0 {
		logging.From(ctx, s.log).Warn("login throttled", "address", in.Addr, "wait", wait)
		return users.User{}, "", &Throttled{Wait: wait}
	}
	if user == nil {
		_ = s.comparePassword(s.noSuchUser, in.Password)
		return users.User{}, "", wrong
	}
	if s.comparePassword(u.PasswordHash, in.Password) != nil {
		return users.User{}, "", wrong
	}
	var token string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := s.signedInThrough(ctx, q, keys, charged, u.ID, in.Addr, now); err != nil {
			return err
		}
		token, err = rememberDevice(ctx, q, u.ID, device, in.Device, now)
		return err
	})
	if err != nil {
		return users.User{}, "", err
	}
	out, err := users.From(u)
	return out, token, err
}

// hashPassword and comparePassword are the only bcrypt calls; hashes counts
// them (Hashes).
func (s *service) hashPassword(password string) ([]byte, error) {
	s.hashes.Add(1)
	return bcrypt.GenerateFromPassword([]byte(password), s.cost)
}

func (s *service) comparePassword(hash, password string) error {
	s.hashes.Add(1)
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
}
