-- The levers that need calls rather than tasks, per (workflow, day of the task's start):
-- each step's calls by kind, their input tokens and cost, and those of failed attempts (every
-- attempt of a task that did not finish, every attempt but the last of one that did) ...
CREATE TABLE step_rollups (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    step TEXT NOT NULL,
    kind TEXT NOT NULL,
    calls BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_micros BIGINT NOT NULL,
    failed_calls BIGINT NOT NULL,
    failed_cost_micros BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, step, kind)
);

-- ... the input tokens of each step's model calls in buckets, for their median and p95 ...
CREATE TABLE prompt_sizes (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    step TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    total BIGINT NOT NULL,
    largest BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, step, bucket)
);

-- ... and decided tasks by how many retrieval calls they made (50 stands for 50 or more) and
-- their verdict, with those calls' tokens: the success rate by retrieval volume.
CREATE TABLE retrieval_outcomes (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    retrievals BIGINT NOT NULL,
    status TEXT NOT NULL,
    tasks BIGINT NOT NULL,
    retrieval_tokens BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, retrievals, status)
);

-- Slices stored before the tables are recomputed by the background refresh.
INSERT INTO rollup_dirty (workflow_id, day, marked_at)
    SELECT DISTINCT workflow_id, day, 0 FROM task_rollups WHERE TRUE
    ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;
