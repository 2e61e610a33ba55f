-- Insights, their deliveries (a durable outbox in D1) and the integration log, plus the
-- workspace API keys that create insights over HTTP.

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,        -- SHA-256 (hex) of the key; the key itself is shown once
  prefix TEXT NOT NULL,                 -- first characters, to recognise a key in lists
  created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE insights (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('form', 'api')),
  created_at INTEGER NOT NULL
);
CREATE INDEX insights_by_workspace ON insights (workspace_id, created_at);

-- One delivery per (insight, intent). Claimed with a lease so a worker that dies mid-delivery
-- loses nothing: an expired lease makes the delivery due again.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  insight_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
  intent_id TEXT REFERENCES intents(id) ON DELETE SET NULL,
  intent_name TEXT NOT NULL,
  connection_id TEXT REFERENCES connections(id) ON DELETE SET NULL,
  connection_name TEXT NOT NULL,
  provider TEXT NOT NULL,
  config_json TEXT NOT NULL,            -- the effective config when the insight was created
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at INTEGER,
  idempotency_key TEXT NOT NULL,
  item_id TEXT,
  item_url TEXT,
  created_at INTEGER NOT NULL,
  completed_at INTEGER,
  UNIQUE (insight_id, intent_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_connection ON deliveries (connection_id, created_at);

-- The integration log: one row per attempt, as the provider phrased it (secrets scrubbed).
CREATE TABLE delivery_attempts (
  id TEXT PRIMARY KEY NOT NULL,
  delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  insight_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed')),
  http_status INTEGER,
  error_class TEXT CHECK (error_class IN ('user', 'provider', 'config', 'rate_limit')),
  message TEXT,
  item_url TEXT
);
CREATE INDEX delivery_attempts_by_insight ON delivery_attempts (insight_id, at);

-- One token refresh per connection at a time, across requests and isolates: a lease taken by a
-- conditional UPDATE (see app/lib/token-refresh.server.ts).
ALTER TABLE connections ADD COLUMN refresh_lease_owner TEXT;
ALTER TABLE connections ADD COLUMN refresh_lease_expires_at INTEGER;
