-- The security review's holes (issue 25; docs/security.md).

-- The owner of an email someone tried to register again is told
-- (registration_attempted), once a day at most, through the outbox that
-- e-mail delivery reads.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('repayment_reminder',
    'repayment_received', 'repayment_failed', 'overdue_notice', 'compensation_paid', 'compensation_received',
    'written_off', 'recovery_received', 'withdrawal_succeeded', 'withdrawal_reversed', 'registration_attempted'));

-- Keys the API makes once and every replica shares (api/keys.go): the HMAC
-- key that binds the console's sign-in form token to its cookie, and the one
-- that scopes registration's Idempotency-Keys.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key BYTEA NOT NULL CHECK (length(key) >= 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A user keeps their newest sessions only (api maxSessionsPerUser); seq
-- says which are newest, where expires_at ties for sign-ins in one second.
ALTER TABLE sessions ADD COLUMN seq BIGSERIAL;
CREATE INDEX sessions_user ON sessions (user_id, seq);
