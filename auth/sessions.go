package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/users"
)

// How long a session lives: ops sessions less, since an ops session can
// move loans and lock users (docs/security.md "Sessions"); and how many live
// sessions a user keeps: a sign-in beyond them ends the oldest, so signing
// in again and again cannot pile up rows.
const (
	SessionTTL         = 24 * time.Hour
	OpsSessionTTL      = 8 * time.Hour
	MaxSessionsPerUser = 10
)

// TTL is the session lifetime of a role.
func TTL(role lending.Role) time.Duration {
	if role == lending.RoleOps {
		return OpsSessionTTL
	}
	return SessionTTL
}

// maxToken: tokens are 64 hex characters; a longer one is nobody's.
const maxToken = 256

// Session is a signed-in user's session: its token (the bearer token or the
// console's cookie), until when it lives, and the device token the client
// keeps in its device cookie.
type Session struct {
	User    users.User
	Token   string
	Expires time.Time
	Device  string
}

func (s *service) Login(ctx context.Context, a Attempt) (Session, error) {
	u, device, err := s.SignIn(ctx, a)
	if err != nil {
		return Session{}, err
	}
	token, expires, err := s.StartSession(ctx, u)
	return Session{User: u, Token: token, Expires: expires, Device: device}, err
}

func (s *service) StartSession(ctx context.Context, u users.User) (string, time.Time, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, err
	}
	token := hex.EncodeToString(raw)
	expires := s.now().Add(TTL(u.Role)).UTC().Truncate(time.Second)
	// Only the token's hash is stored: a copy of the table grants no sessions.
	if err := s.q.SessionInsert(ctx, dbq.SessionInsertParams{TokenHash: tokenHash(token), UserID: u.ID, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	if err := s.q.SessionTrim(ctx, dbq.SessionTrimParams{UserID: u.ID, Newest: tokenHash(token), Others: MaxSessionsPerUser - 1}); err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

func (s *service) Session(ctx context.Context, token string) (*users.User, error) {
	if token == "" || len(token) > maxToken {
		return nil, nil
	}
	row, err := s.q.SessionGetUser(ctx, tokenHash(token))
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := users.From(row)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (s *service) EndSession(ctx context.Context, token string) error {
	_, err := s.q.SessionDelete(ctx, tokenHash(token))
	return err
}

// tokenHash is what the platform keeps of a token (a session's, a device's):
// its SHA-256, from which the token cannot be made.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
