-- The business event feed (issue 22; docs/events.md): every status change of
-- a loan and every movement the ledger books, each written in the
-- transaction of its change, read by GET /v1/ops/events and the webhooks.

-- seq is the order the writers inserted in, taken before they commit: a
-- reader paging by it would skip an event whose writer took a lower seq and
-- committed after the reader read a higher one. So it is never shown. id is
-- the feed's: assigned after commit by the one numbering transaction at a
-- time (events.Number, under event_feed_head's lock), in the order the
-- events became visible, 1, 2, 3… without a gap. A reader sees a prefix of
-- the ids, whatever the writers do, and cannot skip one.
CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id BIGINT UNIQUE,
    type TEXT NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    business_date DATE NOT NULL,
    loan_id BIGINT,
    user_id BIGINT,
    data JSONB NOT NULL DEFAULT '{}'
);
-- What the next numbering takes: the events committed and not numbered yet.
CREATE INDEX events_unnumbered ON events (seq) WHERE id IS NULL;

-- The last id given out. Its row lock makes numbering one transaction at a
-- time, in every process.
CREATE TABLE event_feed_head (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id BIGINT NOT NULL DEFAULT 0
);
INSERT INTO event_feed_head DEFAULT VALUES;

-- An event is history: written once, numbered once, never changed or removed.
CREATE FUNCTION events_numbered_once() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR OLD.id IS NOT NULL OR NEW.id IS NULL
       OR (NEW.seq, NEW.type, NEW.at, NEW.business_date, NEW.loan_id, NEW.user_id, NEW.data)
          IS DISTINCT FROM (OLD.seq, OLD.type, OLD.at, OLD.business_date, OLD.loan_id, OLD.user_id, OLD.data) THEN
        RAISE EXCEPTION 'events are written once and numbered once' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_history BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_numbered_once();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_numbered_once();
