-- Proactive connection health (docs/decisions/017-connection-health.md): every active or erroring
-- connection is checked on a schedule, tokens that never expire included; a connection can be
-- disabled without being deleted; refresh outages are counted with backoff.

-- Disabled connections hold their deliveries (neither sent nor failed) and are not checked.
ALTER TABLE connections ADD COLUMN disabled_at INTEGER;

-- The last health check: when, what it found, how long the provider took, and what it said.
ALTER TABLE connections ADD COLUMN health_checked_at INTEGER;
ALTER TABLE connections ADD COLUMN health_outcome TEXT
  CHECK (health_outcome IN ('ok', 'revoked', 'expired', 'unreachable', 'other_account', 'unreadable'));
ALTER TABLE connections ADD COLUMN health_latency_ms INTEGER;
ALTER TABLE connections ADD COLUMN health_message TEXT;
-- When the next check is due; the cron takes the earliest few each run (and pushes them ahead
-- while their check is on the queue). Null while nothing is to be checked: revoked, expired or
-- disabled connections.
ALTER TABLE connections ADD COLUMN health_due_at INTEGER;

-- Refreshes that failed for reasons other than a refusal (outages), since when, and when to try again.
ALTER TABLE connections ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN refresh_failing_since INTEGER;
ALTER TABLE connections ADD COLUMN refresh_retry_at INTEGER;

-- Existing connections: first checks spread over the next six hours.
UPDATE connections
SET health_due_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + (abs(random()) % 21600000)
WHERE status IN ('active', 'error');

-- The cron's pick, earliest due first. Partial: revoked, expired and disabled connections have
-- no due time and cost nothing, however many there are.
CREATE INDEX connections_health_due ON connections (health_due_at) WHERE health_due_at IS NOT NULL;

-- Deliveries through a disabled connection wait here until it is enabled again.
ALTER TABLE deliveries ADD COLUMN held_at INTEGER;
CREATE INDEX deliveries_held ON deliveries (connection_id, held_at) WHERE held_at IS NOT NULL;

PRAGMA optimize;
