-- name: LedgerAccountLock :many
-- Opens the accounts not yet seen and locks all of them, in code order: every
-- Post takes its accounts in one global order, so concurrent posts can wait
-- on each other but never deadlock, whether the accounts are new or not. The
-- no-op DO UPDATE is what takes the row lock (as FOR UPDATE would) and returns
-- the balance as of that lock, in the same round trip as the insert.
INSERT INTO ledger_accounts (code, user_id, may_go_negative)
SELECT x.code,
       CASE WHEN x.code LIKE 'user:%' THEN split_part(x.code, ':', 2)::bigint END,
       x.code = 'external:cards'
FROM unnest(sqlc.arg(codes)::text[]) AS x (code)
ORDER BY x.code
ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code
RETURNING id, code, balance, may_go_negative;

-- name: LedgerAccountListByUser :many
SELECT id, code, balance FROM ledger_accounts WHERE user_id = $1 ORDER BY code;

-- name: JournalEntryGetByKey :one
SELECT * FROM journal_entries WHERE request_no = $1 AND leg = $2;

-- name: JournalEntryInsert :many
-- Inserts the entry and its postings in one statement. No rows back means the
-- key was recorded already (by another transaction, which this one waited
-- for): nothing was written. balance_after is computed by the postings_apply
-- trigger; the 0 sent is overwritten. Inserting by subscript keeps the entry's
-- posting order, which is the order balances move in. The rows are
-- JournalEntryInsertMany's, for one entry: Post's usual case, which this
-- plainer statement does faster.
WITH e AS (
    INSERT INTO journal_entries (request_no, leg, type, ref, business_date)
    VALUES (sqlc.arg(request_no), sqlc.arg(leg), sqlc.arg(type), sqlc.arg(ref), sqlc.arg(business_date))
    ON CONFLICT (request_no, leg) DO NOTHING
    RETURNING id
), ev AS (
    -- The entry's event (docs/events.md), written only with the entry.
    INSERT INTO events (type, business_date, loan_id, user_id, data)
    SELECT sqlc.arg(event_type), sqlc.arg(business_date), sqlc.narg(event_loan_id), sqlc.narg(event_user_id), sqlc.arg(event_data)
    FROM e
)
INSERT INTO postings (entry_id, account_id, amount, balance_after, counterpart, kind)
SELECT e.id,
       (sqlc.arg(account_ids)::bigint[])[i],
       (sqlc.arg(amounts)::numeric[])[i],
       0,
       (sqlc.arg(counterparts)::text[])[i],
       (sqlc.arg(kinds)::text[])[i]
FROM e, generate_subscripts(sqlc.arg(account_ids)::bigint[], 1) AS i
ORDER BY i
RETURNING 1::int AS ord, id, entry_id, account_id, balance_after;

-- name: JournalEntryInsertMany :many
-- Inserts entries and their postings in one statement. An entry whose key was
-- recorded already (by another transaction, which this one waited for) is
-- skipped with its postings: its ord (place in the entry arrays, from 1) is
-- missing from the rows back. posting_entries holds each posting's entry by
-- ord; the caller gives the postings in entry order, then each entry's posting
-- order. The entries take their ids in ord order and the postings theirs in
-- array order, so balances move in that order, the order (entry_id, id) the
-- fund log and LedgerCheckRunningBalances read them in. balance_after is
-- computed by the postings_apply trigger; the 0 sent is overwritten.
WITH x AS (
    SELECT i AS ord,
           (sqlc.arg(request_nos)::text[])[i] AS request_no,
           (sqlc.arg(legs)::int[])[i] AS leg,
           (sqlc.arg(types)::text[])[i] AS type,
           (sqlc.arg(refs)::text[])[i] AS ref,
           (sqlc.arg(business_dates)::date[])[i] AS business_date
    FROM generate_subscripts(sqlc.arg(request_nos)::text[], 1) AS i
), e AS (
    INSERT INTO journal_entries (request_no, leg, type, ref, business_date)
    SELECT x.request_no, x.leg, x.type, x.ref, x.business_date FROM x ORDER BY x.ord
    ON CONFLICT (request_no, leg) DO NOTHING
    RETURNING id, request_no, leg
), p AS (
    INSERT INTO postings (entry_id, account_id, amount, balance_after, counterpart, kind)
    SELECT e.id,
           (sqlc.arg(account_ids)::bigint[])[j],
           (sqlc.arg(amounts)::numeric[])[j],
           0,
           (sqlc.arg(counterparts)::text[])[j],
           (sqlc.arg(kinds)::text[])[j]
    FROM generate_subscripts(sqlc.arg(account_ids)::bigint[], 1) AS j
    JOIN x ON x.ord = (sqlc.arg(posting_entries)::int[])[j]
    JOIN e ON e.request_no = x.request_no AND e.leg = x.leg
    ORDER BY j
    RETURNING id, entry_id, account_id, balance_after
), ev AS (
    -- Each written entry's event (docs/events.md), in entry order;
    -- event_data is a JSON array of the entries' data, by ord.
    INSERT INTO events (type, business_date, loan_id, user_id, data)
    SELECT (sqlc.arg(event_types)::text[])[x.ord], x.business_date,
           NULLIF((sqlc.arg(event_loan_ids)::bigint[])[x.ord], 0),
           NULLIF((sqlc.arg(event_user_ids)::bigint[])[x.ord], 0),
           sqlc.arg(event_data)::jsonb -> (x.ord - 1)
    FROM x JOIN e ON e.request_no = x.request_no AND e.leg = x.leg
    ORDER BY x.ord
)
SELECT x.ord::int AS ord, p.id, p.entry_id, p.account_id, p.balance_after
FROM p JOIN e ON e.id = p.entry_id JOIN x ON x.request_no = e.request_no AND x.leg = e.leg;

