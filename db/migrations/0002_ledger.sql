-- Double-entry ledger mirroring the custody bank (DOMAIN.md "The platform's own books").
-- Invariant: the postings of one journal entry sum to zero; enforced at commit by a
-- deferred constraint trigger, so no Go code path can leave an unbalanced entry.

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
    CHECK (may_go_negative OR balance >= 0)
);

CREATE TABLE journal_entries (
    id BIGSERIAL PRIMARY KEY,
    -- the bank request number (流水号) this entry mirrors, plus a leg index for
    -- requests that map to several entries: recording a movement twice is impossible.
    request_no TEXT NOT NULL,
    leg INT NOT NULL DEFAULT 0,
    type TEXT NOT NULL,
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
    balance_after NUMERIC(20,2) NOT NULL,
    counterpart TEXT NOT NULL DEFAULT ''
);
CREATE INDEX postings_account ON postings (account_id, id);
CREATE INDEX postings_entry ON postings (entry_id);

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
    AFTER INSERT OR UPDATE ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION postings_balanced();

-- Postings are history: they are never changed or removed.
CREATE FUNCTION postings_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'postings are append-only' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER postings_no_update BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION postings_immutable();
