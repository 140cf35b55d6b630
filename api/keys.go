package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/lendflow/lendflow/db/dbq"
)

// Keys the API makes itself and keeps in PostgreSQL (server_keys), so every
// replica uses the same one and no setting has to carry it: made at random
// by whoever needs it first, read once per process after that. They key
// HMACs whose inputs an attacker may know or plant (a cookie value, an
// email), so that the outputs are the platform's alone.
const (
	// keyConsoleLogin binds the console sign-in form's token to its cookie.
	keyConsoleLogin = "console_login_form"
	// keyRegistration scopes registration's Idempotency-Keys (idempotency.go).
	keyRegistration = "registration_idempotency"
)

// serverKeys caches the keys this process has read.
type serverKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// serverKey is the key named, made on first use.
func (s *Server) serverKey(ctx context.Context, name string) ([]byte, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if k, ok := s.keys.keys[name]; ok {
		return k, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	k, err := s.Q.ServerKeyEnsure(ctx, dbq.ServerKeyEnsureParams{Name: name, Key: fresh})
	if err != nil {
		return nil, err
	}
	if s.keys.keys == nil {
		s.keys.keys = map[string][]byte{}
	}
	s.keys.keys[name] = k
	return k, nil
}

// keyedHash is hex HMAC-SHA256 of the parts (each ended by a NUL, so two
// parts cannot be read as one) under the key named.
func (s *Server) keyedHash(ctx context.Context, name string, parts ...string) (string, error) {
	k, err := s.serverKey(ctx, name)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)), nil
}
