-- A workflow's slug is unique within its team, no longer across the installation: an owner who
-- picks a slug another team uses is not refused, so nobody learns what other teams call their
-- workflows. Outside a team a workflow is named `team:slug` where its slug alone would be
-- ambiguous.
--
-- The old column's UNIQUE constraint cannot be dropped on SQLite without rebuilding the table,
-- which foreign keys make unsafe inside a migration's transaction. So the old column becomes
-- the key that carries the new rule, `<team id>/<slug>` (unique, and therefore slugs unique per
-- team), and the slug moves to a new column. Both backends keep the same shape.
ALTER TABLE workflows RENAME COLUMN slug TO team_slug_key;
ALTER TABLE workflows ADD COLUMN slug TEXT NOT NULL DEFAULT '';
UPDATE workflows SET slug = team_slug_key, team_slug_key = CAST(team_id AS TEXT) || '/' || team_slug_key;
