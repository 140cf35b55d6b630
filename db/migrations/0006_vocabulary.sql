-- The loan's vocabulary (package lending): a released bid is 'released', as
-- The contract names it; guarantors are users of their own role.

ALTER TABLE bids DROP CONSTRAINT bids_status_check;
UPDATE bids SET status = 'released' WHERE status = 'unfrozen';
ALTER TABLE bids ADD CONSTRAINT bids_status_check
    CHECK (status IN ('pending', 'frozen', 'failed', 'released', 'disbursed'));

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('borrower', 'investor', 'guarantor', 'ops'));
