package idempotency

import (
	"context"
	"errors"
	"time"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Store is the replay store: a request's answer kept under its key, so the
// same request sent again gets it byte for byte (docs/idempotency.md "The
// replay store only replays"). Keys are scoped to their owner, the signed-in
// caller (0 for an anonymous one, whose key the API scopes itself).
type Store struct {
	q *dbq.Queries
}

// NewStore is the store in d (a pool).
func NewStore(d db.DBTX) *Store { return &Store{q: db.Queries(d)} }

// Claim is one request taking its key.
type Claim struct {
	Owner        int64
	Key          string
	Method, Path string
	// RequestHash is what a request under the key must match to be the same
	// request: another body under the key is idempotency_key_reused.
	RequestHash string
	// Replica is the API replica claiming (docs/replicas.md); nil: none, and
	// the claim is taken over only once StaleSeconds have passed.
	Replica      *int64
	StaleSeconds int32
}

// StaleClaim is how long a key may stay "in flight" before a retry of the
// same request may take it over. It is far above any request's real duration
// (bank calls time out at 30 s), so only a request whose process died is
// overtaken. A claim that carries its replica is taken over sooner: as soon
// as that replica is gone (replica.Lease after its last renewal, or at once
// when it left), which is what the API's replicas do; StaleClaim is the rule
// for a server in no fleet, and the last word if a live replica loses a
// request.
const StaleClaim = 10 * time.Minute

// Claim takes the key for c's request: false when another request holds it,
// or held it and was answered (Get tells which). The same request takes a
// claim over that was released, whose replica is gone, or that went stale.
func (s *Store) Claim(ctx context.Context, c Claim) (bool, error) {
	_, err := s.q.IdempotencyKeyClaim(ctx, dbq.IdempotencyKeyClaimParams{
		UserID: c.Owner, Key: c.Key, Method: c.Method, Path: c.Path, RequestHash: c.RequestHash,
		ReplicaID: c.Replica, StaleSeconds: c.StaleSeconds,
	})
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Complete stores the request's final answer under its key for replay.
func (s *Store) Complete(ctx context.Context, owner int64, key string, status int, body []byte) error {
	code := int32(status)
	return s.q.IdempotencyKeyComplete(ctx, dbq.IdempotencyKeyCompleteParams{UserID: owner, Key: key, StatusCode: &code, Response: body})
}

// Release frees a claimed key whose request ended without a final answer:
// the same request may run again under it (and finds the effect it made, if
// any); another request under it is still refused, as the row keeps its hash.
func (s *Store) Release(ctx context.Context, owner int64, key string) error {
	return s.q.IdempotencyKeyRelease(ctx, dbq.IdempotencyKeyReleaseParams{UserID: owner, Key: key})
}

// Answer is what the store holds under a key.
type Answer struct {
	RequestHash string
	// Status is the stored answer's status; 0 while the request that holds
	// the key is still in flight.
	Status int
	Body   []byte
}

// Get is what the store holds under the owner's key.
func (s *Store) Get(ctx context.Context, owner int64, key string) (Answer, error) {
	row, err := s.q.IdempotencyKeyGet(ctx, dbq.IdempotencyKeyGetParams{UserID: owner, Key: key})
	if err != nil {
		return Answer{}, err
	}
	a := Answer{RequestHash: row.RequestHash, Body: row.Response}
	if row.StatusCode != nil {
		a.Status = int(*row.StatusCode)
	}
	return a, nil
}

// Retention: an answered request is replayed under its key for this long. A
// client retries a lost answer within minutes; a day covers a client that
// was down overnight. After it, the same key is a new request, and finds the
// effect its first request made, which carries the key.
const Retention = 24 * time.Hour

// Purge drops the keys answered (or released) longer ago than Retention; a
// key still in flight stays. It answers how many went; a second call at once
// finds none, so workers may run it together.
func Purge(ctx context.Context, q *dbq.Queries, now time.Time) (int64, error) {
	return q.IdempotencyKeyDeleteBefore(ctx, now.Add(-Retention))
}
