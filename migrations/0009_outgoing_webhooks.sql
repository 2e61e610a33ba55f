-- Outgoing webhooks: endpoints a workspace registers, the events recorded for them (an outbox
-- written in the same D1 batch as the change it describes), one delivery per (event, endpoint)
-- dispatched through the spokedo-webhooks queue, and the per-endpoint delivery log.
-- See docs/decisions/016-outgoing-webhooks.md.

CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  events TEXT NOT NULL,                 -- JSON array of the event types it subscribes to
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  -- The signing secret (whsec_…), shown once; AES-GCM envelope bound to workspace, endpoint, field.
  secret_ct TEXT NOT NULL,
  secret_key_id TEXT NOT NULL,          -- the key the secret is encrypted under (key rotation)
  -- Failure streak: attempts that failed in a row, since when, and until when new attempts wait.
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  failing_since INTEGER,
  backoff_until INTEGER,
  -- Set when SpokeDo disabled the endpoint itself (after failing too long), shown in settings.
  disabled_reason TEXT,
  disabled_at INTEGER,
  last_attempt_at INTEGER,
  last_success_at INTEGER,
  created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace_id, created_at);
CREATE INDEX webhook_endpoints_by_key ON webhook_endpoints (secret_key_id, id);
CREATE INDEX webhook_endpoints_by_creator ON webhook_endpoints (created_by);

-- One row per event; its id is the webhook-id header (the receiver's idempotency key).
CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  data TEXT NOT NULL,                   -- JSON: the payload's `data`
  dedupe_key TEXT,                      -- an event recorded twice with the same key is kept once
  created_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_by_workspace ON webhook_events (workspace_id, created_at);
CREATE INDEX webhook_events_by_age ON webhook_events (created_at);
CREATE UNIQUE INDEX webhook_events_dedupe ON webhook_events (workspace_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- One delivery per (event, endpoint), leased while attempted, like the insight deliveries.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_base INTEGER NOT NULL DEFAULT 0, -- attempts before the current round (a resend starts one)
  next_attempt_at INTEGER NOT NULL,
  enqueued_at INTEGER,                  -- null until a queue message was sent for it
  lease_owner TEXT,
  lease_expires_at INTEGER,
  last_http_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  completed_at INTEGER,
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_unsent ON webhook_deliveries (next_attempt_at) WHERE status = 'pending' AND enqueued_at IS NULL;
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, status);
CREATE INDEX webhook_deliveries_by_workspace ON webhook_deliveries (workspace_id);

-- The delivery log: one row per attempt (status, duration, error, the first KiB of the answer).
CREATE TABLE webhook_attempts (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed')),
  http_status INTEGER,
  duration_ms INTEGER,
  error TEXT,
  response_snippet TEXT
);
-- The log page is a keyset over (at, id), newest first.
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, at, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
CREATE INDEX webhook_attempts_by_workspace ON webhook_attempts (workspace_id);

PRAGMA optimize;
