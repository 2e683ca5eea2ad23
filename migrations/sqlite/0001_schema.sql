-- Finishline schema. Same logical schema as migrations/postgres/0001_schema.sql.
-- Conventions: every *_at column is milliseconds since the Unix epoch (UTC); every *_micros
-- column is integer micro-dollars; *_bp columns are basis points (10000 = 100%); JSON documents
-- are stored as TEXT so both backends read them the same way.

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    labour_rate_micros_per_hour BIGINT NOT NULL CHECK (labour_rate_micros_per_hour >= 0),
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'owner', 'finance', 'reviewer')),
    can_edit_costs BOOLEAN NOT NULL DEFAULT FALSE,
    is_demo BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE user_teams (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_address ON login_attempts (address, at);

CREATE TABLE workflows (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    team_id BIGINT NOT NULL REFERENCES teams (id),
    description TEXT NOT NULL DEFAULT '',
    budget_cpst_micros BIGINT NOT NULL CHECK (budget_cpst_micros >= 0),
    quality_target_bp BIGINT NOT NULL CHECK (quality_target_bp BETWEEN 0 AND 10000),
    gate_window_days BIGINT NOT NULL CHECK (gate_window_days BETWEEN 1 AND 365),
    gate_min_sample BIGINT NOT NULL CHECK (gate_min_sample >= 1),
    drift_tolerance_bp BIGINT NOT NULL CHECK (drift_tolerance_bp >= 0),
    autonomy_level BIGINT NOT NULL DEFAULT 0 CHECK (autonomy_level BETWEEN 0 AND 3),
    review_sampling_bp BIGINT NOT NULL DEFAULT 500 CHECK (review_sampling_bp BETWEEN 0 AND 10000),
    second_grader_bp BIGINT NOT NULL DEFAULT 0 CHECK (second_grader_bp BETWEEN 0 AND 10000),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE task_types (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    user_goal TEXT NOT NULL,
    pass_condition TEXT NOT NULL,
    review_method TEXT NOT NULL CHECK (review_method IN ('automatic', 'human', 'both')),
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, slug)
);

-- Risk or customer segments a task type is split by ("billing", "enterprise").
CREATE TABLE task_type_segments (
    task_type_id BIGINT NOT NULL REFERENCES task_types (id) ON DELETE CASCADE,
    segment TEXT NOT NULL,
    PRIMARY KEY (task_type_id, segment)
);

-- Versioned success rules: a change is a new row with a later effective_from, never an update.
CREATE TABLE success_rules (
    id INTEGER PRIMARY KEY,
    task_type_id BIGINT NOT NULL REFERENCES task_types (id) ON DELETE CASCADE,
    version BIGINT NOT NULL CHECK (version >= 1),
    definition TEXT NOT NULL,
    effective_from BIGINT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (task_type_id, version)
);

-- A configuration (prompt, model, tool set) that metrics compare: a baseline.
CREATE TABLE config_versions (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    first_seen_at BIGINT NOT NULL,
    UNIQUE (workflow_id, label)
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    task_type_id BIGINT REFERENCES task_types (id),
    team_id BIGINT NOT NULL REFERENCES teams (id),
    config_version_id BIGINT REFERENCES config_versions (id),
    segment TEXT NOT NULL DEFAULT '',
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    -- What the sending system said happened.
    reported_status TEXT NOT NULL
        CHECK (reported_status IN ('running', 'completed', 'failed', 'escalated', 'abandoned')),
    -- The verdict under the success rule in force, kept current as evidence arrives.
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'succeeded', 'assisted', 'failed', 'escalated', 'abandoned')),
    status_rule_id BIGINT REFERENCES success_rules (id),
    status_reason TEXT NOT NULL DEFAULT '',
    pending_until BIGINT,
    escalation_reason TEXT,
    review_seconds BIGINT NOT NULL DEFAULT 0 CHECK (review_seconds >= 0),
    input_summary TEXT NOT NULL DEFAULT '',
    output TEXT,
    expected TEXT,
    checks TEXT,
    metrics TEXT,
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workflow_id, external_id)
);
CREATE INDEX tasks_workflow_started ON tasks (workflow_id, started_at);
CREATE INDEX tasks_status_pending ON tasks (status, pending_until);

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    number BIGINT NOT NULL CHECK (number >= 1),
    correlation_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    content_hash TEXT NOT NULL,
    UNIQUE (task_id, number)
);

-- Dated price book: the entry in force at a call's time prices it.
CREATE TABLE prices (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_micros_per_mtok BIGINT NOT NULL CHECK (input_micros_per_mtok >= 0),
    output_micros_per_mtok BIGINT NOT NULL CHECK (output_micros_per_mtok >= 0),
    cache_read_micros_per_mtok BIGINT NOT NULL CHECK (cache_read_micros_per_mtok >= 0),
    cache_write_micros_per_mtok BIGINT NOT NULL CHECK (cache_write_micros_per_mtok >= 0),
    reasoning_micros_per_mtok BIGINT NOT NULL CHECK (reasoning_micros_per_mtok >= 0),
    effective_from BIGINT NOT NULL,
    effective_to BIGINT,
    source TEXT NOT NULL DEFAULT '',
    checked_on TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (provider, model, effective_from)
);

