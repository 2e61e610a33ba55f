-- Config drift (docs/decisions/019-config-drift.md): what a connection's defaults and each
-- intent's effective settings point at (a repository, channel, database, team, list…) is checked
-- against the provider by the scheduled health check. Each row keeps the problems found, as a
-- JSON array of {field, message} (an empty array: checked, nothing wrong; NULL: not checked since
-- the settings last changed), and when.

ALTER TABLE connections ADD COLUMN drift_json TEXT;
ALTER TABLE connections ADD COLUMN drift_checked_at INTEGER;

ALTER TABLE intents ADD COLUMN drift_json TEXT;
ALTER TABLE intents ADD COLUMN drift_checked_at INTEGER;

-- A check takes a connection's intents least recently checked first, a bounded number per run.
CREATE INDEX intents_by_connection_drift ON intents (connection_id, drift_checked_at);
