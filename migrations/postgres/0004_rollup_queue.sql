-- (workflow, day) slices whose rollups are behind their raw rows. Ingestion marks slices in the
-- transaction that stores a batch; a background refresh recomputes each marked slice once for
-- however many batches touched it, and removes the mark only if no batch re-marked it since.
CREATE TABLE rollup_dirty (
    workflow_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    marked_at BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, day)
);
