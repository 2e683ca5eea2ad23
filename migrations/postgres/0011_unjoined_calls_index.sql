-- Calls are looked up by correlation id only to join the ones that arrived before their
-- attempt. Most calls arrive with or after it and are joined as they are stored, so the index
-- now holds the unjoined ones alone: every stored call no longer pays for an entry it never
-- needs.
DROP INDEX calls_correlation;
CREATE INDEX calls_unjoined ON calls (correlation_id) WHERE attempt_id IS NULL;
