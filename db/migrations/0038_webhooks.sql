-- Webhooks (issue 22; docs/events.md "Webhooks"): ops register a URL and the
-- event types it wants; each event of those types numbered after the
-- registration is POSTed to it, signed with the webhook's secret, at least
-- once, in id order per loan.

CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    -- event types, or family.* or *: events.Subscribable
    types TEXT[] NOT NULL CHECK (cardinality(types) BETWEEN 1 AND 100),
    -- the HMAC-SHA256 key of the Lendflow-Signature header, shown once at
    -- registration. Kept as is: signing needs it.
    secret TEXT NOT NULL CHECK (length(secret) >= 32),
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Whether a subscription to patterns takes an event of type t: events.Matches.
CREATE FUNCTION event_type_matches(patterns TEXT[], t TEXT) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(patterns) p
                   WHERE p = '*' OR p = t OR (right(p, 2) = '.*' AND starts_with(t, left(p, -1))))
$$;

-- One event to one webhook. ordering_key is what deliveries are in order
-- within: the event's loan (loan:7), else its user (user:3), else nothing
-- (''). A delivery is tried only once every earlier delivery of its webhook
-- and key is delivered or given up. A worker claims one for a lease
-- (claimed_until) and counts the attempt; the attempt's result is written
-- only by its claim (attempts unchanged since).
CREATE TABLE webhook_deliveries (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    event_id BIGINT NOT NULL,
    ordering_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    first_attempt_at TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_until TIMESTAMPTZ,
    last_status_code INT,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, event_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, ordering_key, event_id) WHERE status = 'pending';
