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

-- name: BidSetDisbursed :exec
UPDATE bids SET status = 'disbursed' WHERE loan_id = $1 AND status = 'frozen';

-- name: BidExistsForInvestor :one
-- Whether the investor bid on the loan, or holds or held one of its claims
-- (bought by transfer): one of "its investors" who may read its schedule.
SELECT (EXISTS (SELECT 1 FROM bids b WHERE b.loan_id = sqlc.arg(loan_id) AND b.investor_id = sqlc.arg(investor_id)
                                     AND b.status IN ('frozen', 'disbursed'))
     OR EXISTS (SELECT 1 FROM holdings h WHERE h.loan_id = sqlc.arg(loan_id) AND h.holder_id = sqlc.arg(investor_id)))::boolean AS holds;

-- name: BidListPendingBefore :many
-- Bids whose freeze the bank has not answered, oldest first.
SELECT b.*, u.custody_account_no FROM bids b JOIN users u ON u.id = b.investor_id
WHERE b.status = 'pending' AND b.created_at < $1
ORDER BY b.id LIMIT 100;

-- name: BidSetFrozenMany :many
-- A booking group's freezes booked (bidding/book.go): each bid pending →
-- frozen, its listing as it is now, and, while the listing is still open, the
-- API's answer stored under the request's Idempotency-Key in the same
-- transaction (keys holds '' for a bid without one: nothing stored). One row a
-- bid frozen; a bid missing was not pending (the settlement sweep froze it
-- meanwhile).
WITH r AS (
  SELECT (sqlc.arg(ids)::bigint[])[i] AS id,
         (sqlc.arg(key_owners)::bigint[])[i] AS key_owner,
         (sqlc.arg(keys)::text[])[i] AS key,
         (sqlc.arg(status_codes)::int[])[i] AS status_code,
         (sqlc.arg(responses)::bytea[])[i] AS response
  FROM generate_subscripts(sqlc.arg(ids)::bigint[], 1) AS i
), b AS (
  UPDATE bids SET status = 'frozen' FROM r WHERE bids.id = r.id AND bids.status = 'pending'
  RETURNING bids.id, bids.loan_id
), k AS (
  UPDATE idempotency_keys SET status_code = r.status_code, response = r.response
  FROM r JOIN b ON b.id = r.id JOIN loans l ON l.id = b.loan_id
  WHERE idempotency_keys.user_id = r.key_owner AND idempotency_keys.key = r.key AND r.key <> ''
    AND idempotency_keys.status_code IS NULL AND l.status IN ('listed', 'full')
  RETURNING r.id
)
SELECT b.id AS bid_id, l.id, l.workflow_id, l.status, l.amount, l.raised,
       EXISTS (SELECT 1 FROM k WHERE k.id = b.id) AS answer_stored
FROM b JOIN loans l ON l.id = b.loan_id;

-- name: UserLockManyForMoney :exec
-- UserLockForMoney for several users, taken in the order given: callers
-- give the ids ascending, so two such transactions never wait on each other
-- in a cycle.
SELECT pg_advisory_xact_lock(7432, (sqlc.arg(user_ids)::int[])[i])
FROM generate_series(1, cardinality(sqlc.arg(user_ids)::int[])) AS i ORDER BY i;

-- name: BidClaimMany :many
-- IdempotencyKeyClaim for several requests of a batch of bids (one a user),
-- in the transaction that admits them. The user ids back are the claims won;
-- a request whose user is missing found its key taken.
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, replica_id)
SELECT (sqlc.arg(user_ids)::bigint[])[i], (sqlc.arg(keys)::text[])[i], (sqlc.arg(methods)::text[])[i],
       (sqlc.arg(paths)::text[])[i], (sqlc.arg(request_hashes)::text[])[i], sqlc.narg(replica_id)::bigint
FROM generate_series(1, cardinality(sqlc.arg(user_ids)::bigint[])) AS i
ON CONFLICT (user_id, key) DO UPDATE SET created_at = now(), released_at = NULL, replica_id = EXCLUDED.replica_id
WHERE idempotency_keys.status_code IS NULL
  AND idempotency_keys.request_hash = EXCLUDED.request_hash
  AND (idempotency_keys.released_at IS NOT NULL
       OR NOT replica_alive(idempotency_keys.replica_id)
       OR idempotency_keys.created_at < now() - make_interval(secs => sqlc.arg(stale_seconds)::int))
