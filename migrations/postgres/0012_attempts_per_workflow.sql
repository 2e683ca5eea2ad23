-- Every sender id lives in its workflow's namespace. Attempts were unique by correlation id
-- across the whole database and calls joined them by correlation id alone, so one workflow's
-- calls could join, and one workflow's attempt could block, another workflow's attempt. An
-- attempt now carries its task's workflow; correlation ids are unique per workflow, and calls
-- join only attempts of their own workflow. Calls joined across workflows are set loose.

INSERT INTO rollup_dirty (workflow_id, day, version, marked_at)
SELECT workflow_id, day, 1, 0 FROM (
    SELECT t.workflow_id, t.started_at / 86400000 AS day
    FROM calls c JOIN tasks t ON t.id = c.task_id
    WHERE c.workflow_id <> t.workflow_id
    UNION
    SELECT c.workflow_id, c.started_at / 86400000 AS day
    FROM calls c JOIN tasks t ON t.id = c.task_id
    WHERE c.workflow_id <> t.workflow_id
) AS touched
ON CONFLICT (workflow_id, day) DO UPDATE SET version = rollup_dirty.version + 1;

UPDATE calls SET task_id = NULL, attempt_id = NULL
FROM tasks t
WHERE t.id = calls.task_id AND t.workflow_id <> calls.workflow_id;

ALTER TABLE attempts ADD COLUMN workflow_id BIGINT REFERENCES workflows (id);
UPDATE attempts SET workflow_id = t.workflow_id FROM tasks t WHERE t.id = attempts.task_id;
ALTER TABLE attempts ALTER COLUMN workflow_id SET NOT NULL;
ALTER TABLE attempts DROP CONSTRAINT attempts_correlation_id_key;
ALTER TABLE attempts ADD CONSTRAINT attempts_workflow_id_correlation_id_key
    UNIQUE (workflow_id, correlation_id);

DROP INDEX calls_unjoined;
CREATE INDEX calls_unjoined ON calls (workflow_id, correlation_id) WHERE attempt_id IS NULL;
