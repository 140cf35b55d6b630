-- Debt transfer (债权转让, docs/transfer.md): who holds each claim, and the
-- listings that sell one.

-- A holding is one holder's time with one claim. A claim is a bid's (bid_id
-- is its identity, claims' "bid:<id>": one bid's remaining principal and
-- every later installment's shares); its first holding is the bidder's, from
-- the disbursement, and each sale ends the seller's holding (transferred) and
-- starts the buyer's. One holding of a claim is held at a time.
--   principal: the claim's remaining principal when the holder took it (the
--              bid, or the R of the purchase);
--   cost:      what the holder paid for it (the bid, or the price);
--   held_from: the disbursement's or the purchase's business date, the first
--              of the holding days that set the seller's fee.
CREATE TABLE holdings (
    id BIGSERIAL PRIMARY KEY,
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    holder_id BIGINT NOT NULL REFERENCES users (id),
    source TEXT NOT NULL CHECK (source IN ('bid', 'transfer')),
    principal NUMERIC(20,2) NOT NULL CHECK (principal > 0),
    cost NUMERIC(20,2) NOT NULL CHECK (cost >= 0),
    held_from DATE NOT NULL,
    held_to DATE,
    status TEXT NOT NULL CHECK (status IN ('held', 'transferred')),
    CHECK ((status = 'held') = (held_to IS NULL))
);
CREATE UNIQUE INDEX holdings_one_held ON holdings (bid_id) WHERE status = 'held';
CREATE UNIQUE INDEX holdings_first ON holdings (bid_id) WHERE source = 'bid';
CREATE INDEX holdings_holder ON holdings (holder_id, id);
CREATE INDEX holdings_loan ON holdings (loan_id, bid_id);

-- Which holding an investor share was held under: the holding that held it
-- when it was paid, or holds it now. A sale moves the open installments'
-- shares (investor_id and holding_id) to the buyer; paid ones stay the
-- seller's, so what each holding received is the sum of its shares.
ALTER TABLE installment_shares ADD COLUMN holding_id BIGINT REFERENCES holdings (id);
CREATE INDEX installment_shares_holding ON installment_shares (holding_id);

INSERT INTO holdings (loan_id, bid_id, holder_id, source, principal, cost, held_from, status)
SELECT b.loan_id, b.id, b.investor_id, 'bid', b.amount, b.amount, l.disbursed_on, 'held'
FROM bids b JOIN loans l ON l.id = b.loan_id
WHERE b.status = 'disbursed' AND l.disbursed_on IS NOT NULL;
UPDATE installment_shares s SET holding_id = h.id FROM holdings h WHERE h.bid_id = s.bid_id;

-- A listing of one holding's claim for sale (docs/rules.md "Debt transfer").
--   status:   listed → buying (a buyer won the listing; its purchase is with the
--             loan's workflow) → sold, or back to listed (the purchase was
--             refused: nothing moved); listed or buying → lapsed (the blackout
--             before a due date, the loan leaving repaying) or cancelled;
--   expires_on: the blackout's first day (the 5th day before the next due
--             date), on which the listing lapses; open the days before it;
--   offer_seq: the loan workflow's step that listed it, so a retried step
--             finds its row rather than listing twice;
--   attempt:  how many buyers have won the listing; the winner's purchase,
--             its update and its bank request carry the number;
--   the sale's figures (principal R, accrued interest, price, fee) are
--   written when it is sold, as priced that day.
CREATE TABLE transfers (
    id BIGSERIAL PRIMARY KEY,
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    holding_id BIGINT NOT NULL REFERENCES holdings (id),
    seller_id BIGINT NOT NULL REFERENCES users (id),
    discount_rate NUMERIC(6,4) NOT NULL CHECK (discount_rate >= 0 AND discount_rate <= 0.05),
    status TEXT NOT NULL CHECK (status IN ('listed', 'buying', 'sold', 'lapsed', 'cancelled')),
    listed_on DATE NOT NULL,
    expires_on DATE NOT NULL,
    offer_seq INT NOT NULL,
    attempt INT NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    buyer_id BIGINT REFERENCES users (id),
    buyer_holding_id BIGINT REFERENCES holdings (id),
    principal NUMERIC(20,2),
    accrued_interest NUMERIC(20,2),
    price NUMERIC(20,2),
    fee NUMERIC(20,2),
    closed_on DATE,
    closed_at TIMESTAMPTZ,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (loan_id, offer_seq),
    CHECK ((status = 'sold') = (buyer_holding_id IS NOT NULL)),
    CHECK (status <> 'sold' OR (buyer_id IS NOT NULL AND price IS NOT NULL AND fee IS NOT NULL AND fee <= price))
);
CREATE UNIQUE INDEX transfers_one_open ON transfers (holding_id) WHERE status IN ('listed', 'buying');
CREATE INDEX transfers_listed ON transfers (id) WHERE status = 'listed';
CREATE INDEX transfers_loan ON transfers (loan_id, id);
CREATE INDEX transfers_seller ON transfers (seller_id, id);
CREATE INDEX transfers_buyer ON transfers (buyer_id, id) WHERE buyer_id IS NOT NULL;

-- Each buyer who won a listing: the purchase carries the buyer's
-- Idempotency-Key (hashed), so the same key sent again is the same purchase,
-- whatever became of it (docs/idempotency.md "The effect carries the key").
CREATE TABLE transfer_purchases (
    transfer_id BIGINT NOT NULL REFERENCES transfers (id),
    attempt INT NOT NULL CHECK (attempt >= 1),
    buyer_id BIGINT NOT NULL REFERENCES users (id),
    key_hash TEXT,
    -- the price the buyer was quoted on its business date: a purchase sent
    -- to the loan again (after a crash) is the same purchase
    price NUMERIC(20,2) NOT NULL CHECK (price > 0),
    quoted_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('buying', 'sold', 'refused')),
    code TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (transfer_id, attempt)
);
CREATE UNIQUE INDEX transfer_purchases_key ON transfer_purchases (buyer_id, key_hash) WHERE key_hash IS NOT NULL;
CREATE INDEX transfer_purchases_buying ON transfer_purchases (created_at) WHERE status = 'buying';
