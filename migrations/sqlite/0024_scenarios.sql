-- A saved what-if: the levers it moved (as the form sent them), the window its evidence came
-- from, and what it projected then, kept so that it can be held against what happened after.
-- Successes are counted in millionths of a task (projections are fractional), money in
-- micro-dollars; every figure follows from these with the window's length.
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    routes TEXT NOT NULL DEFAULT '',
    cache_share TEXT NOT NULL DEFAULT '',
    input_change TEXT NOT NULL DEFAULT '',
    failure_rate TEXT NOT NULL DEFAULT '',
    retry_cut TEXT NOT NULL DEFAULT '',
    assumptions TEXT NOT NULL,
    window_first_day BIGINT NOT NULL,
    window_last_day BIGINT NOT NULL,
    decided BIGINT NOT NULL CHECK (decided >= 0),
    before_total_micros BIGINT NOT NULL,
    before_successes BIGINT NOT NULL CHECK (before_successes >= 0),
    total_micros BIGINT NOT NULL,
    successes BIGINT NOT NULL CHECK (successes >= 0),
    low_total_micros BIGINT NOT NULL,
    low_successes BIGINT NOT NULL CHECK (low_successes >= 0),
    high_total_micros BIGINT NOT NULL,
    high_successes BIGINT NOT NULL CHECK (high_successes >= 0),
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, name)
);
