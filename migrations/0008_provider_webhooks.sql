-- Provider-pushed revocation (docs/decisions/015-provider-pushed-revocation.md): a provider's
-- webhook names accounts, not workspaces, so connections are found by the account they hold in
-- any workspace; each signed delivery is received once.

-- The provider-side organization of the account (a Slack team, a Linear organization), for
-- revocations of a whole one (Slack's app_uninstalled, Linear's OAuthApp revoked).
ALTER TABLE connections ADD COLUMN account_organization_id TEXT;

-- Rows written before this migration kept it only in their identity details.
UPDATE connections SET account_organization_id = json_extract(identity_json, '$.team_id')
WHERE provider = 'slack' AND json_valid(identity_json);
UPDATE connections SET account_organization_id = json_extract(identity_json, '$.organization_id')
WHERE provider = 'linear' AND json_valid(identity_json);

CREATE INDEX connections_by_provider_account ON connections (provider, account_id);
CREATE INDEX connections_by_provider_organization ON connections (provider, account_organization_id)
  WHERE account_organization_id IS NOT NULL;

CREATE TABLE provider_webhook_receipts (
  provider TEXT NOT NULL,
  replay_key TEXT NOT NULL,             -- SHA-256 (hex) of the delivery's signature, or of GitHub's delivery id
  received_at INTEGER NOT NULL,
  keep_until INTEGER NOT NULL,          -- after this a replay fails the provider's freshness check anyway
  PRIMARY KEY (provider, replay_key)
);
CREATE INDEX provider_webhook_receipts_by_age ON provider_webhook_receipts (keep_until);
