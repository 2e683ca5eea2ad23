-- Alerts: rules that watch a workflow or a team, the alerts they raise and the deliveries of
-- those alerts (an outbox, written in the transaction that fires or resolves an alert, so a
-- crash between the two can neither lose a notification nor send it twice).
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    workflow_id BIGINT REFERENCES workflows (id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('cpst_over_budget', 'cpst_regression', 'success_drop',
                                       'spend_budget', 'gate_turned', 'escalation_surge')),
    window_days BIGINT NOT NULL CHECK (window_days IN (1, 7, 30)),
    min_tasks BIGINT NOT NULL CHECK (min_tasks BETWEEN 1 AND 1000000),
    -- Spend budgets only: the month's budget and the shares of it that raise the alert.
    monthly_budget_micros BIGINT CHECK (monthly_budget_micros > 0),
    thresholds TEXT NOT NULL DEFAULT '',
    webhook_url TEXT,
    webhook_format TEXT NOT NULL DEFAULT 'json' CHECK (webhook_format IN ('json', 'slack')),
    webhook_secret TEXT,
    -- Roles of the subject's team who receive the alert by email: comma-separated.
    email_roles TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last evaluation: when, and what it found in words (quiet or firing).
    checked_at BIGINT,
    last_finding TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((workflow_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX alert_rules_workflow ON alert_rules (workflow_id);
CREATE INDEX alert_rules_team ON alert_rules (team_id);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    rule_version BIGINT NOT NULL,
    workflow_id BIGINT REFERENCES workflows (id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    fired_at BIGINT NOT NULL,
    checked_at BIGINT NOT NULL,
    -- Spend budgets: the highest share of the budget reached, in basis points.
    level_bp BIGINT NOT NULL DEFAULT 0,
    headline TEXT NOT NULL,
    cause TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    figures TEXT NOT NULL DEFAULT '{}',
    acknowledged_at BIGINT,
    acknowledged_by BIGINT REFERENCES users (id),
    acknowledged_note TEXT NOT NULL DEFAULT '',
    resolved_at BIGINT,
    resolution TEXT NOT NULL DEFAULT ''
);
-- At most one open alert per rule, whichever server evaluates it.
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id) WHERE resolved_at IS NULL;
CREATE INDEX alerts_fired ON alerts (fired_at);
CREATE INDEX alerts_workflow ON alerts (workflow_id, resolved_at);

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    alert_id BIGINT REFERENCES alerts (id) ON DELETE CASCADE,
    event TEXT NOT NULL CHECK (event IN ('fired', 'raised', 'resolved', 'test')),
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- When the next attempt is due; NULL once delivered or given up.
    next_attempt_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    gave_up_at BIGINT,
    last_outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at);
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);

CREATE TABLE alert_delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES alert_deliveries (id) ON DELETE CASCADE,
    attempted_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX alert_delivery_attempts_delivery ON alert_delivery_attempts (delivery_id);
