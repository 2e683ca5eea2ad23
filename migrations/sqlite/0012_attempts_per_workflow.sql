-- Every sender id lives in its workflow's namespace. Attempts were unique by correlation id
-- across the whole database and calls joined them by correlation id alone, so one workflow's
-- calls could join, and one workflow's attempt could block, another workflow's attempt. An
-- attempt now carries its task's workflow; correlation ids are unique per workflow, and calls
-- join only attempts of their own workflow.
--
-- SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt with its ids kept.
-- Migrations run inside a transaction, where foreign keys cannot be switched off: dropping the
-- old table sets calls.attempt_id to NULL through its ON DELETE action, so the joins are saved
-- first and restored afterwards, except the ones that crossed workflows.

CREATE TEMP TABLE joined_calls AS
SELECT c.id, c.attempt_id
FROM calls c JOIN attempts a ON a.id = c.attempt_id JOIN tasks t ON t.id = a.task_id
WHERE t.workflow_id = c.workflow_id;

-- The slices whose figures change: the tasks that lose a call from another workflow, and the
-- days of those calls.
INSERT INTO rollup_dirty (workflow_id, day, version, marked_at)
SELECT workflow_id, day, 1, 0 FROM (
    SELECT t.workflow_id, t.started_at / 86400000 AS day
    FROM calls c JOIN tasks t ON t.id = c.task_id
    WHERE c.workflow_id <> t.workflow_id
    UNION
    SELECT c.workflow_id, c.started_at / 86400000 AS day
    FROM calls c JOIN tasks t ON t.id = c.task_id
    WHERE c.workflow_id <> t.workflow_id
) AS touched WHERE TRUE
ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;

CREATE TABLE attempts_per_workflow (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    number BIGINT NOT NULL CHECK (number >= 1),
    correlation_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    content_hash TEXT NOT NULL,
    UNIQUE (task_id, number),
    UNIQUE (workflow_id, correlation_id)
);

INSERT INTO attempts_per_workflow (id, workflow_id, task_id, number, correlation_id, status,
    error, started_at, finished_at, content_hash)
SELECT a.id, t.workflow_id, a.task_id, a.number, a.correlation_id, a.status, a.error,
    a.started_at, a.finished_at, a.content_hash
FROM attempts a JOIN tasks t ON t.id = a.task_id;

DROP TABLE attempts;
ALTER TABLE attempts_per_workflow RENAME TO attempts;

UPDATE calls SET attempt_id = j.attempt_id FROM joined_calls j WHERE j.id = calls.id;
UPDATE calls SET task_id = NULL WHERE attempt_id IS NULL AND task_id IS NOT NULL;
DROP TABLE joined_calls;

DROP INDEX calls_unjoined;
CREATE INDEX calls_unjoined ON calls (workflow_id, correlation_id) WHERE attempt_id IS NULL;