-- name: PostingListByEntry :many
SELECT a.code, p.amount, p.counterpart
FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
WHERE p.entry_id = $1
ORDER BY p.id;

-- name: PostingEntryPageByAccounts :many
-- The newest entries touching either account, older than before_entry. Each arm
-- walks postings_account backwards and stops early.
SELECT u.entry_id::bigint AS entry_id FROM (
    (SELECT DISTINCT p.entry_id FROM postings p
     WHERE p.account_id = sqlc.arg(available_id)::bigint AND p.entry_id < sqlc.arg(before_entry)::bigint
     ORDER BY p.entry_id DESC LIMIT sqlc.arg(lim)::int)
    UNION
    (SELECT DISTINCT p.entry_id FROM postings p
     WHERE p.account_id = sqlc.arg(frozen_id)::bigint AND p.entry_id < sqlc.arg(before_entry)::bigint
     ORDER BY p.entry_id DESC LIMIT sqlc.arg(lim)::int)
) u
ORDER BY u.entry_id DESC
LIMIT sqlc.arg(lim)::int;

-- name: PostingListByUser :many
-- The user's postings in the given entries, with their entry and the user's
-- pending receivable after it, oldest first: the entry's own snapshot, or for
-- an entry that moved no claim (a freeze, a recharge: they take none) the
-- latest snapshot or write-off mark before it (migration 0039).
SELECT p.id, p.entry_id, p.account_id, p.amount, p.balance_after, p.counterpart, p.kind,
       e.at, e.type, e.ref, e.business_date,
       COALESCE(rs.pending, 0)::numeric AS pending_receivable
FROM postings p JOIN journal_entries e ON e.id = p.entry_id
LEFT JOIN LATERAL (
    SELECT r.pending FROM receivable_snapshots r
    WHERE r.user_id = sqlc.arg(user_id)::bigint
      AND (r.entry_id < p.entry_id OR (r.entry_id = p.entry_id AND NOT r.mark))
    ORDER BY r.entry_id DESC, r.mark DESC
    LIMIT 1) rs ON true
WHERE p.entry_id = ANY(sqlc.arg(entry_ids)::bigint[])
  AND p.account_id = ANY(sqlc.arg(account_ids)::bigint[])
ORDER BY p.entry_id, p.id;

-- name: PostingBalanceBefore :one
-- An account's balance just before entry before_entry: what the fund log shows
-- as "after" for an entry that did not touch the account.
SELECT COALESCE((
    SELECT p.balance_after FROM postings p
    WHERE p.account_id = sqlc.arg(account_id)::bigint AND p.entry_id < sqlc.arg(before_entry)::bigint
    ORDER BY p.entry_id DESC, p.id DESC
    LIMIT 1), 0)::numeric AS balance;

-- name: InstallmentSharePendingByInvestor :one
-- What the investor's claims are still owed, written-off loans excluded (their
-- receivables are closed as loss, docs/rules.md "write-off").
SELECT COALESCE(SUM(GREATEST(s.principal - s.received_principal, 0)), 0)::numeric AS pending_principal,
       COALESCE(SUM(GREATEST(s.interest - s.received_interest, 0)), 0)::numeric AS pending_interest
FROM installment_shares s
JOIN loans l ON l.id = s.loan_id
JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
WHERE s.investor_id = $1
  AND l.status <> 'written_off'
  AND i.status <> 'written_off';

-- name: CompensatorClaimPendingByUser :one
-- What the borrowers still owe a guarantor of the claims it took over by
-- compensating (docs/rules.md "Claim holders"), written-off loans excluded.
SELECT COALESCE(SUM(GREATEST(c.principal - c.received_principal, 0)), 0)::numeric AS pending_principal,
       COALESCE(SUM(GREATEST(c.interest - c.received_interest, 0)), 0)::numeric AS pending_interest
FROM compensator_claims c
JOIN loans l ON l.id = c.loan_id
JOIN installments i ON i.loan_id = c.loan_id AND i.no = c.no
WHERE c.holder = 'guarantor' AND c.user_id = $1
  AND l.status <> 'written_off'
  AND i.status <> 'written_off';

