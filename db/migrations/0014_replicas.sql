-- Several replicas of each process (docs/replicas.md): what one process kept
-- for itself and the others must see lives here.

-- A row per live process that needs to be known alive (the API's replicas):
-- it renews expires_at every few seconds (replica/replica.go) and deletes
-- its row when it stops. A row whose expires_at has passed is a process that
-- died without a word (SIGKILL, a lost node); what it held is anyone's to
-- take over. host and pid are for the operator reading the table.
CREATE TABLE replicas (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind <> ''),
    host TEXT NOT NULL,
    pid INT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX replicas_kind ON replicas (kind, expires_at);

-- replica_alive is the one definition of "its process is alive", read by
-- every rule that takes over what a replica held. NULL (a claim made by a
-- process that joined no fleet: a test's server) is never known dead.
CREATE FUNCTION replica_alive(replica BIGINT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT replica IS NULL OR EXISTS (SELECT 1 FROM replicas r WHERE r.id = replica AND r.expires_at > now())
$$;

-- The replica whose request holds an Idempotency-Key while it runs. A retry
-- may take the claim over as soon as that replica is gone, instead of after
-- the ten minutes a claim takes to go stale (api/idempotency.go).
ALTER TABLE idempotency_keys ADD COLUMN replica_id BIGINT;

-- The clock advance the ops console started last (api/console_clock.go), so
-- every replica's console shows it and none starts a second one while it
-- runs. One row: running while finished_at is NULL and its replica alive.
-- run counts the advances started, so a run taken over cannot finish its
-- successor's; error is the text the console shows for a failed advance.
CREATE TABLE console_clock_advance (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    run BIGINT NOT NULL DEFAULT 1,
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    error TEXT,
    replica_id BIGINT
);
