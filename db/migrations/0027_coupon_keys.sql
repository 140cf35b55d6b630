-- The Idempotency-Key of ops' grants and top-ups, carried by their effect
-- (docs/idempotency.md "The effect carries the key"): the same request sent
-- again after a crash finds its coupon or its top-up rather than making a
-- second one.
ALTER TABLE coupons ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX coupons_key ON coupons (granted_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
ALTER TABLE bonus_top_ups ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX bonus_top_ups_key ON bonus_top_ups (ops_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
