-- Config pickers (docs/decisions/023-config-pickers.md): what a provider listed for one config
-- field of a connection (its repositories, a repository's labels, a team's states…), kept a few
-- minutes so a page view does not call the provider. `parent` is the value a dependent list was
-- asked for ('' for top-level lists); `account_id` is the provider account that listed it, so a
-- connection re-authorized as another account never shows the old account's choices.

CREATE TABLE provider_choices (
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  field TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  account_id TEXT NOT NULL,
  choices_json TEXT NOT NULL,
  truncated INTEGER NOT NULL DEFAULT 0,
  fetched_at INTEGER NOT NULL,
  PRIMARY KEY (connection_id, field, parent)
) WITHOUT ROWID;

-- Pruning stale lists scans by age.
CREATE INDEX provider_choices_by_age ON provider_choices (fetched_at);
