-- name: WebhookInsert :one
INSERT INTO webhooks (url, types, secret, created_by) VALUES ($1, $2, $3, $4)
RETURNING id;

-- name: WebhookExists :one
SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = $1);

-- name: WebhookDeliveryFanOut :exec
-- Queues the events numbered in (after, through] for every webhook that asks
-- for their type (docs/events.md "Webhooks"), in the numbering's transaction.
INSERT INTO webhook_deliveries (webhook_id, event_id, ordering_key)
SELECT w.id, e.id,
       COALESCE('loan:' || e.loan_id::text, 'user:' || e.user_id::text, '')
FROM events e JOIN webhooks w ON event_type_matches(w.types, e.type)
WHERE e.id > sqlc.arg(after)::bigint AND e.id <= sqlc.arg(through)::bigint
ON CONFLICT DO NOTHING;

-- name: WebhookDeliveryClaim :many
-- Takes up to lim deliveries due, for lease_seconds, counting an attempt
-- each: pending, their time come, not claimed by a live lease, and first of
-- their webhook and ordering key still pending (in id order per loan). SKIP
-- LOCKED: two workers claiming at once take different ones.
UPDATE webhook_deliveries d
SET claimed_until = now() + sqlc.arg(lease_seconds)::float8 * interval '1 second',
    attempts = d.attempts + 1,
    first_attempt_at = COALESCE(d.first_attempt_at, now())
FROM webhooks w, events e
WHERE w.id = d.webhook_id AND e.id = d.event_id AND (d.webhook_id, d.event_id) IN (
    SELECT c.webhook_id, c.event_id FROM webhook_deliveries c
    WHERE c.status = 'pending' AND c.next_attempt_at <= now()
      AND (c.claimed_until IS NULL OR c.claimed_until < now())
      AND (c.ordering_key = '' OR NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.webhook_id = c.webhook_id AND p.ordering_key = c.ordering_key
            AND p.status = 'pending' AND p.event_id < c.event_id))
    ORDER BY c.next_attempt_at, c.event_id
    LIMIT sqlc.arg(lim)
    FOR UPDATE OF c SKIP LOCKED)
RETURNING d.webhook_id, d.event_id, d.attempts, d.first_attempt_at, w.url, w.secret,
    e.type, e.at, e.business_date, e.loan_id, e.user_id, e.data;

-- name: WebhookDeliveryDone :exec
-- The attempt's result: delivered, due again at next_attempt_at, or given up
-- (failed). Only the attempt's own claim writes it.
UPDATE webhook_deliveries
SET status = sqlc.arg(status), claimed_until = NULL, last_status_code = sqlc.narg(last_status_code),
    last_error = sqlc.narg(last_error), next_attempt_at = sqlc.arg(next_attempt_at),
    delivered_at = CASE WHEN sqlc.arg(status) = 'delivered' THEN now() END
WHERE webhook_id = sqlc.arg(webhook_id) AND event_id = sqlc.arg(event_id)
  AND attempts = sqlc.arg(attempt) AND status = 'pending';

-- name: WebhookDeliveryList :many
-- A webhook's deliveries, newest event first, keyset-paged by event id.
SELECT event_id, status, attempts, last_status_code, last_error, next_attempt_at, delivered_at
FROM webhook_deliveries
WHERE webhook_id = sqlc.arg(webhook_id)
  AND (sqlc.narg(before_event)::bigint IS NULL OR event_id < sqlc.narg(before_event)::bigint)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
ORDER BY event_id DESC
LIMIT sqlc.arg(lim);
