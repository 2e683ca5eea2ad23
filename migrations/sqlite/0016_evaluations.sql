-- Evaluation results: automatic judgements of a task's output (an LLM judge's faithfulness
-- score, a classifier's resolution label) sent as OpenTelemetry `gen_ai.evaluation.result`
-- events or in a batch. Like outcome events they may arrive before their task and wait under
-- the task's sender id; success rules read the latest result of each name.
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    task_external_id TEXT NOT NULL,
    task_id BIGINT REFERENCES tasks (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- A score is a judgement, not money: a floating-point number is what evaluators send.
    score DOUBLE PRECISION,
    label TEXT,
    explanation TEXT NOT NULL DEFAULT '',
    evaluated_at BIGINT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (score IS NOT NULL OR label IS NOT NULL),
    UNIQUE (workflow_id, external_id)
);
CREATE INDEX evaluations_task ON evaluations (task_id);
CREATE INDEX evaluations_pending ON evaluations (workflow_id, task_external_id);
