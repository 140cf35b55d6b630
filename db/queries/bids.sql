-- name: BidInsert :one
INSERT INTO bids (loan_id, investor_id, amount, status, auto, idempotency_key)
VALUES ($1, $2, $3, 'pending', $4, sqlc.narg(idempotency_key))
RETURNING *;

-- name: BidGetByKey :one
-- The bid an investor's Idempotency-Key created, if any (docs/idempotency.md).
SELECT * FROM bids WHERE investor_id = $1 AND idempotency_key = $2;

-- name: BidSetFailed :one
-- The bank refused the freeze: the bid fails with the bank's code, once.
UPDATE bids SET status = 'failed', failure_code = sqlc.arg(failure_code)
WHERE id = sqlc.arg(id) AND status = 'pending'
RETURNING *;

-- name: BidPageByInvestor :many
-- An investor's bids newest first, keyset-paged by id (GET /v1/me/bids).
SELECT * FROM bids
WHERE investor_id = sqlc.arg(investor_id) AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: BidGet :one
SELECT * FROM bids WHERE id = $1;

-- name: BidSetStatus :one
UPDATE bids SET status = sqlc.arg(to_status)
WHERE id = sqlc.arg(id) AND status = ANY(sqlc.arg(from_statuses)::text[])
RETURNING *;

-- name: BidListByLoan :many
SELECT * FROM bids WHERE loan_id = $1 ORDER BY id;

-- name: BidListByLoanStatus :many
SELECT * FROM bids WHERE loan_id = $1 AND status = $2 ORDER BY id;

-- name: BidCountByInvestor :one
-- Bids that count against the newbie rule: any bid the bank did not refuse.
SELECT count(*) FROM bids WHERE investor_id = $1 AND status <> 'failed';

-- name: BidListByInvestor :many
SELECT * FROM bids WHERE investor_id = $1 ORDER BY id DESC;

-- name: BidSetDisbursed :exec
UPDATE bids SET status = 'disbursed' WHERE loan_id = $1 AND status = 'frozen';

-- name: BidExistsForInvestor :one
SELECT EXISTS (SELECT 1 FROM bids WHERE loan_id = $1 AND investor_id = $2 AND status IN ('frozen', 'disbursed'));

-- name: BidListPendingBefore :many
-- Bids whose freeze the bank has not answered, oldest first.
SELECT b.*, u.custody_account_no FROM bids b JOIN users u ON u.id = b.investor_id
WHERE b.status = 'pending' AND b.created_at < $1
ORDER BY b.id LIMIT 100;

-- name: BidLockAndClaim :one
-- The bid path's first statement: UserLockForMoney's lock, then the API's
-- IdempotencyKeyClaim (same conditions), in the transaction that admits the
-- bid, so the key is stored with its effect (docs/idempotency.md). No row:
-- the key is taken (in flight, answered, or used with another request).
WITH locked AS (SELECT pg_advisory_xact_lock(7432, (sqlc.arg(user_id)::bigint)::int))
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
SELECT sqlc.arg(user_id)::bigint, sqlc.arg(key)::text, sqlc.arg(method)::text, sqlc.arg(path)::text, sqlc.arg(request_hash)::text FROM locked
ON CONFLICT (user_id, key) DO UPDATE SET created_at = now(), released_at = NULL
WHERE idempotency_keys.status_code IS NULL
  AND idempotency_keys.request_hash = EXCLUDED.request_hash
  AND (idempotency_keys.released_at IS NOT NULL
       OR idempotency_keys.created_at < now() - make_interval(secs => sqlc.arg(stale_seconds)::int))
RETURNING user_id;

-- name: BidEligibility :one
-- Everything a bid is judged on, in one snapshot taken after the investor's
-- lock (UserLockForMoney or BidLockAndClaim): the investor, the listing, the
-- business date (today, or the platform clock's), what the investor may spend (UserSpendable's two figures),
-- the bids that count against the newbie rule (newbie listings only) and the
-- bid the Idempotency-Key made already (0: none). No row: no such listing.
SELECT sqlc.embed(u), sqlc.embed(l),
  COALESCE(sqlc.narg(today)::date, (SELECT c.today FROM platform_clock c WHERE c.singleton))::date AS today,
  COALESCE((SELECT a.balance FROM ledger_accounts a WHERE a.code = 'user:' || u.id || ':available'), 0)::numeric(20,2) AS available,
  (COALESCE((SELECT sum(b.amount) FROM bids b WHERE b.investor_id = u.id AND b.status = 'pending'), 0)
   + COALESCE((SELECT sum(w.amount + w.fee) FROM withdrawals w
               WHERE w.user_id = u.id AND w.status = 'processing'
                 AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.request_no = 'withdrawal-' || w.id)), 0))::numeric(20,2) AS in_flight,
  CASE WHEN l.newbie THEN (SELECT count(*) FROM bids b WHERE b.investor_id = u.id AND b.status <> 'failed') ELSE 0 END::bigint AS bids_made,
  COALESCE((SELECT b.id FROM bids b WHERE b.investor_id = u.id AND b.idempotency_key = sqlc.narg(idempotency_key)::text), 0)::bigint AS key_bid_id
FROM users u, loans l
WHERE u.id = sqlc.arg(investor_id) AND l.id = sqlc.arg(loan_id);

-- name: BidAdmit :one
-- LoanAdmitBid and BidInsert in one statement: the guarded increment of
-- raised, the single authority on admission, and the pending bid only if it
-- admitted. No row: oversubscribed, expired or closed.
WITH admitted AS (
  UPDATE loans SET raised = loans.raised + sqlc.arg(amount)::numeric
  WHERE loans.id = sqlc.arg(loan_id)::bigint AND loans.status = 'listed' AND loans.listing_expires_on > sqlc.arg(today)::date
    AND loans.raised + sqlc.arg(amount)::numeric <= loans.amount
  RETURNING loans.id AS loan_id)
INSERT INTO bids (loan_id, investor_id, amount, status, auto, idempotency_key)
SELECT admitted.loan_id, sqlc.arg(investor_id)::bigint, sqlc.arg(amount)::numeric, 'pending', sqlc.arg(auto)::boolean, sqlc.narg(idempotency_key)::text FROM admitted
RETURNING *;

-- name: BidSetFrozen :one
-- The freeze booked: the bid pending → frozen, the listing as it is now, and,
-- while the listing is still open, the API's answer stored under the
-- request's Idempotency-Key in the same transaction (no key: nothing stored).
-- No row: the bid was not pending (the settlement sweep froze it meanwhile).
WITH b AS (
  UPDATE bids SET status = 'frozen' WHERE bids.id = sqlc.arg(id) AND bids.status = 'pending' RETURNING bids.loan_id
), k AS (
  UPDATE idempotency_keys SET status_code = sqlc.narg(status_code), response = sqlc.narg(response)
  WHERE user_id = sqlc.arg(key_owner) AND key = sqlc.narg(key)::text AND status_code IS NULL
    AND EXISTS (SELECT 1 FROM b JOIN loans l ON l.id = b.loan_id WHERE l.status IN ('listed', 'full'))
  RETURNING 1
)
SELECT l.id, l.workflow_id, l.status, l.amount, l.raised, EXISTS (SELECT 1 FROM k) AS answer_stored
FROM b JOIN loans l ON l.id = b.loan_id;
