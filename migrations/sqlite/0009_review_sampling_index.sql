-- Sampling a finished task counts the tasks of its stratum sampled in the gate window. Read
-- from the tasks side, that count visited every task the workflow ever had; this index lets it
-- start from the window's sampled queue items instead.
CREATE INDEX review_queue_sampled ON review_queue (enqueued_at, task_id) WHERE slot = 1 AND reason = 'sampled';
