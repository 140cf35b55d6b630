-- Who holds each claim (docs/transfer.md "Holdings"): a holding per holder
-- of a bid's claim, the bidder's from the disbursement, each buyer's from
-- its purchase.

-- name: HoldingsOpen :exec
-- The bidders' holdings of a loan's claims, opened at its disbursement (its
-- bids frozen then, or disbursed when the step is retried after its commit).
INSERT INTO holdings (loan_id, bid_id, holder_id, source, principal, cost, held_from, status)
SELECT b.loan_id, b.id, b.investor_id, 'bid', b.amount, b.amount, sqlc.arg(held_from), 'held'
FROM bids b
WHERE b.loan_id = sqlc.arg(loan_id) AND b.status IN ('frozen', 'disbursed')
ON CONFLICT (bid_id) WHERE source = 'bid' DO NOTHING;

-- name: ShareHoldingsSet :exec
-- Each new share of the loan under its claim's current holding.
UPDATE installment_shares s SET holding_id = h.id
FROM holdings h
WHERE s.loan_id = $1 AND s.holding_id IS NULL AND h.bid_id = s.bid_id AND h.status = 'held';

-- name: HoldingGet :one
SELECT * FROM holdings WHERE id = $1;

-- name: HoldingGetForUpdate :one
SELECT * FROM holdings WHERE id = $1 FOR UPDATE;

-- name: HoldingEnd :exec
-- The seller's holding ends with the sale.
UPDATE holdings SET status = 'transferred', held_to = sqlc.arg(held_to)
WHERE id = sqlc.arg(id) AND status = 'held';

-- name: HoldingInsert :one
-- The buyer's holding, from the purchase.
INSERT INTO holdings (loan_id, bid_id, holder_id, source, principal, cost, held_from, status)
VALUES ($1, $2, $3, 'transfer', $4, $5, $6, 'held')
RETURNING *;

-- name: SharesHandOver :exec
-- A sale hands the claim's open installments to the buyer: every later
-- payment of them (the current installment's whole, penalty, compensation,
-- a write-off's loss and so a recovery) goes to whoever holds them.
UPDATE installment_shares s SET investor_id = sqlc.arg(buyer_id), holding_id = sqlc.arg(holding_id)
FROM installments i
WHERE s.loan_id = sqlc.arg(loan_id) AND s.bid_id = sqlc.arg(bid_id)
  AND i.loan_id = s.loan_id AND i.no = s.no AND i.status IN ('pending', 'overdue');

-- name: HoldingsByHolder :many
-- An investor's claims (GET /v1/me/holdings): every holding, held or
-- transferred, with what its shares received while it held them and what is
-- still to come. Newest claim first.
SELECT h.id AS holding_id, h.loan_id, h.bid_id, h.source, h.principal, h.status AS holding_status,
       l.status AS loan_status, h.held_from, h.held_to,
       COALESCE(sum(s.received_principal), 0)::numeric(20,2) AS received_principal,
       COALESCE(sum(s.received_interest), 0)::numeric(20,2) AS received_interest,
       COALESCE(sum(s.principal - s.received_principal) FILTER (WHERE h.status = 'held' AND i.status <> 'written_off'), 0)::numeric(20,2) AS pending_principal,
       COALESCE(sum(s.interest - s.received_interest) FILTER (WHERE h.status = 'held' AND i.status <> 'written_off'), 0)::numeric(20,2) AS pending_interest
FROM holdings h
JOIN loans l ON l.id = h.loan_id
LEFT JOIN installment_shares s ON s.holding_id = h.id
LEFT JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
WHERE h.holder_id = $1
GROUP BY h.id, l.status
ORDER BY h.bid_id DESC, h.id DESC;

-- name: BidsUndisbursedByInvestor :many
-- An investor's bids not yet disbursed: claims to be, with no holding yet.
SELECT * FROM bids WHERE investor_id = $1 AND status IN ('frozen', 'pending') ORDER BY id DESC;

-- name: HoldingsByLoan :many
-- Every holding of a loan's claims, for the console: who held which claim when.
SELECT h.*, u.name AS holder_name,
       COALESCE((SELECT sum(s.principal - s.received_principal) FROM installment_shares s
                 JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
                 WHERE s.holding_id = h.id AND i.status IN ('pending', 'overdue')), 0)::numeric(20,2) AS outstanding
FROM holdings h JOIN users u ON u.id = h.holder_id
WHERE h.loan_id = $1
ORDER BY h.bid_id, h.id;

-- name: TransferClaimShares :many
-- The shares of the claims of bid_ids, every installment in order: what a
-- claim's value is made of (transfer.ClaimOf).
SELECT s.bid_id, s.no, i.due_date, i.status, s.principal, s.interest,
       s.received_principal, s.received_interest, s.received_penalty, i.compensated
FROM installment_shares s
JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
WHERE s.bid_id = ANY(sqlc.arg(bid_ids)::bigint[])
ORDER BY s.bid_id, s.no;
