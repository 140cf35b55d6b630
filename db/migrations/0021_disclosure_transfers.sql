-- Debt transfer in the disclosure figures (issue 19 point 5; docs/transfer.md "Books"):
-- the claims sold on the platform, their prices (the transfer volume) and the sellers' fees,
-- all sold on or before the date, kept in each day's snapshot with the other figures.
-- Snapshots written before this carry 0.00: no claim was sold before transfers existed.
ALTER TABLE disclosure_snapshots
    ADD COLUMN transfer_volume NUMERIC(20,2) NOT NULL DEFAULT 0,
    ADD COLUMN transfer_fees NUMERIC(20,2) NOT NULL DEFAULT 0,
    ADD COLUMN transfers_sold BIGINT NOT NULL DEFAULT 0;
