-- The rebuilt loan workflow (docs/workflow.md).

-- next_event_on is written by whoever learns the loan's next dated step: the
-- activity that creates one (a listing's expiry, a new schedule) and the clock
-- from the loan's answer to each advance. next_event_seq is the workflow's
-- step number the value was computed at; a write with an older number is
-- ignored, so a late answer cannot overwrite what a later step published.
ALTER TABLE loans ADD COLUMN next_event_seq INT NOT NULL DEFAULT 0;

-- Contact that reaches people (docs/rules.md "contact"): an outbox the API reads
-- and a sender may deliver. business_date is the day it is for; at is when it
-- reaches the person (a borrower only from 08:00 to 20:00 Asia/Shanghai). A
-- reminder is written ahead, when the schedule is made, and withdrawn (the row
-- deleted) if its installment closes before its date.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('repayment_reminder', 'repayment_received', 'repayment_failed',
        'overdue_notice', 'compensation_paid', 'compensation_received', 'written_off', 'recovery_received',
        'withdrawal_succeeded', 'withdrawal_reversed')),
    loan_id BIGINT REFERENCES loans (id),
    installment_no INT,
    amount NUMERIC(20,2),
    business_date DATE NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    message TEXT NOT NULL,
    -- dedupe is the business identity of the notice (loan-7-installment-3-reminder),
    -- so an activity retried after its commit writes nothing twice.
    dedupe TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user ON notifications (user_id, business_date DESC, id DESC);
