package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/idempotency"
)

// idempotent replays the first answer to a POST carrying an Idempotency-Key
// (docs/api.md "Conventions"). The key is scoped to the caller; the same key with
// another body is 409 idempotency_key_reused; a duplicate arriving while the
// first is in flight is 409 conflict.
//
// This store only replays answers: it is not what keeps an effect from
// happening twice (docs/idempotency.md). The handler gets the key
// (idempotencyKey) and the effect it creates carries it, written in the same
// transaction, so a retry finds the effect whatever became of the first
// answer. Answers that are not final (5xx, 202, a panic) are not stored: the
// key is released for the same request only, which runs again and answers
// the effect as it is now; another body under the key is still refused.
//
// Mount it after requireRole, so the key is scoped to the signed-in caller;
// before it (register) a key is scoped to what only its sender knows
// (strangerScope).
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, hash, body, ok := s.keyedRequest(w, r)
		if !ok {
			if key == "" {
				next.ServeHTTP(w, r)
			}
			return
		}
		var owner int64 // 0: anonymous (register)
		if u, ok := userFrom(r.Context()); ok {
			owner = u.ID
		}
		ctx := r.Context()
		if owner == 0 {
			var err error
			if key, hash, err = s.strangerScope(ctx, r, key, body); err != nil {
				s.writeError(w, r, err)
				return
			}
		}

		claimed, err := s.replays.Claim(ctx, s.claim(r, owner, key, hash))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !claimed {
			s.replay(w, r, owner, key, hash)
			return
		}
		r = r.WithContext(context.WithValue(ctx, idemKeyCtx{}, key))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		completed := false
		defer func() {
			// A panic answers 500 (the recoverer): release the key for a retry
			// rather than leave it "in flight" until the claim goes stale.
			if !completed {
				s.releaseKey(ctx, owner, key)
			}
		}()
		next.ServeHTTP(rec, r)
		completed = true
		s.settleKey(ctx, owner, key, rec.status, rec.body.Bytes())
	})
}

// settleKey stores a final answer under the key for its replays, or releases
// the key for a retry when the answer is not final (final). The answer went
// out (or goes out next): it is stored even if the client hung up.
func (s *Server) settleKey(ctx context.Context, owner int64, key string, status int, body []byte) {
	if !final(status) {
		s.releaseKey(ctx, owner, key)
		return
	}
	if err := s.replays.Complete(context.WithoutCancel(ctx), owner, key, status, body); err != nil {
		s.Logger.Error("idempotency key not stored", "request_id", middleware.GetReqID(ctx), "error", err)
	}
}

// releaseKey frees a claimed key whose request ended without a final answer.
func (s *Server) releaseKey(ctx context.Context, owner int64, key string) {
	if err := s.replays.Release(context.WithoutCancel(ctx), owner, key); err != nil {
		s.Logger.Error("idempotency key not released", "request_id", middleware.GetReqID(ctx), "error", err)
	}
}

// replay answers a request whose key another request holds (or held): its
// stored answer, or why there is none to give.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, owner int64, key, hash string) {
	prev, err := s.replays.Get(r.Context(), owner, key)
	switch {
	case err != nil:
		s.writeError(w, r, err)
	case prev.RequestHash != hash:
		s.writeError(w, r, errs.New(errs.IdempotencyKeyReused, "this Idempotency-Key was used with another request"))
	case prev.Status == 0:
		s.writeError(w, r, errs.New(errs.Conflict, "a request with this Idempotency-Key is still in flight"))
	default:
		ct := "application/json"
		if prev.Status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		_, _ = w.Write(prev.Body)
	}
}

// keyedRequest reads a request's Idempotency-Key and its body (put back for
// the handler) and hashes method, path and body, which a retry under the key
// must match. ok false: there is no key (key "", serve the request as it
// is) or the request was answered here (a bad key, a body over 1 MiB).
func (s *Server) keyedRequest(w http.ResponseWriter, r *http.Request) (key, hash string, body []byte, ok bool) {
	key = r.Header.Get("Idempotency-Key")
	if key == "" {
		return "", "", nil, false
	}
	if !validKey(key) {
		s.writeError(w, r, Validation(FieldError{Field: "Idempotency-Key", Message: "at most 200 characters, printable ASCII"}))
		return key, "", nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, r, Validation(FieldError{Field: "body", Message: "larger than 1 MiB"}))
		return key, "", nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
	return key, hex.EncodeToString(sum[:]), body, true
}

