-- The bank's calendar of workdays (docs/calendar.md): what ops set per year
-- on top of Monday to Friday. A day listed here is a public holiday
-- (workday false: no large-value window, even on a weekday) or a make-up
-- workday (调休, workday true: a weekend day the banks work). Every other day
-- is a workday when it is Monday to Friday. Both replicas read it here.
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY,
    workday BOOLEAN NOT NULL
);

-- The years ops have set, and who set each last (the audit log has every
-- change): a year never set is Monday to Friday.
CREATE TABLE calendar_years (
    year INT PRIMARY KEY CHECK (year BETWEEN 1900 AND 9999),
    updated_by BIGINT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
