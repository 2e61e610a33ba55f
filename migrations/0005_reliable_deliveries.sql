-- Deliveries dispatched through Cloudflare Queues, effectively once at the provider, and
-- redeliverable; intents that carry their own failures; idempotent API requests.
-- See docs/decisions/013-deliveries-on-queues.md.

-- Set while an earlier attempt may have reached the provider without us knowing its result (it
-- timed out, its answer was garbled, or its worker died holding the lease): when that attempt
-- started. The next attempt looks the delivery up at the provider before sending anything.
ALTER TABLE deliveries ADD COLUMN unconfirmed_since INTEGER;
-- The attempts made before the current round: a redelivery starts a new round of retries.
ALTER TABLE deliveries ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;

-- Whether the attempt called the provider's create endpoint (0 for attempts decided before any
-- call, and for those that found the item already there).
ALTER TABLE delivery_attempts ADD COLUMN sent INTEGER NOT NULL DEFAULT 1;

-- A failure caused by the intent's own target or fields (a repository it cannot see, a deleted
-- list): shown on the intent, cleared by its next success or by editing it.
ALTER TABLE intents ADD COLUMN attention_reason TEXT;
ALTER TABLE intents ADD COLUMN attention_insight_id TEXT;
ALTER TABLE intents ADD COLUMN attention_at INTEGER;

-- Idempotency-Key on POST /api/v1/insights: the first answer to a key, replayed for 24 hours.
CREATE TABLE api_idempotency_keys (
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,           -- SHA-256 of the request body
  status INTEGER NOT NULL,
  response_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key)
);
CREATE INDEX api_idempotency_keys_by_age ON api_idempotency_keys (created_at);

-- The cron probes connections in error (oldest first), so they heal without a delivery.
CREATE INDEX connections_by_status_since ON connections (status, status_changed_at);
-- Failed deliveries per connection, for "Redeliver N failed deliveries".
CREATE INDEX deliveries_by_connection_status ON deliveries (connection_id, status, completed_at);
-- Foreign keys without an index so far (workspace deletion would scan these tables).
CREATE INDEX deliveries_by_workspace ON deliveries (workspace_id, created_at);
CREATE INDEX oauth_flows_by_workspace ON oauth_flows (workspace_id);
CREATE INDEX pending_reauthorizations_by_workspace ON pending_reauthorizations (workspace_id);
CREATE INDEX api_keys_by_creator ON api_keys (created_by);
-- Keyset pagination of insights orders by (created_at, id).
DROP INDEX insights_by_workspace;
CREATE INDEX insights_by_workspace ON insights (workspace_id, created_at, id);

PRAGMA optimize;
