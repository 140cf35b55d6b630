-- Double-entry ledger mirroring the custody bank (docs/rules.md "The platform's own books").
--
-- The invariants live here, not only in Go, so that no code path (a bug, a
-- hand-written fix, a future service) can break them:
--   * the postings of one journal entry sum to zero, and an entry has postings
--     (deferred constraint triggers, checked at commit);
--   * an account's balance is the running sum of its postings and each posting's
--     balance_after is that running sum: the postings trigger is the only writer
--     of ledger_accounts.balance;
--   * no balance is ever negative, after any single posting, except external:cards;
--   * postings and journal entries are history: never updated or deleted.

CREATE TABLE ledger_accounts (
    id BIGSERIAL PRIMARY KEY,
    -- code names the account: user:<id>:available, user:<id>:frozen,
    -- platform:fee, platform:bonus, platform:risk_reserve, platform:summary,
    -- external:cards (money outside the custody system).
    code TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES users (id),
    balance NUMERIC(20,2) NOT NULL DEFAULT 0,
    -- only external:cards may go negative: it is the world's side of recharges.
    may_go_negative BOOLEAN NOT NULL DEFAULT false,
    CHECK (may_go_negative OR balance >= 0),
    CHECK (NOT may_go_negative OR code = 'external:cards'),
    CHECK ((code LIKE 'user:%') = (user_id IS NOT NULL))
);

CREATE TABLE journal_entries (
    id BIGSERIAL PRIMARY KEY,
    -- the bank request number (流水号) this entry mirrors, plus a leg index for
    -- requests that map to several entries: recording a movement twice is impossible.
    request_no TEXT NOT NULL CHECK (request_no <> ''),
    leg INT NOT NULL DEFAULT 0,
    type TEXT NOT NULL CHECK (type <> ''),
    ref TEXT NOT NULL DEFAULT '',
    business_date DATE NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (request_no, leg)
);

CREATE TABLE postings (
    id BIGSERIAL PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount <> 0),
    -- set by postings_apply, whatever the inserter sends.
    balance_after NUMERIC(20,2) NOT NULL,
    counterpart TEXT NOT NULL DEFAULT ''
);
-- (account_id, entry_id, id) is an account's history in order: the fund log
-- pages by entry and reads "the balance as of entry E" from it.
CREATE INDEX postings_account ON postings (account_id, entry_id, id);
CREATE INDEX postings_entry ON postings (entry_id);

-- postings_apply moves the account's balance by the posting and records the
-- result. The UPDATE re-checks ledger_accounts' CHECK after every posting, so a
-- balance cannot dip below zero even in the middle of an entry.
CREATE FUNCTION postings_apply() RETURNS trigger AS $$
BEGIN
    UPDATE ledger_accounts SET balance = balance + NEW.amount
    WHERE id = NEW.account_id
    RETURNING balance INTO NEW.balance_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger account % does not exist', NEW.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER postings_apply BEFORE INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION postings_apply();

-- A balance changes only through a posting (pg_trigger_depth() is 2 inside
-- postings_apply's UPDATE) and an account is born empty.
CREATE FUNCTION ledger_accounts_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.balance <> 0 THEN
        RAISE EXCEPTION 'ledger account % must open with a zero balance', NEW.code
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.balance <> OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger account % balance changes only through postings', OLD.code
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.code <> OLD.code OR NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        RAISE EXCEPTION 'ledger account % cannot be renamed', OLD.code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_accounts_guard BEFORE INSERT OR UPDATE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_guard();

CREATE FUNCTION postings_balanced() RETURNS trigger AS $$
DECLARE
    total NUMERIC;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM postings WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced by %', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER postings_balanced
    AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION postings_balanced();

-- An entry without postings would use up its request number while moving
-- nothing, and a later honest Post of that number would be refused as a reuse.
CREATE FUNCTION journal_entries_nonempty() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'journal entry % (%/%) has no postings', NEW.id, NEW.request_no, NEW.leg
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER journal_entries_nonempty
    AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION journal_entries_nonempty();

-- Postings and entries are history: they are never changed or removed.
CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER postings_no_update BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
