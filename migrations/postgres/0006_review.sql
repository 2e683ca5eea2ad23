-- The review queue: a reviewer who passes on a task is not offered it again, and the queue is
-- read by workflow and by who holds a claim.

CREATE TABLE review_skips (
    queue_item_id BIGINT NOT NULL REFERENCES review_queue (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skipped_at BIGINT NOT NULL,
    PRIMARY KEY (queue_item_id, user_id)
);

CREATE INDEX review_queue_task ON review_queue (task_id);
CREATE INDEX grades_reviewer ON grades (reviewer_id, task_id);
CREATE INDEX grades_graded_at ON grades (graded_at);
