-- A slice's row now stays: `version` counts the changes to its raw rows and `refreshed_version`
-- says which of them its stored figures reflect, so that a refresh reading a slice outside the
-- writer's turn can tell whether newer figures were stored meanwhile. Existing rows are marks:
-- their figures are behind.
ALTER TABLE rollup_dirty ADD COLUMN refreshed_version BIGINT NOT NULL DEFAULT 0;