// strangerScope scopes an anonymous caller's key (registration's) to what
// only its sender knows: the email and the password of the account asked
// for. Two strangers' registrations under one key are two requests, so a
// guessed key blocks no one's sign-up (issue 25); the same person retrying
// replays, and another body from them under the key is still
// idempotency_key_reused. Both the scope and the request's hash are HMACs
// under a server key (auth.Service.KeyedHash), so the stored rows hold no
// fast hash of a password. A body that is not a registration is scoped by
// all of itself.
func (s *Server) strangerScope(ctx context.Context, r *http.Request, key string, body []byte) (string, string, error) {
	var who struct{ Email, Password string }
	parts := []string{"body", string(body)}
	if json.Unmarshal(body, &who) == nil {
		parts = []string{"account", auth.NormalizeEmail(who.Email), who.Password}
	}
	scope, err := s.auth.KeyedHash(ctx, keyRegistration, parts...)
	if err != nil {
		return "", "", err
	}
	hash, err := s.auth.KeyedHash(ctx, keyRegistration, "request", r.Method, r.URL.Path, string(body))
	if err != nil {
		return "", "", err
	}
	return "anonymous " + scope[:32] + " " + key, hash, nil
}

// idempotentBid is idempotent for the bid route, whose handler claims the
// key in the transaction that admits the bid and stores a frozen bid's
// answer in the one that books the freeze (bidding.Claim): two commits a bid
// where idempotent's own claim and answer would add two more. The rules are
// idempotent's; only where the claim is made moves. The handler's answer is
// held until the key's fate is known: a key the handler found taken is
// answered as idempotent answers it, and an answer given before the handler
// claimed (a refusal, which rolls its claim back) is claimed for here and
// stored, as idempotent stores it.
func (s *Server) idempotentBid(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, hash, _, ok := s.keyedRequest(w, r)
		if !ok {
			if key == "" {
				next.ServeHTTP(w, r)
			}
			return
		}
		u, _ := userFrom(r.Context()) // mounted after requireRole
		c := &bidding.Claim{Claim: s.claim(r, u.ID, key, hash)}
		ctx := r.Context()
		held := &heldAnswer{header: http.Header{}, status: http.StatusOK}
		completed := false
		defer func() {
			if !completed && c.Claimed {
				s.releaseKey(ctx, c.Owner, key) // a panic (see idempotent)
			}
		}()
		next.ServeHTTP(held, r.WithContext(context.WithValue(context.WithValue(ctx, idemKeyCtx{}, key), bidClaimCtx{}, c)))
		completed = true
		switch {
		case c.Taken:
			s.replay(w, r, c.Owner, key, c.RequestHash)
			return
		case c.Stored:
			held.sendTo(w)
			return
		case !c.Claimed:
			claimed, err := s.replays.Claim(context.WithoutCancel(ctx), c.Claim)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if !claimed {
				s.replay(w, r, c.Owner, key, c.RequestHash)
				return
			}
		}
		s.settleKey(ctx, c.Owner, key, held.status, held.body.Bytes())
		held.sendTo(w)
	})
}

type bidClaimCtx struct{}

// bidClaim is the request's key for bidding.PlaceClaimed (idempotentBid), or
// nil without one.
func bidClaim(ctx context.Context) *bidding.Claim {
	c, _ := ctx.Value(bidClaimCtx{}).(*bidding.Claim)
	return c
}

// heldAnswer keeps an answer until idempotentBid knows it is the one to send.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) Header() http.Header         { return h.header }
func (h *heldAnswer) WriteHeader(code int)        { h.status = code }
func (h *heldAnswer) Write(b []byte) (int, error) { return h.body.Write(b) }

func (h *heldAnswer) sendTo(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}

// validKey: 1 to 200 printable ASCII characters (a UUID, say). Anything
// else is refused before it reaches the database, which cannot store a NUL
// or bytes that are not UTF-8.
func validKey(key string) bool {
	if len(key) > 200 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// final reports whether an answer is the request's last word, to be replayed:
// not a 5xx (something failed; the effect, if any, is found again) nor a 202
// (the work is still going: a bid the bank has not answered, an update still
// running), whose retry should say how it ended.
func final(status int) bool { return status < 500 && status != http.StatusAccepted }

// keyRegistration is the server key that scopes registration's keys.
const keyRegistration = "registration_idempotency"

type idemKeyCtx struct{}

// idempotencyKey is the caller's Idempotency-Key for this request, or "".
// Handlers of money POSTs give it to the effect they create.
func idempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idemKeyCtx{}).(string)
	return k
}

// claim is the request's claim of its key: the key is the owner's, and the
// request is its method, its path (escaped: a path may hold bytes that are
// not UTF-8) and hash; it carries this replica (docs/replicas.md).
func (s *Server) claim(r *http.Request, owner int64, key, hash string) idempotency.Claim {
	return idempotency.Claim{Owner: owner, Key: key, Method: r.Method, Path: r.URL.EscapedPath(), RequestHash: hash,
		Replica: s.replicaID(), StaleSeconds: int32(idempotency.StaleClaim / time.Second)}
}

// recorder keeps a copy of the answer for replay.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
