-- The human baseline of a task type: how long a person takes to do one such task unaided, and
-- optionally what an outcome-priced vendor charges per resolved task. Versioned like success
-- rules: each version is in force from its moment on, so history keeps its figures. A version
-- without seconds withdraws the baseline.
CREATE TABLE human_baselines (
    id INTEGER PRIMARY KEY,
    task_type_id BIGINT NOT NULL REFERENCES task_types (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    seconds BIGINT CHECK (seconds BETWEEN 1 AND 144000),
    reference_price_micros BIGINT CHECK (reference_price_micros BETWEEN 0 AND 1000000000000),
    source TEXT NOT NULL DEFAULT '',
    effective_from BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (task_type_id, version)
);
