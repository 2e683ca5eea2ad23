-- Raw calls can age out under a retention setting. Each task keeps the whole of its usage,
-- so that the rollups of a day whose calls were removed can still be recomputed from tasks
-- (a late grade or outcome changes a verdict, never a cost).
ALTER TABLE tasks ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cache_saved_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cache_unpriced_tokens BIGINT NOT NULL DEFAULT 0;

-- One row: every day up to `sealed_through_day` (days since 1970-01-01, UTC) is sealed. Its
-- tasks' figures were recomputed from raw calls one last time, ingestion refuses items that
-- start on it, repricing refuses it, and its calls are being or have been removed.
CREATE TABLE retention (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    sealed_through_day BIGINT NOT NULL,
    keep_days BIGINT NOT NULL CHECK (keep_days >= 1),
    sealed_at BIGINT NOT NULL,
    calls_removed BIGINT NOT NULL DEFAULT 0
);
