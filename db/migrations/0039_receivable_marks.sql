-- The fund log's pending receivable (0033) cost every journal entry a
-- snapshot at commit, bids' freezes among them: the hot listing fell from
-- 1,138 to 764 bids/s (BENCHMARKS.md "Hot listing"). Entries that move no
-- claim (a freeze, its release, a recharge, a withdrawal and its reversal)
-- now take none: their lines show the latest snapshot before them
-- (ledger.sql PostingListByUser). A freeze's and a release's postings carry
-- their kind (ledger.Freeze, ledger.Unfreeze), so the trigger is not even
-- queued for them; the others are told apart by their entry's type. A write-off changes what holders are owed
-- without an entry, so it leaves a mark of its own, as its transaction
-- commits: from the newest entry on, the holder's pending receivable is this.

ALTER TABLE receivable_snapshots ADD COLUMN mark BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE receivable_snapshots DROP CONSTRAINT receivable_snapshots_pkey;
ALTER TABLE receivable_snapshots ADD PRIMARY KEY (user_id, entry_id, mark);

CREATE OR REPLACE FUNCTION receivable_snapshot() RETURNS trigger AS $$
DECLARE
    uid BIGINT;
BEGIN
    IF (SELECT type FROM journal_entries WHERE id = NEW.entry_id)
        IN ('freeze', 'unfreeze', 'recharge', 'withdrawal', 'withdrawal_reversal') THEN
        RETURN NULL;
    END IF;
    SELECT user_id INTO uid FROM ledger_accounts WHERE id = NEW.account_id;
    IF uid IS NOT NULL THEN
        INSERT INTO receivable_snapshots (entry_id, user_id, pending)
        VALUES (NEW.entry_id, uid, pending_receivable(uid))
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER postings_receivable_snapshot ON postings;
CREATE CONSTRAINT TRIGGER postings_receivable_snapshot AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind NOT IN ('freeze', 'unfreeze'))
    EXECUTE FUNCTION receivable_snapshot();

CREATE FUNCTION receivable_mark_written_off() RETURNS trigger AS $$
BEGIN
    INSERT INTO receivable_snapshots (entry_id, user_id, mark, pending)
    SELECT (SELECT max(id) FROM journal_entries), h.uid, true, pending_receivable(h.uid)
    FROM (SELECT investor_id AS uid FROM installment_shares WHERE loan_id = NEW.id
          UNION SELECT user_id FROM compensator_claims WHERE loan_id = NEW.id AND user_id IS NOT NULL
          UNION SELECT user_id FROM coupon_payments WHERE loan_id = NEW.id) h
    ON CONFLICT (user_id, entry_id, mark) DO UPDATE SET pending = EXCLUDED.pending;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER loans_written_off_receivable AFTER UPDATE OF status ON loans
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'written_off' AND OLD.status IS DISTINCT FROM 'written_off')
    EXECUTE FUNCTION receivable_mark_written_off();
