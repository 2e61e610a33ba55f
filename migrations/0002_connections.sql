-- Integration connections, the OAuth flows that create or re-authorize them, and the intents
-- that depend on them. Timestamps are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE connections (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  provider TEXT NOT NULL CHECK (provider IN ('github', 'slack', 'notion', 'linear', 'trello')),
  name TEXT NOT NULL,

  status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'error', 'revoked')),
  status_reason TEXT,
  status_changed_at INTEGER NOT NULL,
  last_error TEXT,
  last_error_insight_id TEXT,           -- the insight whose delivery failed (insights arrive later)
  last_error_at INTEGER,

  -- The provider account behind the tokens.
  account_id TEXT NOT NULL,
  account_label TEXT NOT NULL,          -- what people recognise: login, team name, workspace name…
  account_url TEXT,
  identity_json TEXT NOT NULL DEFAULT '{}',
  scopes TEXT NOT NULL DEFAULT '',      -- granted scopes, space-separated

  -- Every token is AES-256-GCM encrypted (v1.<key id>.<iv>.<ciphertext>), bound to this row and field.
  access_token_ct TEXT NOT NULL,
  refresh_token_ct TEXT,
  token_secret_ct TEXT,                 -- OAuth 1.0a token secret (Trello)
  access_token_expires_at INTEGER,
  refresh_token_expires_at INTEGER,
  token_version INTEGER NOT NULL DEFAULT 1,
  authorized_at INTEGER NOT NULL,
  last_refreshed_at INTEGER,

  config_json TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_used_at INTEGER,

  UNIQUE (workspace_id, name)
);
CREATE INDEX connections_by_workspace_provider ON connections (workspace_id, provider, name);
CREATE INDEX connections_by_workspace_status ON connections (workspace_id, status, name);
CREATE INDEX connections_by_workspace_last_used ON connections (workspace_id, last_used_at);

-- A pending authorization: single use, bound to the session that started it, 10 minutes.
CREATE TABLE oauth_flows (
  id TEXT PRIMARY KEY NOT NULL,         -- SHA-256 of the state sent to the provider
  provider TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('new', 'reauthorize')),
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  connection_id TEXT REFERENCES connections(id) ON DELETE CASCADE,
  connection_name TEXT,
  code_verifier_ct TEXT,                -- PKCE verifier, encrypted
  request_token TEXT,                   -- OAuth 1.0a request token (Trello)
  request_token_secret_ct TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);
CREATE INDEX oauth_flows_by_request_token ON oauth_flows (request_token);

-- Re-authorizing as a different provider account waits here for an explicit confirmation.
CREATE TABLE pending_reauthorizations (
  id TEXT PRIMARY KEY NOT NULL,
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  tokens_ct TEXT NOT NULL,              -- the new token set, encrypted as one JSON document
  identity_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Intents deliver insights through a connection; a connection cannot be deleted under them.
CREATE TABLE intents (
  id TEXT PRIMARY KEY NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE RESTRICT,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  overrides_json TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
CREATE INDEX intents_by_connection ON intents (connection_id);
