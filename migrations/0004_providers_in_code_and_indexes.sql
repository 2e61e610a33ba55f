-- 1. Providers are validated in code (the provider registry), no longer pinned by a CHECK on
--    connections.provider, so adding a provider needs no table rebuild. Removing a CHECK needs
--    one, once: see docs/decisions/009-providers-as-declarations.md.
-- 2. Indexes under every foreign key and every list the pages query, so nothing scans a
--    workspace's (or every workspace's) rows.
--
-- D1 cannot turn foreign keys off, and DROP TABLE runs the ON DELETE actions of the tables that
-- reference the dropped one. So every table that references connections (and, through them,
-- deliveries) is rebuilt too: the new tables reference each other's *_new names, the old ones
-- are dropped children first (nothing references them by then), and the renames rewrite the
-- references to the final names.
PRAGMA defer_foreign_keys = on;

CREATE TABLE connections_new (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  provider TEXT NOT NULL,               -- a provider id known to app/lib/providers/registry.ts
  name TEXT NOT NULL,

  status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'error', 'revoked')),
  -- "Problems first": the index's status sort, served by an index instead of a sort.
  status_rank INTEGER GENERATED ALWAYS AS (CASE status WHEN 'error' THEN 0 WHEN 'revoked' THEN 1 WHEN 'expired' THEN 2 ELSE 3 END) VIRTUAL,
  status_reason TEXT,
  status_changed_at INTEGER NOT NULL,
  last_error TEXT,
  last_error_insight_id TEXT,
  last_error_at INTEGER,

  account_id TEXT NOT NULL,
  account_label TEXT NOT NULL,
  account_url TEXT,
  identity_json TEXT NOT NULL DEFAULT '{}',
  scopes TEXT NOT NULL DEFAULT '',

  -- Every token is AES-256-GCM encrypted (v1.<key id>.<iv>.<ciphertext>), bound to this row and field.
  access_token_ct TEXT NOT NULL,
  refresh_token_ct TEXT,
  token_secret_ct TEXT,
  token_key_id TEXT NOT NULL,           -- the key all three are encrypted under (key rotation)
  tokens_unreadable_at INTEGER,         -- set when the tokens could not be decrypted
  access_token_expires_at INTEGER,
  refresh_token_expires_at INTEGER,
  token_version INTEGER NOT NULL DEFAULT 1,
  authorized_at INTEGER NOT NULL,
  last_refreshed_at INTEGER,
  refresh_lease_owner TEXT,
  refresh_lease_expires_at INTEGER,

  config_json TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_used_at INTEGER,

  UNIQUE (workspace_id, name)
);
INSERT INTO connections_new (
  id, workspace_id, provider, name, status, status_reason, status_changed_at, last_error, last_error_insight_id, last_error_at,
  account_id, account_label, account_url, identity_json, scopes, access_token_ct, refresh_token_ct, token_secret_ct, token_key_id,
  access_token_expires_at, refresh_token_expires_at, token_version, authorized_at, last_refreshed_at, refresh_lease_owner,
  refresh_lease_expires_at, config_json, created_at, updated_at, last_used_at
)
SELECT
  id, workspace_id, provider, name, status, status_reason, status_changed_at, last_error, last_error_insight_id, last_error_at,
  account_id, account_label, account_url, identity_json, scopes, access_token_ct, refresh_token_ct, token_secret_ct,
  -- "v1.<key id>.<iv>.<ciphertext>"
  substr(access_token_ct, 4, instr(substr(access_token_ct, 4), '.') - 1),
  access_token_expires_at, refresh_token_expires_at, token_version, authorized_at, last_refreshed_at, refresh_lease_owner,
  refresh_lease_expires_at, config_json, created_at, updated_at, last_used_at
FROM connections;

-- A pending authorization: single use, bound to the session that started it, 10 minutes. What
-- the callback needs back (PKCE verifier, OAuth 1.0a request token and secret) is one encrypted
-- JSON document, whatever the protocol. Flows in progress are not carried over: they are at most
-- 10 minutes old, and starting again is one click.
CREATE TABLE oauth_flows_new (
  id TEXT PRIMARY KEY NOT NULL,         -- SHA-256 of the value the provider echoes (state, oauth_token)
  provider TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('new', 'reauthorize')),
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  connection_id TEXT REFERENCES connections_new(id) ON DELETE CASCADE,
  connection_name TEXT,
  secrets_ct TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