-- One model call, tool call or retrieval inside a task attempt. task_id and attempt_id are
-- filled in when the attempt with this correlation id is known (calls may arrive first).
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    correlation_id TEXT NOT NULL,
    task_id BIGINT REFERENCES tasks (id) ON DELETE SET NULL,
    attempt_id BIGINT REFERENCES attempts (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('model', 'tool', 'retrieval', 'other')),
    step TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    input_tokens BIGINT NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens BIGINT NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cache_read_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
    cache_write_tokens BIGINT NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
    reasoning_tokens BIGINT NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0),
    reported_cost_micros BIGINT CHECK (reported_cost_micros >= 0),
    cost_micros BIGINT NOT NULL CHECK (cost_micros >= 0),
    cache_read_cost_micros BIGINT NOT NULL DEFAULT 0,
    cache_write_cost_micros BIGINT NOT NULL DEFAULT 0,
    cost_source TEXT NOT NULL CHECK (cost_source IN ('reported', 'priced', 'unpriced', 'rejected')),
    price_id BIGINT REFERENCES prices (id),
    started_at BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),
    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'rejected')),
    error_type TEXT,
    trace_id TEXT,
    span_id TEXT,
    parent_span_id TEXT,
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, external_id)
);
CREATE INDEX calls_correlation ON calls (correlation_id);
CREATE INDEX calls_task ON calls (task_id);
CREATE INDEX calls_workflow_started ON calls (workflow_id, started_at);

-- Late signals about a task. task_id is filled in once the task is known.
CREATE TABLE outcome_events (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    task_external_id TEXT NOT NULL,
    task_id BIGINT REFERENCES tasks (id) ON DELETE CASCADE,
    kind TEXT NOT NULL
        CHECK (kind IN ('resolved', 'reopened', 'reconciled', 'accepted', 'rejected')),
    occurred_at BIGINT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, external_id)
);
CREATE INDEX outcome_events_task ON outcome_events (task_id);
CREATE INDEX outcome_events_pending ON outcome_events (workflow_id, task_external_id);

-- Tasks waiting for (or given) a human grade. slot 2 is the second grader for agreement.
CREATE TABLE review_queue (
    id INTEGER PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    slot BIGINT NOT NULL CHECK (slot IN (1, 2)),
    reason TEXT NOT NULL CHECK (reason IN ('sampled', 'forced', 'second_grader')),
    enqueued_at BIGINT NOT NULL,
    claimed_by BIGINT REFERENCES users (id),
    claimed_at BIGINT,
    done_at BIGINT,
    UNIQUE (task_id, slot)
);
CREATE INDEX review_queue_open ON review_queue (done_at, enqueued_at);

CREATE TABLE grades (
    id INTEGER PRIMARY KEY,
    external_id TEXT,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    reviewer_id BIGINT REFERENCES users (id),
    -- Who graded: 'user:<id>' for people in the app, the sender's reviewer name for the API.
    grader TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'assisted', 'fail')),
    edit_severity TEXT NOT NULL CHECK (edit_severity IN ('none', 'cosmetic', 'factual')),
    review_seconds BIGINT NOT NULL CHECK (review_seconds >= 0),
    note TEXT NOT NULL DEFAULT '',
    graded_at BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    UNIQUE (task_id, grader)
);

-- Fixed monthly costs (hosting, vector database, licences) allocated to a workflow or a team.
CREATE TABLE platform_costs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    workflow_id BIGINT REFERENCES workflows (id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams (id) ON DELETE CASCADE,
    monthly_micros BIGINT NOT NULL CHECK (monthly_micros >= 0),
    effective_from BIGINT NOT NULL,
    effective_to BIGINT,
    created_at BIGINT NOT NULL,
    CHECK ((workflow_id IS NULL) <> (team_id IS NULL))
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- A key may write only for the teams and workflows it is scoped to.
CREATE TABLE api_key_scopes (
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams (id) ON DELETE CASCADE,
    workflow_id BIGINT REFERENCES workflows (id) ON DELETE CASCADE,
    CHECK ((workflow_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX api_key_scopes_key ON api_key_scopes (api_key_id);

-- Append-only record of every change to what the numbers depend on.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE gate_evaluations (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    evaluated_at BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    sample BIGINT NOT NULL,
    successes BIGINT NOT NULL,
    cpst_micros BIGINT,
    previous_cpst_micros BIGINT,
    quality_proven BOOLEAN NOT NULL,
    cost_proven BOOLEAN NOT NULL,
    evidence TEXT NOT NULL
);
CREATE INDEX gate_evaluations_workflow ON gate_evaluations (workflow_id, evaluated_at);

CREATE TABLE autonomy_changes (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    from_level BIGINT NOT NULL,
    to_level BIGINT NOT NULL,
    changed_by BIGINT REFERENCES users (id),
    gate_evaluation_id BIGINT REFERENCES gate_evaluations (id),
    changed_at BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);

-- Daily per-task aggregates, maintained on ingest and on late outcomes and grades. Zero and ''
-- stand for "none" so that the key is unique on both backends.
CREATE TABLE task_rollups (
    day BIGINT NOT NULL,
    workflow_id BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    task_type_id BIGINT NOT NULL,
    segment TEXT NOT NULL,
    config_version_id BIGINT NOT NULL,
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
    review_seconds BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (day, workflow_id, team_id, task_type_id, segment, config_version_id, status)
);

-- Daily per-model call aggregates, for the procurement comparison and step/model breakdowns.
CREATE TABLE call_rollups (
    day BIGINT NOT NULL,
    workflow_id BIGINT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    step TEXT NOT NULL,
    calls BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_micros BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    PRIMARY KEY (day, workflow_id, provider, model, step)
);

-- Progress of command-line imports, so an interrupted import resumes where it stopped.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_hash TEXT NOT NULL UNIQUE,
    rows_done BIGINT NOT NULL DEFAULT 0,
    accepted BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