-- name: CouponBonusPendingByUser :one
-- The bonus the user's coupons still owe them: planned, due or failed (a
-- retry is to come), docs/coupons.md.
SELECT COALESCE(SUM(amount), 0)::numeric AS pending_bonus FROM coupon_payments
WHERE user_id = $1 AND status IN ('planned', 'due', 'failed');

-- name: LedgerCheckAccounts :many
-- Accounts whose stored balance disagrees with their postings, or that hold a
-- balance they may not.
SELECT a.code, a.balance, a.may_go_negative,
       COALESCE(s.total, 0)::numeric AS postings_total,
       COALESCE(l.balance_after, 0)::numeric AS last_balance_after
FROM ledger_accounts a
LEFT JOIN LATERAL (SELECT SUM(p.amount) AS total FROM postings p WHERE p.account_id = a.id) s ON true
LEFT JOIN LATERAL (
    SELECT p.balance_after FROM postings p WHERE p.account_id = a.id
    ORDER BY p.entry_id DESC, p.id DESC LIMIT 1) l ON true
WHERE a.balance <> COALESCE(s.total, 0)
   OR a.balance <> COALESCE(l.balance_after, 0)
   OR (a.balance < 0 AND a.code <> 'external:cards')
   OR (a.may_go_negative AND a.code <> 'external:cards')
ORDER BY a.code;

-- name: LedgerCheckRunningBalances :many
-- Postings whose balance_after is not the running sum of the account's
-- postings up to it, or is negative on an account that may not go negative.
SELECT r.code, r.entry_id, r.posting_id, r.balance_after, r.running::numeric AS running
FROM (
    SELECT a.code, a.may_go_negative, p.entry_id, p.id AS posting_id, p.balance_after,
           SUM(p.amount) OVER (PARTITION BY p.account_id ORDER BY p.entry_id, p.id) AS running
    FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
) r
WHERE r.balance_after <> r.running OR (r.balance_after < 0 AND NOT r.may_go_negative)
ORDER BY r.code, r.entry_id, r.posting_id
LIMIT 100;

-- name: LedgerCheckEntries :many
-- Entries that do not sum to zero or have fewer than two postings.
SELECT e.id, e.request_no, e.leg, COALESCE(SUM(p.amount), 0)::numeric AS total, COUNT(p.id) AS postings
FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
GROUP BY e.id
HAVING COALESCE(SUM(p.amount), 0) <> 0 OR COUNT(p.id) < 2
ORDER BY e.id
LIMIT 100;

-- name: LedgerTotals :one
-- custody: everything held inside the custody bank (every account but the
-- outside world). The external:cards flows are split by entry type so that the
-- identity custody = recharged + topped_up - withdrawn + reversed can be
-- checked (topped_up: the platform's own card filling the bonus account).
SELECT
    COALESCE((SELECT SUM(balance) FROM ledger_accounts WHERE code <> 'external:cards'), 0)::numeric AS custody,
    COALESCE((SELECT balance FROM ledger_accounts WHERE code = 'external:cards'), 0)::numeric AS external,
    COALESCE(SUM(-p.amount) FILTER (WHERE e.type = 'recharge'), 0)::numeric AS recharged,
    COALESCE(SUM(p.amount) FILTER (WHERE e.type = 'withdrawal'), 0)::numeric AS withdrawn,
    COALESCE(SUM(-p.amount) FILTER (WHERE e.type = 'withdrawal_reversal'), 0)::numeric AS reversed,
    COALESCE(SUM(-p.amount) FILTER (WHERE e.type = 'bonus_top_up'), 0)::numeric AS topped_up,
    COUNT(*) FILTER (WHERE e.type NOT IN ('recharge', 'withdrawal', 'withdrawal_reversal', 'bonus_top_up')) AS other_external
FROM postings p
JOIN journal_entries e ON e.id = p.entry_id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE a.code = 'external:cards';

-- name: LedgerCheckFrozen :many
-- Users whose frozen balance is not the sum of their bids in status frozen.
-- pending bids are not counted: the ledger mirrors a freeze only once the bank
-- has confirmed it, in the same transaction that marks the bid frozen.
SELECT COALESCE(f.user_id, b.investor_id)::bigint AS user_id,
       COALESCE(f.balance, 0)::numeric AS frozen_balance,
       COALESCE(b.total, 0)::numeric AS frozen_bids
FROM (SELECT user_id, balance FROM ledger_accounts WHERE code LIKE 'user:%:frozen') f
FULL JOIN (SELECT investor_id, SUM(amount) AS total FROM bids WHERE status = 'frozen' GROUP BY investor_id) b
    ON b.investor_id = f.user_id
WHERE COALESCE(f.balance, 0) <> COALESCE(b.total, 0)
ORDER BY 1;
