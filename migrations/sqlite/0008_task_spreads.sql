-- How each workflow's decided tasks spread, per day, kept by the rollup refresh beside the
-- rollups so the workflow page reads a month of them without one line per task: task cost
-- (micro-dollars) and duration (milliseconds) counted in buckets (lower edge from the
-- application's bucket_of: exact below 100, then at most 2.5% wide), escalated tasks per
-- reason, and each day's costliest tasks.
CREATE TABLE task_spreads (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('cost', 'duration')),
    bucket BIGINT NOT NULL,
    tasks BIGINT NOT NULL,
    total BIGINT NOT NULL,
    largest BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, measure, bucket)
);

CREATE TABLE escalation_counts (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    reason TEXT NOT NULL,
    tasks BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, reason)
);

CREATE TABLE costliest_tasks (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    task_id BIGINT NOT NULL,
    cost_micros BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day, task_id)
);

-- Tasks stored before this migration have no spreads yet: every (workflow, day) with tasks is
-- marked behind its raw rows, and the background refresh recomputes the slices one by one,
-- spreads included, each in its own transaction.
INSERT INTO rollup_dirty (workflow_id, day, marked_at)
SELECT workflow_id, started_at / 86400000, 0 FROM tasks WHERE true
GROUP BY workflow_id, started_at / 86400000
ON CONFLICT (workflow_id, day) DO NOTHING;
