-- Each task's attributed cost and usage, kept by the rollup refresh (the domain attributes cache
-- writes across tasks, so these are not plain sums of the task's calls). They serve percentiles,
-- the costliest tasks and the task list without re-attributing raw calls on every read.
ALTER TABLE tasks ADD COLUMN model_cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN tool_cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN retry_cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cache_cost_micros BIGINT NOT NULL DEFAULT 0;
-- Review seconds (the task's own and its grades') at the team's loaded hourly rate.
ALTER TABLE tasks ADD COLUMN labour_cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN attempt_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN call_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN token_count BIGINT NOT NULL DEFAULT 0;
-- "provider/model" of the first-attempt model call that cost the most: the model a task ran on.
ALTER TABLE tasks ADD COLUMN primary_model TEXT NOT NULL DEFAULT '';
CREATE INDEX tasks_workflow_status ON tasks (workflow_id, status, started_at);

-- Task rollups gain the primary model as a grouping key. They are derived data: the server
-- rebuilds them from raw rows on start when they are missing.
DROP TABLE task_rollups;
CREATE TABLE task_rollups (
    day BIGINT NOT NULL,
    workflow_id BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    task_type_id BIGINT NOT NULL,
    segment TEXT NOT NULL,
    config_version_id BIGINT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    tasks BIGINT NOT NULL,
    first_attempt_tasks BIGINT NOT NULL,
    within_three_tasks BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    model_cost_micros BIGINT NOT NULL,
    tool_cost_micros BIGINT NOT NULL,
    retry_cost_micros BIGINT NOT NULL,
    cache_cost_micros BIGINT NOT NULL,
    labour_cost_micros BIGINT NOT NULL,
    review_seconds BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (day, workflow_id, team_id, task_type_id, segment, config_version_id, model, status)
);
