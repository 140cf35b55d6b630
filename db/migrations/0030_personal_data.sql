-- Personal data at rest (docs/security.md "Personal data", pii/): the ID
-- number, phone and card number columns hold sealed values
-- ("pii:<key id>:<base64>"), and a keyed hash stands in for the number
-- wherever one is compared. SQL cannot encrypt under a key it does not have:
-- the rows already there are sealed and hashed by the Go step that runs right
-- after the migrations (pii.SealExisting, from app's openDB, so `lendflow
-- migrate` and every process at start). The CHECKs are NOT VALID for that
-- reason: they hold every row written from now on, and the step brings the
-- old ones in line.

ALTER TABLE users ADD COLUMN id_number_hash BYTEA, ADD COLUMN phone_hash BYTEA;
DROP INDEX users_id_number;
DROP INDEX users_phone;
DROP INDEX users_verified_id_number;
DROP INDEX users_verified_phone;
-- First to verify holds the number (accounts.verifiedIDNumberIndex names it).
CREATE UNIQUE INDEX users_verified_id_number ON users (id_number_hash) WHERE custody_account_no IS NOT NULL;
CREATE INDEX users_verified_phone ON users (phone_hash) WHERE custody_account_no IS NOT NULL;
CREATE INDEX users_id_number_hash ON users (id_number_hash);
CREATE INDEX users_phone_hash ON users (phone_hash);
ALTER TABLE users ADD CONSTRAINT users_id_number_sealed
    CHECK ((id_number = '' AND id_number_hash IS NULL) OR (id_number LIKE 'pii:%' AND id_number_hash IS NOT NULL)) NOT VALID;
ALTER TABLE users ADD CONSTRAINT users_phone_sealed
    CHECK ((phone = '' AND phone_hash IS NULL) OR (phone LIKE 'pii:%' AND phone_hash IS NOT NULL)) NOT VALID;
ALTER TABLE users ADD CONSTRAINT users_card_number_sealed CHECK (card_number LIKE 'pii:%') NOT VALID;

ALTER TABLE card_changes ADD CONSTRAINT card_changes_card_number_sealed CHECK (card_number LIKE 'pii:%') NOT VALID;

-- The blacklist is keyed by the hash: the sealed number differs at every seal.
ALTER TABLE blacklist ADD COLUMN id_number_hash BYTEA;
ALTER TABLE blacklist DROP CONSTRAINT blacklist_pkey;
CREATE UNIQUE INDEX blacklist_id_number_hash ON blacklist (id_number_hash);
ALTER TABLE blacklist ADD CONSTRAINT blacklist_id_number_sealed
    CHECK (id_number LIKE 'pii:%' AND id_number_hash IS NOT NULL) NOT VALID;
