-- What the prompt cache saved: per rollup row, the cached tokens (read and written) of priced
-- calls at their model's input price, less what those tokens cost; and the cached tokens of
-- calls without a price (reported costs), whose saving cannot be told.
ALTER TABLE task_rollups ADD COLUMN cache_saved_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE task_rollups ADD COLUMN cache_unpriced_tokens BIGINT NOT NULL DEFAULT 0;
-- Rollups stored before the columns are recomputed by the background refresh.
INSERT INTO rollup_dirty (workflow_id, day, marked_at)
    SELECT DISTINCT workflow_id, day, 0 FROM task_rollups WHERE TRUE
    ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;
