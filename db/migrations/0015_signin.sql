-- Sign-in throttling that counts failures only (issue 23; docs/security.md
-- "Sign-in"). The counts of 0007 (login_throttle: one row per key, bumped by
-- every admitted attempt, successes included) become one row per failure, so
-- a count is the failures of the last window, a failure older than the window
-- stops counting by itself, and nothing a success does can extend a wait.

DROP TABLE login_throttle;

-- One row per failed attempt (an attempt is written when it is admitted,
-- before its password is checked, and removed again if the password was
-- right). scope says what was charged: the client address ('address'), an
-- account from an unrecognized client ('account', key the normalized email,
-- registered or not), an account at an address it signed in from ('known',
-- key "user_id address"), or an account on a device it recognizes ('device',
-- key the device id).
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('address', 'account', 'known', 'device')),
    key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (scope, key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Devices a user signed in on (OWASP's device cookies): the browser or app
-- keeps the token in a cookie, the platform only its SHA-256. A sign-in that
-- presents its account's device is charged to that device alone, so failures
-- of others (an address shared behind a carrier's NAT) never hold it.
CREATE TABLE login_devices (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    last_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_devices_user ON login_devices (user_id, last_at);
CREATE INDEX login_devices_last ON login_devices (last_at);
