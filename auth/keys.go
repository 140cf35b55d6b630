package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/lendflow/lendflow/db/dbq"
)

// Keys the platform makes itself and keeps in PostgreSQL (server_keys), so
// every replica uses the same one and no setting has to carry it: made at
// random by whoever needs it first, read once per process after that. They
// key HMACs whose inputs an attacker may know or plant (a cookie value, an
// email), so that the outputs are the platform's alone.
type serverKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// serverKey is the key named, made on first use.
func (s *service) serverKey(ctx context.Context, name string) ([]byte, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if k, ok := s.keys.keys[name]; ok {
		return k, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	k, err := s.q.ServerKeyEnsure(ctx, dbq.ServerKeyEnsureParams{Name: name, Key: fresh})
	if err != nil {
		return nil, err
	}
	if s.keys.keys == nil {
		s.keys.keys = map[string][]byte{}
	}
	s.keys.keys[name] = k
	return k, nil
}

// KeyedHash writes each part ended by a NUL, so two parts cannot be read as
// one.
func (s *service) KeyedHash(ctx context.Context, name string, parts ...string) (string, error) {
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
