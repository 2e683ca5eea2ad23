-- A workflow's latency budget: the p95 of task time, start to finish, that a model must keep
-- to be named the cheapest that meets the bar. None: no budget.
ALTER TABLE workflows ADD COLUMN latency_budget_ms BIGINT;

-- How long the decided tasks of each primary model took, per (workflow, day): the buckets the
-- models page reads a model's p95 task time from, kept beside the other spreads.
CREATE TABLE model_durations (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    model TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    tasks BIGINT NOT NULL,
    total BIGINT NOT NULL,
    largest BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, model, bucket)
);

-- Slices stored before the table are recomputed by the background refresh.
INSERT INTO rollup_dirty (workflow_id, day, marked_at)
    SELECT DISTINCT workflow_id, day, 0 FROM task_rollups WHERE TRUE
    ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;
