-- Reconciliation with the provider's bill: billed cost imported from FOCUS files and provider
-- cost reports, one row per billing line, compared with the calls Finishline saw.
CREATE TABLE bill_lines (
    id INTEGER PRIMARY KEY,
    -- The line's content and its place among identical lines of its file: importing a file
    -- again, or an export that overlaps an earlier one, stores nothing twice.
    line_key TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL CHECK (format IN ('focus', 'openai', 'anthropic', 'csv')),
    provider TEXT NOT NULL,
    -- The model as the bill names it, and normalised for matching calls; empty when the bill
    -- does not say.
    model TEXT NOT NULL DEFAULT '',
    model_key TEXT NOT NULL DEFAULT '',
    token_type TEXT NOT NULL DEFAULT ''
        CHECK (token_type IN ('', 'input', 'output', 'cache_read', 'cache_write')),
    period_start BIGINT NOT NULL,
    period_end BIGINT NOT NULL CHECK (period_end > period_start),
    -- The epoch day the charge period starts on: what lines are grouped and filtered by.
    day BIGINT NOT NULL,
    billed_micros BIGINT NOT NULL,
    -- Billed token quantity, when the bill gives one.
    tokens BIGINT CHECK (tokens >= 0),
    description TEXT NOT NULL DEFAULT '',
    source_file TEXT NOT NULL DEFAULT '',
    imported_at BIGINT NOT NULL
);
CREATE INDEX bill_lines_day ON bill_lines (day, provider);

-- Installation-wide finance settings: one row.
CREATE TABLE finance_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    -- A period reconciles when |billed - seen| is at most this share of the billed cost.
    reconcile_threshold_bp BIGINT NOT NULL DEFAULT 200
        CHECK (reconcile_threshold_bp BETWEEN 1 AND 10000),
    -- Whether billed spend no call explains is allocated to workflows as a sixth component.
    allocate_unattributed BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO finance_settings (id) VALUES (1);

-- What reconciliation compares per token type: cache reads and writes apart, and how much of
-- the cost the sender reported rather than Finishline priced.
ALTER TABLE call_rollups ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_rollups ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_rollups ADD COLUMN reported_cost_micros BIGINT NOT NULL DEFAULT 0;
-- Rollups stored before these columns are recomputed by the background refresh.
INSERT INTO rollup_dirty (workflow_id, day, marked_at)
    SELECT DISTINCT workflow_id, day, 0 FROM call_rollups WHERE TRUE
    ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;
