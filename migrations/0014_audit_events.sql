-- The audit trail (decision 027): every change a person or an API key makes in a workspace.
-- Append-only: the app never updates a row (a trigger refuses it); rows leave only by the
-- retention prune, after AUDIT_RETENTION_DAYS (400 days), or with their workspace.
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key')),
  actor_id TEXT NOT NULL,
  -- The e-mail or key name when it happened: kept after the user leaves or the key is revoked.
  actor_label TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT,
  object_label TEXT NOT NULL,
  -- {"field": [before, after]} of non-secret settings only.
  changes_json TEXT,
  detail TEXT,
  -- Two-letter country of the request, from Cloudflare's request metadata, when present.
  country TEXT
);
CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, seq);
CREATE INDEX audit_events_by_object ON audit_events (workspace_id, object_id, seq);
CREATE INDEX audit_events_by_actor ON audit_events (workspace_id, actor_id, seq);
CREATE INDEX audit_events_by_action ON audit_events (workspace_id, action, seq);
CREATE INDEX audit_events_by_time ON audit_events (at);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;
