-- Notices that reach people by e-mail (issue 22; docs/collection.md "Contact").
-- A worker claims a notice before it sends it (claimed_until: a lease, so
-- two workers never both send it while the first is at it), counts the
-- attempt, and marks it sent, or due again later by the backoff schedule
-- (next_attempt_at), or given up (failed_at) three days after its first
-- attempt. last_error is the sender's last refusal, for the operator.
ALTER TABLE notifications
    ADD COLUMN attempts INT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN first_attempt_at TIMESTAMPTZ,
    ADD COLUMN next_attempt_at TIMESTAMPTZ,
    ADD COLUMN claimed_until TIMESTAMPTZ,
    ADD COLUMN failed_at TIMESTAMPTZ,
    ADD COLUMN last_error TEXT;

-- The outbox still to deliver, in id order: what each round reads. Notices
-- written ahead (reminders) sit here until their day.
CREATE INDEX notifications_undelivered ON notifications (id) WHERE delivered_at IS NULL AND failed_at IS NULL;
