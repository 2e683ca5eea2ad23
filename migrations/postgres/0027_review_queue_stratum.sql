-- Every batch that finishes tasks counts, per stratum, the tasks sampled for review in the gate
-- window. That count joined each sampled queue item of the window, of every workflow, with its
-- task: it grew with the window's samples (5 ms a batch at 40,000 tasks a day). Each queue item
-- now carries the stratum its task was in when it was queued, and the count reads one index
-- range. A task counts toward the stratum it was sampled in.
ALTER TABLE review_queue ADD COLUMN workflow_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE review_queue ADD COLUMN task_type_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE review_queue ADD COLUMN segment TEXT NOT NULL DEFAULT '';
UPDATE review_queue q SET workflow_id = t.workflow_id, task_type_id = COALESCE(t.task_type_id, 0),
    segment = t.segment
FROM tasks t WHERE t.id = q.task_id;
DROP INDEX review_queue_sampled;
CREATE INDEX review_queue_stratum ON review_queue (workflow_id, task_type_id, segment, enqueued_at)
    WHERE slot = 1 AND reason = 'sampled';
