-- The version of a slice whose figures could not be computed (a sum beyond range): the
-- background refresh skips the slice until its rows change again, instead of failing on it
-- twice a second, and the health check lists it.
ALTER TABLE rollup_dirty ADD COLUMN failed_version BIGINT NOT NULL DEFAULT 0;
