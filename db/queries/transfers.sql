-- Transfer listings and their purchases (docs/transfer.md).

-- name: TransferInsert :exec
-- A listing, made by the loan workflow's step offer_seq: the step retried
-- finds its row.
INSERT INTO transfers (loan_id, bid_id, holding_id, seller_id, discount_rate, status, listed_on, expires_on, offer_seq)
VALUES ($1, $2, $3, $4, $5, 'listed', $6, $7, $8)
ON CONFLICT (loan_id, offer_seq) DO NOTHING;

-- name: TransferGetBySeq :one
SELECT * FROM transfers WHERE loan_id = $1 AND offer_seq = $2;

-- name: TransferGet :one
SELECT * FROM transfers WHERE id = $1;

-- name: TransferGetForUpdate :one
SELECT * FROM transfers WHERE id = $1 FOR UPDATE;

-- name: TransferOpenForHolding :one
-- Whether the holding is listed now (listed, or being bought).
SELECT EXISTS (SELECT 1 FROM transfers WHERE holding_id = $1 AND status IN ('listed', 'buying'))::boolean AS listed;

-- name: TransferPageListed :many
-- Open listings, newest first, keyset-paginated by id.
SELECT * FROM transfers
WHERE status = 'listed' AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: TransferPageByUser :many
-- A user's transfers, as seller or as buyer, newest first.
SELECT * FROM transfers
WHERE (seller_id = sqlc.arg(user_id) OR buyer_id = sqlc.arg(user_id))
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: TransferFacts :many
-- What listings' prices and items are made of, beside their rows: the loan's
-- terms and disbursement, and when the seller took the claim.
SELECT t.id, l.grade, l.annual_rate, l.status AS loan_status, l.disbursed_on, l.borrower_id, l.guarantor_id,
       h.held_from
FROM transfers t JOIN loans l ON l.id = t.loan_id JOIN holdings h ON h.id = t.holding_id
WHERE t.id = ANY(sqlc.arg(ids)::bigint[]);

-- name: TransferListByLoan :many
SELECT * FROM transfers WHERE loan_id = $1 ORDER BY id;

-- name: TransferWin :one
-- A buyer takes the listing: the one guarded update that admits exactly one
-- buyer, whatever the race; the others find it no longer listed.
UPDATE transfers SET status = 'buying', attempt = attempt + 1
WHERE id = $1 AND status = 'listed'
RETURNING *;

-- name: TransferPurchaseInsert :exec
INSERT INTO transfer_purchases (transfer_id, attempt, buyer_id, key_hash, price, quoted_on, status)
VALUES ($1, $2, $3, $4, $5, $6, 'buying');

-- name: TransferPurchaseByKey :one
SELECT * FROM transfer_purchases WHERE buyer_id = $1 AND key_hash = $2;

-- name: TransferPurchaseGet :one
SELECT * FROM transfer_purchases WHERE transfer_id = $1 AND attempt = $2;

-- name: TransferRelist :exec
-- A purchase refused moved nothing: the listing is open again, unless it
-- lapsed (or sold) meanwhile.
UPDATE transfers SET status = 'listed' WHERE id = $1 AND status = 'buying' AND attempt = $2;

-- name: TransferPurchaseFinish :exec
UPDATE transfer_purchases SET status = sqlc.arg(status), code = sqlc.narg(code)
WHERE transfer_id = sqlc.arg(transfer_id) AND attempt = sqlc.arg(attempt) AND status = 'buying';

-- name: TransferSell :exec
UPDATE transfers
SET status = 'sold', buyer_id = sqlc.arg(buyer_id), buyer_holding_id = sqlc.arg(buyer_holding_id),
    principal = sqlc.arg(principal), accrued_interest = sqlc.arg(accrued_interest), price = sqlc.arg(price),
    fee = sqlc.arg(fee), closed_on = sqlc.arg(closed_on), closed_at = now()
WHERE id = sqlc.arg(id) AND status = 'buying' AND attempt = sqlc.arg(attempt);

-- name: TransferLapseOpen :many
-- Every open listing of the loan lapses: unsold, nothing moved.
UPDATE transfers SET status = 'lapsed', closed_on = sqlc.arg(closed_on), closed_at = now(), note = sqlc.arg(note)
WHERE loan_id = sqlc.arg(loan_id) AND status IN ('listed', 'buying')
RETURNING *;

-- name: TransferPurchasesLapsed :exec
-- A purchase still being made of a listing that lapsed is refused.
UPDATE transfer_purchases p SET status = 'refused', code = 'transfer_not_open'
FROM transfers t
WHERE t.id = p.transfer_id AND t.loan_id = $1 AND t.status = 'lapsed' AND p.status = 'buying';

-- name: TransferCancel :one
UPDATE transfers SET status = 'cancelled', closed_on = sqlc.arg(closed_on), closed_at = now(), note = 'cancelled by the seller'
WHERE id = sqlc.arg(id) AND status = 'listed'
RETURNING *;

-- name: TransferPurchasesStale :many
-- Purchases still being made after older_than: their request's process may
-- have died before it heard the answer (the sweep asks the loan again).
SELECT p.*, t.loan_id FROM transfer_purchases p JOIN transfers t ON t.id = p.transfer_id
WHERE p.status = 'buying' AND p.created_at < now() - make_interval(secs => sqlc.arg(older_than_seconds)::float8)
ORDER BY p.created_at
LIMIT 100;
