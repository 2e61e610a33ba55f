// The statements the connections index page runs, as Kysely compiles them in the app
// (app/lib/accounts/sessions.server.ts, workspaces.server.ts, connections/repository.server.ts).
// The bare baseline Worker runs exactly these; test/bench/pages.bench.ts fails the benchmark
// when the app's index page stops running the same ones, so the baseline cannot drift.
// (A module of its own: a Worker's main module may export only handlers.)

export const SESSION_SQL =
  'select "s"."id", "s"."expires_at", "u"."id" as "user_id", "u"."email", "w"."id" as "workspace_id", "w"."name" as "workspace_name", "m"."role" from "sessions" as "s" inner join "users" as "u" on "u"."id" = "s"."user_id" left join "memberships" as "m" on "m"."workspace_id" = "s"."workspace_id" and "m"."user_id" = "s"."user_id" left join "workspaces" as "w" on "w"."id" = "m"."workspace_id" where "s"."id" = ? and "s"."expires_at" > ?';
export const WORKSPACES_SQL =
  'select "w"."id", "w"."name", "m"."role" from "memberships" as "m" inner join "workspaces" as "w" on "w"."id" = "m"."workspace_id" where "m"."user_id" = ? order by "w"."name", "w"."id"';
export const PAGE_SQL =
  'with "page" as (select "c"."id", "c"."name", "c"."provider", "c"."status", "c"."disabled_at", "c"."account_label", "c"."last_used_at", "c"."access_token_expires_at", "c"."refresh_token_expires_at", c.refresh_token_ct is not null as "has_refresh_token" from "connections" as "c" where "c"."workspace_id" = ? order by "c"."name" limit ? offset ?) select "page".*, (select count(*) as "n" from "intents" as "i" where "i"."connection_id" = "page"."id") as "intent_count" from "page"';
export const COUNT_SQL = 'select count(*) as "n" from "connections" as "c" where "c"."workspace_id" = ?';
export const ATTENTION_SQL = 'select count(*) as "n" from "connections" where "workspace_id" = ? and "status_rank" < ?';

/** What one request to the index page runs, in order. */
export const INDEX_STATEMENTS = [SESSION_SQL, WORKSPACES_SQL, PAGE_SQL, COUNT_SQL, ATTENTION_SQL];