RETURNING user_id;

-- name: BidEligibilityMany :many
-- Everything a batch of bids on one listing is judged on (bidding/batch.go),
-- one row a bid (ord: its place in the arrays, from 1), in one snapshot taken
-- after the investors' locks (UserLockManyForMoney): the investor, the
-- listing, the business date (today, or the platform clock's), what the
-- investor may spend (UserSpendable's two figures), the bids that count
-- against the newbie rule (newbie listings only) and the bid the key made
-- already (0: none). keys holds '' for a bid without one. No rows: no such
-- listing.
SELECT r.ord, sqlc.embed(u), sqlc.embed(l),
  COALESCE(sqlc.narg(today)::date, (SELECT c.today FROM platform_clock c WHERE c.singleton))::date AS today,
  COALESCE((SELECT a.balance FROM ledger_accounts a WHERE a.code = 'user:' || u.id || ':available'), 0)::numeric(20,2) AS available,
  (COALESCE((SELECT sum(b.amount) FROM bids b WHERE b.investor_id = u.id AND b.status = 'pending'), 0)
   + COALESCE((SELECT sum(w.amount + w.fee) FROM withdrawals w
               WHERE w.user_id = u.id AND w.status = 'processing'
                 AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.request_no = 'withdrawal-' || w.id)), 0))::numeric(20,2) AS in_flight,
  CASE WHEN l.newbie THEN (SELECT count(*) FROM bids b WHERE b.investor_id = u.id AND b.status <> 'failed') ELSE 0 END::bigint AS bids_made,
  COALESCE((SELECT b.id FROM bids b WHERE b.investor_id = u.id AND b.idempotency_key = NULLIF(r.key, '')), 0)::bigint AS key_bid_id
FROM (SELECT i::bigint AS ord, (sqlc.arg(investor_ids)::bigint[])[i] AS investor_id, (sqlc.arg(keys)::text[])[i] AS key
      FROM generate_series(1, cardinality(sqlc.arg(investor_ids)::bigint[])) AS i) r
JOIN users u ON u.id = r.investor_id
JOIN loans l ON l.id = sqlc.arg(loan_id)::bigint
ORDER BY r.ord;

-- name: BidAdmitMany :many
-- The single authority on bid admission: one guarded increment of the
-- listing's raised amount by a batch's total, then its pending bids, or none
-- when the increment updated no row (it would oversubscribe, or the listing
-- expired or closed), however many batches race. keys holds '' for a bid
-- without one.
WITH admitted AS (
  UPDATE loans SET raised = loans.raised + sqlc.arg(total)::numeric
  WHERE loans.id = sqlc.arg(loan_id)::bigint AND loans.status = 'listed' AND loans.listing_expires_on > sqlc.arg(today)::date
    AND loans.raised + sqlc.arg(total)::numeric <= loans.amount
  RETURNING loans.id AS loan_id)
INSERT INTO bids (loan_id, investor_id, amount, status, auto, idempotency_key)
SELECT admitted.loan_id, r.investor_id, r.amount::numeric, 'pending', r.auto, NULLIF(r.key, '')
FROM admitted, (SELECT (sqlc.arg(investor_ids)::bigint[])[i] AS investor_id, (sqlc.arg(amounts)::text[])[i] AS amount,
                        (sqlc.arg(autos)::boolean[])[i] AS auto, (sqlc.arg(keys)::text[])[i] AS key
                 FROM generate_series(1, cardinality(sqlc.arg(investor_ids)::bigint[])) AS i) r
RETURNING *;

-- name: LoanListFilledStillListed :many
-- Listings raised in full, every bid answered by the bank, whose loan is
-- still listed although its last bid came before settled_before: the
-- listing-full signal the filling bid's request sent was lost (its API
-- replica died before sending it, or Temporal did not take it), and the loan
-- must hear it again (bidding.ResendListingFull).
SELECT l.id, l.workflow_id FROM loans l
WHERE l.status = 'listed' AND l.raised = l.amount
  AND NOT EXISTS (SELECT 1 FROM bids b WHERE b.loan_id = l.id
                  AND (b.status = 'pending' OR b.created_at >= sqlc.arg(settled_before)))
ORDER BY l.id
LIMIT 100;