CREATE TABLE pending_reauthorizations_new (
  id TEXT PRIMARY KEY NOT NULL,
  connection_id TEXT NOT NULL REFERENCES connections_new(id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  tokens_ct TEXT NOT NULL,
  identity_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
INSERT INTO pending_reauthorizations_new SELECT id, connection_id, workspace_id, session_id, tokens_ct, identity_json, created_at, expires_at
FROM pending_reauthorizations;

CREATE TABLE intents_new (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  connection_id TEXT NOT NULL REFERENCES connections_new(id) ON DELETE RESTRICT,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  overrides_json TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
INSERT INTO intents_new SELECT id, workspace_id, connection_id, name, enabled, overrides_json, created_at, updated_at FROM intents;

CREATE TABLE deliveries_new (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  insight_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
  intent_id TEXT REFERENCES intents_new(id) ON DELETE SET NULL,
  intent_name TEXT NOT NULL,
  connection_id TEXT REFERENCES connections_new(id) ON DELETE SET NULL,
  connection_name TEXT NOT NULL,
  provider TEXT NOT NULL,
  config_json TEXT NOT NULL,
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
INSERT INTO deliveries_new SELECT
  id, workspace_id, insight_id, intent_id, intent_name, connection_id, connection_name, provider, config_json, status, attempts,
  next_attempt_at, lease_owner, lease_expires_at, idempotency_key, item_id, item_url, created_at, completed_at
FROM deliveries;

CREATE TABLE delivery_attempts_new (
  id TEXT PRIMARY KEY NOT NULL,
  delivery_id TEXT NOT NULL REFERENCES deliveries_new(id) ON DELETE CASCADE,
  insight_id TEXT NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed')),
  http_status INTEGER,
  error_class TEXT CHECK (error_class IN ('user', 'provider', 'config', 'rate_limit')),
  message TEXT,
  item_url TEXT
);
INSERT INTO delivery_attempts_new SELECT id, delivery_id, insight_id, attempt, at, outcome, http_status, error_class, message, item_url
FROM delivery_attempts;

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE intents;
DROP TABLE pending_reauthorizations;
DROP TABLE oauth_flows;
DROP TABLE connections;

ALTER TABLE connections_new RENAME TO connections;
ALTER TABLE oauth_flows_new RENAME TO oauth_flows;
ALTER TABLE pending_reauthorizations_new RENAME TO pending_reauthorizations;
ALTER TABLE intents_new RENAME TO intents;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;

-- connections: the index page's filters and sorts, the cron's refresh and key-rotation picks.
CREATE INDEX connections_by_workspace_provider ON connections (workspace_id, provider, name);
CREATE INDEX connections_by_workspace_status ON connections (workspace_id, status, name);
CREATE INDEX connections_by_workspace_status_rank ON connections (workspace_id, status_rank, name);
CREATE INDEX connections_by_workspace_last_used ON connections (workspace_id, last_used_at DESC, name);
CREATE INDEX connections_by_access_expiry ON connections (access_token_expires_at) WHERE refresh_token_ct IS NOT NULL;
CREATE INDEX connections_by_refresh_expiry ON connections (refresh_token_expires_at) WHERE refresh_token_ct IS NOT NULL;
CREATE INDEX connections_by_key ON connections (token_key_id, id) WHERE tokens_unreadable_at IS NULL;

CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);
CREATE INDEX oauth_flows_by_user ON oauth_flows (user_id, created_at);
CREATE INDEX oauth_flows_by_connection ON oauth_flows (connection_id);

CREATE INDEX pending_reauthorizations_by_connection ON pending_reauthorizations (connection_id, session_id);
CREATE INDEX pending_reauthorizations_by_expiry ON pending_reauthorizations (expires_at);

CREATE INDEX intents_by_connection ON intents (connection_id, name);

CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_insight ON deliveries (insight_id, status);
CREATE INDEX deliveries_by_intent ON deliveries (intent_id);
CREATE INDEX deliveries_by_connection ON deliveries (connection_id, created_at);
CREATE INDEX deliveries_by_connection_completed ON deliveries (connection_id, completed_at, status);

CREATE INDEX delivery_attempts_by_insight ON delivery_attempts (insight_id, at);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id);

-- Tables that were not rebuilt.
CREATE INDEX sessions_by_workspace ON sessions (workspace_id);
CREATE INDEX login_attempts_by_time ON login_attempts (attempted_at);

PRAGMA defer_foreign_keys = off;

-- D1 keeps no statistics until asked: without them the planner can pick the wrong index.
PRAGMA optimize;
