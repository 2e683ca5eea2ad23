-- Model calls of first attempts, per call rollup: the model mix an alert's cause reads, kept
-- with the rollups so that judging a regression never scans the raw calls.
ALTER TABLE call_rollups ADD COLUMN first_attempt_model_calls BIGINT NOT NULL DEFAULT 0;
-- Rollups stored before the column are recomputed by the background refresh.
INSERT INTO rollup_dirty (workflow_id, day, marked_at)
    SELECT DISTINCT workflow_id, day, 0 FROM call_rollups WHERE TRUE
    ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;
