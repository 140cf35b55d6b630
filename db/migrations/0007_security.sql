-- Security (docs/security.md): verified identities, login throttling, the
-- ops audit log, the blacklist's provenance.

-- An ID number belongs to whoever verified it first at the bank (the
-- four-factor check of account opening, docs/rules.md "Custody bank accounts").
-- Unverified users may type any number; only verified ones are unique.
CREATE UNIQUE INDEX users_verified_id_number ON users (id_number) WHERE custody_account_no IS NOT NULL;
CREATE INDEX users_verified_phone ON users (phone) WHERE custody_account_no IS NOT NULL;

-- Failed sign-ins per account (scope 'account', key the normalized email,
-- registered or not) and per client address (scope 'address'). failures is
-- forgotten after a quiet spell; locked_until is when the next attempt is
-- admitted. Housekeeping drops rows nobody has failed on for a day.
CREATE TABLE login_throttle (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key TEXT NOT NULL,
    failures INT NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until TIMESTAMPTZ,
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at);

-- Addresses a user has signed in from: the account lock does not apply to
-- them, so a stranger's failures cannot keep the owner out.
CREATE TABLE login_known_addresses (
    user_id BIGINT NOT NULL REFERENCES users (id),
    address TEXT NOT NULL,
    last_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);
CREATE INDEX login_known_addresses_last ON login_known_addresses (last_at);

-- Sessions are purged by expiry; idempotency keys by age.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Who put a number on the blacklist, and when (the audit log has the same).
ALTER TABLE blacklist ADD COLUMN added_by BIGINT REFERENCES users (id);
ALTER TABLE blacklist ADD COLUMN added_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- Every ops action: who, what, on what, when and why. Append-only: the
-- database itself refuses to change or remove a row, whoever asks.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ops_user_id BIGINT NOT NULL REFERENCES users (id),
    action TEXT NOT NULL CHECK (action <> ''),
    target TEXT NOT NULL CHECK (target <> ''),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
