-- Exactly once (docs/idempotency.md). Every effect a money POST creates
-- carries the caller's Idempotency-Key in its own row, written in the
-- transaction that creates it: a retry under the same key finds the effect
-- and answers it, whatever happened to the first answer. The replay store
-- (idempotency_keys) only replays answers; it no longer prevents effects.

ALTER TABLE bids ADD COLUMN idempotency_key TEXT;
-- The bank's refusal of the freeze, kept so a retry answers the same refusal.
ALTER TABLE bids ADD COLUMN failure_code TEXT;
CREATE UNIQUE INDEX bids_idempotency_key ON bids (investor_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- GET /v1/me/bids pages an investor's bids newest first.
DROP INDEX bids_investor;
CREATE INDEX bids_investor ON bids (investor_id, id);
-- What a user has in flight (bids the bank has not answered) is summed under
-- the user's lock before every bid and withdrawal.
CREATE INDEX bids_pending ON bids (investor_id) WHERE status = 'pending';

ALTER TABLE recharges ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX recharges_idempotency_key ON recharges (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

ALTER TABLE withdrawals ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX withdrawals_idempotency_key ON withdrawals (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX withdrawals_processing ON withdrawals (user_id) WHERE status = 'processing';

ALTER TABLE loans ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX loans_idempotency_key ON loans (borrower_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- A request answered 5xx or 202 (not final) or that panicked is released for
-- a retry of the same request only: the row keeps its hash, so another body
-- under the key is still idempotency_key_reused.
ALTER TABLE idempotency_keys ADD COLUMN released_at TIMESTAMPTZ;

-- Every day's close also audits the whole ledger (ledger.CheckConservation)
-- and keeps the outcome with the run: unchecked (a run ops asked for), ok, or
-- violated with the violations.
ALTER TABLE reconciliation_runs ADD COLUMN conservation TEXT NOT NULL DEFAULT 'unchecked'
    CHECK (conservation IN ('unchecked', 'ok', 'violated'));
ALTER TABLE reconciliation_runs ADD COLUMN conservation_violations JSONB NOT NULL DEFAULT '[]';
CREATE INDEX reconciliation_runs_close ON reconciliation_runs (business_date DESC, id DESC) WHERE origin = 'close';
