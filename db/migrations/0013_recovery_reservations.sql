-- Recoveries that meet (issue 26): a recovery reserves each holder's share of
-- it in the transaction that admits it, under a lock on the loan's losses, so
-- recoveries of one loan never together exceed what the holders are still
-- owed, and none is sent to the bank before its money is reserved
-- (docs/collection.md "Recoveries"). reserved is what recoveries still in
-- flight will pay a holder; a recovery carried out moves its share from
-- reserved to recovered, a refused one releases it.
ALTER TABLE write_off_losses ADD COLUMN reserved NUMERIC(20,2) NOT NULL DEFAULT 0;
ALTER TABLE write_off_losses ADD CONSTRAINT write_off_losses_reserved_within
    CHECK (reserved >= 0 AND recovered + reserved <= amount);
