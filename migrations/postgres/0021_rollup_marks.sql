-- Marks that a batch changed a (workflow, day) slice, written by ingestion without touching any
-- shared row: batches of one workflow and day no longer wait for each other's commit on the
-- slice's `rollup_dirty` row. The background refresh folds marks into `rollup_dirty` (one
-- version step per slice however many marks it had), deleting exactly the marks it read. A
-- mark names its day, or the task whose day it is as of the fold (for a call joining a task
-- whose start another batch may be moving).
CREATE TABLE rollup_marks (
    id BIGSERIAL PRIMARY KEY,
    workflow_id BIGINT NOT NULL,
    day BIGINT,
    task_id BIGINT,
    marked_at BIGINT NOT NULL
);
