import * as v from "valibot";
import type { Db } from "../platform/db.server";
import type { ConnectionRow } from "../platform/schema";
import { providerContext } from "../platform/settings.server";
import { describeProviderError, isAuthFailure, isTransient, ProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { Choice, ChoiceList, ChoiceSource, ProviderModule } from "../providers/types";
import { budgetWaitUntil } from "./rate-budget.server";
import { withTokens, type VaultDeps } from "./vault.server";

/**
 * Config pickers (decision 023): the choices a provider offers for a connection's config fields
 * (its repositories, a repository's labels, a team's workflow states…), listed through the
 * connection's token and kept in D1 for a few minutes, so a page view does not call the provider.
 */

/** How long a listing is shown without asking the provider again. */
export const CHOICES_FRESH_MS = 10 * 60_000;
/** Listings are kept this long at most (pruned by the cron); stale ones still help when the provider cannot be asked. */
export const CHOICES_KEPT_MS = 24 * 60 * 60_000;
/** At most this many entries per list, following the provider's pagination. */
export const CHOICES_LIMIT = 1_000;
/** "Refresh from provider" within this long of the last listing answers from the cache. */
export const REFRESH_FLOOR_MS = 10_000;

export type FieldChoices =
  | {
      state: "listed";
      choices: Choice[];
      /** The provider has more than CHOICES_LIMIT: the rest can be typed by hand. */
      truncated: boolean;
      fetchedAt: number;
      /** Why a stale listing is shown: the provider could not be asked just now. */
      stale?: string;
    }
  /** A dependent field whose parent (repository, team, board, database) is not chosen yet. */
  | { state: "needs-parent"; parentField: string }
  /** The provider could not be asked, and nothing was listed before. */
  | { state: "unavailable"; reason: string };

export interface ChoicesRequest {
  /** The config being edited (saved values, or the draft from the page's address). */
  config: Record<string, unknown>;
  /** Only these fields (e.g. an intent's overridable ones); all fields with a source when absent. */
  fields?: string[];
  /** "Refresh from provider": list again unless listed in the last few seconds. */
  refresh?: boolean;
  now?: number;
}

interface Wanted {
  field: string;
  source: ChoiceSource;
  parent: string;
}

/** Every picker's choices for one connection: one read of the cache, provider calls only for what is missing or stale. */
export async function loadChoices(
  deps: VaultDeps,
  connection: ConnectionRow,
  request: ChoicesRequest,
): Promise<Record<string, FieldChoices>> {
  const now = request.now ?? Date.now();
  const provider = getProvider(connection.provider);
  const result: Record<string, FieldChoices> = {};
  const wanted: Wanted[] = [];
  for (const [field, source] of Object.entries(provider.choices ?? {})) {
    if (request.fields && !request.fields.includes(field)) continue;
    const parent = source.dependsOn ? request.config[source.dependsOn] : "";
    // A parent the provider's own schema refuses (`owner/..`) is never put in a provider URL.
    if (typeof parent !== "string" || (source.dependsOn && !validParent(provider, source.dependsOn, parent))) {
      result[field] = { state: "needs-parent", parentField: source.dependsOn ?? "" };
      continue;
    }
    wanted.push({ field, source, parent });
  }
  if (!wanted.length) return result;

  const cached = await readCached(deps.db, connection, wanted);
  const due = wanted.filter(({ field, parent }) => {
    const row = cached.get(key(field, parent));
    if (!row) return true;
    return now - row.fetchedAt >= (request.refresh ? REFRESH_FLOOR_MS : CHOICES_FRESH_MS);
  });
  const listed = due.length ? await listFromProvider(deps, connection, provider, due) : { lists: new Map<string, ChoiceList | string>() };

  const writes: Promise<unknown>[] = [];
  for (const { field, parent } of wanted) {
    const fresh = listed.lists.get(key(field, parent));
    const row = cached.get(key(field, parent));
    if (fresh && typeof fresh !== "string") {
      result[field] = { state: "listed", choices: fresh.choices, truncated: fresh.truncated, fetchedAt: now };
      writes.push(writeCached(deps.db, connection, field, parent, fresh, now));
      continue;
    }
    const reason = typeof fresh === "string" ? fresh : "reason" in listed ? listed.reason : undefined;
    if (row) result[field] = { state: "listed", choices: row.choices, truncated: row.truncated, fetchedAt: row.fetchedAt, stale: reason };
    else result[field] = { state: "unavailable", reason: reason ?? `${provider.name} could not be asked` };
  }
  await Promise.all(writes);
  return result;
}

function validParent(provider: ProviderModule, field: string, value: string) {
  return value !== "" && v.safeParse(provider.configSchema, { [field]: value }).success;
}

function key(field: string, parent: string) {
  return `${field}\u0000${parent}`;
}

async function readCached(db: Db, connection: ConnectionRow, wanted: Wanted[]) {
  const rows = await db
    .selectFrom("provider_choices")
    .select(["field", "parent", "choices_json", "truncated", "fetched_at"])
    .where("connection_id", "=", connection.id)
    .where("account_id", "=", connection.account_id)
    .where((eb) => eb.or(wanted.map(({ field, parent }) => eb.and([eb("field", "=", field), eb("parent", "=", parent)]))))
    .execute();
  const cached = new Map<string, { choices: Choice[]; truncated: boolean; fetchedAt: number }>();
  for (const row of rows) {
    cached.set(key(row.field, row.parent), {
      choices: JSON.parse(row.choices_json) as Choice[],
      truncated: row.truncated === 1,
      fetchedAt: row.fetched_at,
    });
  }
  return cached;
}

function writeCached(db: Db, connection: ConnectionRow, field: string, parent: string, list: ChoiceList, now: number) {
  const values = {
    choices_json: JSON.stringify(list.choices),
    truncated: list.truncated ? 1 : 0,
    fetched_at: now,
    account_id: connection.account_id,
  };
  return db
    .insertInto("provider_choices")
    .values({ connection_id: connection.id, field, parent, ...values })
    .onConflict((conflict) => conflict.columns(["connection_id", "field", "parent"]).doUpdateSet(values))
    .execute();
}

/**
 * Lists what is due through one use of the token vault. A list the provider refuses (a repository
 * the account cannot see any more) is that field's reason; a refused token or an outage is every
 * field's reason.
 */
async function listFromProvider(
  deps: VaultDeps,
  connection: ConnectionRow,
  provider: ProviderModule,
  due: Wanted[],
): Promise<{ lists: Map<string, ChoiceList | string>; reason?: string }> {
  const lists = new Map<string, ChoiceList | string>();
  const context = providerContext(deps.settings, connection.provider);
  const blocked = !context
    ? `${provider.name} is not configured on this server`
    : connection.disabled_at !== null
      ? "the connection is disabled"
      : connection.status === "revoked" || connection.status === "expired"
        ? `the connection is ${connection.status}: re-authorize it first`
        : budgetWaitUntil(connection, Date.now()) !== null
          ? `${provider.name}'s rate limit is spent for now`
          : null;
  if (blocked || !context) return { lists, reason: blocked ?? undefined };
  const called = await withTokens(deps, connection, async (tokens) => {
    for (const { field, source, parent } of due) {
      try {
        lists.set(key(field, parent), await source.list(context, tokens, { parent: parent || null, limit: CHOICES_LIMIT }));
      } catch (error) {
        // A refused token is the vault's to handle (refresh once, retry); anything else is this list's own answer.
        if (!(error instanceof ProviderError) || isAuthFailure(error)) throw error;
        const said = isTransient(error) ? "could not list them just now" : "refused to list them";
        lists.set(key(field, parent), `${provider.name} ${said} (${describeProviderError(error)})`);
      }
    }
  });
  if (called.ok) return { lists };
  if (called.problem === "provider")
    return { lists, reason: `${provider.name} could not be asked (${describeProviderError(called.error)})` };
  if (called.problem === "unavailable")
    return { lists, reason: `the token could not be refreshed (${describeProviderError(called.error)})` };
  return { lists, reason: called.change.reason ?? "the tokens cannot be used" };
}

/** Drops listings nobody has looked at for a day (cron). */
export async function pruneChoices(db: Db, now = Date.now()) {
  await db
    .deleteFrom("provider_choices")
    .where("fetched_at", "<", now - CHOICES_KEPT_MS)
    .execute();
}
