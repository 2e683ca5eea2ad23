-- Accounts and audit for sign-in, roles and team scope.

-- An account created with a generated password must choose its own before anything else.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- Cross-site requests are refused by an Origin check (plus SameSite cookies), so sessions
-- carry no token of their own.
ALTER TABLE sessions DROP COLUMN csrf_token;
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- The team an entry concerns, when it concerns exactly one: owners see their teams' entries.
ALTER TABLE audit_log ADD COLUMN team_id BIGINT REFERENCES teams (id);
CREATE INDEX audit_log_team ON audit_log (team_id, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
