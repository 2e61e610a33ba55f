// The baseline for the connections index page: a bare Worker that does the page's D1 work and
// nothing else. Same statements as the app (the SQL text Kysely compiles for the index page,
// pinned against the app by test/bench/pages.bench.ts), same D1 session and bookmark cookie,
// same waves (the session lookup, then the three reads together), and comparable HTML written
// with string templates: the same chrome, filters, 25-row table and pagination, without React,
// Remix's router or the hydration data. What the app costs beyond this is the framework and
// our own code. Served by `wrangler dev -c test/bench/bare.wrangler.toml` beside the app, on a
// copy of the same local D1 state (see test/bench/run.mjs).

import { ATTENTION_SQL, COUNT_SQL, PAGE_SQL, SESSION_SQL, WORKSPACES_SQL } from "./bare-sql";

const PAGE_SIZE = 25;

interface SessionRow {
  id: string;
  user_id: string;
  email: string;
  workspace_id: string | null;
  workspace_name: string | null;
  role: string | null;
}

interface ConnectionRow {
  id: string;
  name: string;
  provider: string;
  status: string;
  disabled_at: number | null;
  account_label: string;
  access_token_expires_at: number | null;
  refresh_token_expires_at: number | null;
  has_refresh_token: number;
  last_used_at: number | null;
  intent_count: number;
}

const PROVIDERS: Record<string, string> = { github: "GitHub", slack: "Slack", notion: "Notion", linear: "Linear", trello: "Trello" };
const STATUS: Record<string, string> = { active: "Active", expired: "Expired", error: "Error", revoked: "Revoked" };

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function readCookies(header: string | null) {
  const cookies = new Map<string, string>();
  for (const part of header?.split(";") ?? []) {
    const index = part.indexOf("=");
    if (index > 0) cookies.set(part.slice(0, index).trim(), decodeURIComponent(part.slice(index + 1).trim()));
  }
  return cookies;
}

async function sha256Hex(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600_000],
  ["month", 30 * 24 * 3600_000],
  ["week", 7 * 24 * 3600_000],
  ["day", 24 * 3600_000],
  ["hour", 3600_000],
  ["minute", 60_000],
];

/** The app's page numbers (app/components/pagination.tsx), as a string. */
function pageLinks(page: number, pages: number) {
  const shown = [...new Set([1, pages, page - 2, page - 1, page, page + 1, page + 2])]
    .filter((n) => n >= 1 && n <= pages)
    .sort((a, b) => a - b);
  let html = "";
  for (const [index, n] of shown.entries()) {
    const previous = shown[index - 1];
    if (previous !== undefined && n - previous === 2)
      html += `<li><a href="/integration-connections?page=${previous + 1}" aria-label="Page ${previous + 1}">${previous + 1}</a></li>`;
    else if (previous !== undefined && n - previous > 2) html += '<li aria-hidden="true">…</li>';
    html +=
      n === page
        ? `<li><span aria-current="page"><span class="visually-hidden">Page </span>${n}<span class="visually-hidden"> of ${pages}</span></span></li>`
        : `<li><a href="/integration-connections${n > 1 ? `?page=${n}` : ""}" aria-label="Page ${n}">${n}</a></li>`;
  }
  return html;
}

function time(value: number | null, now: number) {
  if (value === null) return '<span class="muted">never</span>';
  const iso = new Date(value).toISOString();
  const unit = UNITS.find(([, size]) => Math.abs(value - now) >= size);
  const text = unit ? relative.format(Math.round((value - now) / unit[1]), unit[0]) : "just now";
  return `<time dateTime="${iso}" title="${iso.replace("T", " ").slice(0, 16)} UTC">${text}</time>`;
}

/** The app's "Expires …" badge: an active connection whose authorization ends within 7 days. */
function expiring(c: ConnectionRow, now: number) {
  const endsAt = c.has_refresh_token ? c.refresh_token_expires_at : c.access_token_expires_at;
  if (c.status !== "active" || endsAt === null || endsAt - now > 7 * 24 * 3600_000) return "";
  return `<span class="badge status status--expiring">Expires ${time(endsAt, now)}</span>`;
}

function render(
  viewer: SessionRow,
  workspaces: { id: string; name: string }[],
  rows: ConnectionRow[],
  total: number,
  needingAttention: number,
  page: number,
  now: number,
  nonce: string,
) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const options = workspaces
    .map((w) => `<option value="${escape(w.id)}"${w.id === viewer.workspace_id ? ' selected=""' : ""}>${escape(w.name)}</option>`)
    .join("");
  const providerOptions = Object.entries(PROVIDERS)
    .map(([id, name]) => `<option value="${id}">${name}</option>`)
    .join("");
  const body = rows
    .map(
      (c) =>
        `<tr><td><a class="connection-link" href="/integration-connections/${escape(c.id)}"><img class="provider-icon" src="/providers/${escape(c.provider)}.svg" alt="" width="22" height="22"/><span>${escape(c.name)}</span></a></td>` +
        `<td data-label="Account"><span class="muted">${escape(PROVIDERS[c.provider] ?? c.provider)} · </span>${escape(c.account_label)}</td>` +
        `<td data-label="Status"><span class="badge status status--${escape(c.status)}">${STATUS[c.status] ?? escape(c.status)}</span>${c.disabled_at === null ? "" : '<span class="badge status status--disabled">Disabled</span>'}${expiring(c, now)}${c.status === "revoked" || c.status === "expired" ? `<form method="post" action="/integration-connections/${escape(c.id)}"><input type="hidden" name="intent" value="reauthorize"/><button type="submit" class="button button--primary button--small" aria-label="Reconnect ${escape(c.name)}">Reconnect</button></form>` : ""}</td>` +
        `<td data-label="Last used">${time(c.last_used_at, now)}</td><td data-label="Intents">${Number(c.intent_count)}</td></tr>`,
    )
    .join("");
  const previous =
    page > 1 ? `<a href="/integration-connections${page > 2 ? `?page=${page - 1}` : ""}" rel="prev">← Previous</a>` : "<span></span>";
  const next = page < pages ? `<a href="/integration-connections?page=${page + 1}" rel="next">Next →</a>` : "<span></span>";
  return `<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>Connections · SpokeDo</title><link rel="stylesheet" href="/assets/app.css"/><link rel="icon" href="/favicon.svg" type="image/svg+xml"/></head><body>
<a class="skip-link" href="#main">Skip to content</a><header class="topbar"><a class="brand" href="/integration-connections"><img src="/favicon.svg" alt="" width="24" height="24"/>SpokeDo</a>
<nav class="topbar__nav" aria-label="Main"><ul><li><a aria-current="page" class="active" href="/integration-connections">Connections</a></li><li><a href="/intents">Intents</a></li><li><a href="/insights">Insights</a></li><li><a href="/settings/workspace">Workspace settings</a></li></ul></nav>
<div class="topbar__account"><form method="post" action="/workspaces/switch" class="switcher"><input type="hidden" name="redirectTo" value="/integration-connections"/><label for="workspace-switcher" class="visually-hidden">Active workspace</label><select id="workspace-switcher" name="workspaceId">${options}</select><button type="submit" class="button button--secondary">Switch</button></form>
<span class="topbar__email" title="Signed in as">${escape(viewer.email)}</span><form method="post" action="/logout"><button type="submit" class="button button--secondary">Sign out</button></form></div></header>
<main id="main" tabindex="-1"><section class="page"><header class="page__header"><div><h1>Connections</h1><p class="lead">${total} connection${total === 1 ? "" : "s"} in <strong>${escape(viewer.workspace_name)}</strong>.</p></div><a class="button button--primary" href="/integration-connections/new">Connect an account</a></header>
${needingAttention > 0 ? `<div class="card card--warning attention" role="status"><p><strong>${needingAttention} connection${needingAttention === 1 ? " needs" : "s need"} attention</strong> — revoked, expired or in error. Reconnect revoked and expired ones; open one in error to see what failed.</p><a class="button button--secondary" href="/integration-connections?sort=status">Show problems first</a></div>` : ""}<details class="filters-disclosure card"><summary>Search, filter and sort</summary><form method="get" action="/integration-connections" class="filters" role="search"><label><span class="field__label">Search</span><input type="search" name="q" placeholder="Name or account…" maxLength="50" value=""/></label><label><span class="field__label">Provider</span><select name="provider"><option value="" selected="">All providers</option>${providerOptions}</select></label><label><span class="field__label">Status</span><select name="status"><option value="" selected="">Any status</option><option value="active">Active</option><option value="expired">Expired</option><option value="error">Error</option><option value="revoked">Revoked</option></select></label><label><span class="field__label">Delivering</span><select name="state"><option value="" selected="">Enabled or disabled</option><option value="enabled">Enabled</option><option value="disabled">Disabled</option></select></label><label><span class="field__label">Sort by</span><select name="sort"><option value="name" selected="">Name</option><option value="last_used">Last used</option><option value="status">Status (problems first)</option></select></label><label class="checkbox"><input type="checkbox" name="unused" value="1"/>Not used in 90 days</label><div class="filters__actions"><button type="submit" class="button button--secondary">Apply</button></div></form></details>
<div class="card card--flush"><table class="table connections-table"><thead><tr><th scope="col">Name</th><th scope="col">Account</th><th scope="col">Status</th><th scope="col">Last used</th><th scope="col">Intents</th></tr></thead><tbody>${body}</tbody></table></div>
${pages > 1 ? `<nav class="pagination" aria-label="Pages">${previous}<ol class="pagination__pages">${pageLinks(page, pages)}</ol>${next}</nav>` : ""}</section></main>
<script nonce="${nonce}" type="module" src="/assets/entry.client.js"></script></body></html>`;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/integration-connections") return new Response("Not found", { status: 404 });
    const cookies = readCookies(request.headers.get("Cookie"));
    const token = cookies.get("spokedo_session");
    if (!token || token.length > 100) return Response.redirect(new URL("/login", url), 302);

    // The app's D1 scope: a Sessions API session from the client's bookmark.
    const bookmark = cookies.get("spokedo_d1");
    const db = env.DB.withSession(bookmark ?? "first-unconstrained");
    let statements = 0;
    let roundTrips = 0;

    statements += 1;
    roundTrips += 1;
    const { results: sessions } = await db
      .prepare(SESSION_SQL)
      .bind(await sha256Hex(token), Date.now())
      .all<SessionRow>();
    const viewer = sessions[0];
    if (!viewer?.workspace_id) return Response.redirect(new URL("/login", url), 302);

    const page = Math.min(10_000, Math.max(1, Math.trunc(Number(url.searchParams.get("page") ?? "1")) || 1));
    statements += 4;
    roundTrips += 1;
    const [workspaces, rows, count, attention] = await Promise.all([
      db.prepare(WORKSPACES_SQL).bind(viewer.user_id).all<{ id: string; name: string }>(),
      db
        .prepare(PAGE_SQL)
        .bind(viewer.workspace_id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .all<ConnectionRow>(),
      db.prepare(COUNT_SQL).bind(viewer.workspace_id).all<{ n: number }>(),
      db.prepare(ATTENTION_SQL).bind(viewer.workspace_id, 3).all<{ n: number }>(),
    ]);

    const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const html = render(
      viewer,
      workspaces.results,
      rows.results,
      Number(count.results[0]?.n ?? 0),
      Number(attention.results[0]?.n ?? 0),
      page,
      Date.now(),
      nonce,
    );
    const headers = new Headers({
      "Content-Type": "text/html; charset=utf-8",
      "Server-Timing": `d1;desc="${statements} queries, ${roundTrips} round trips"`,
      "Content-Security-Policy": `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "strict-origin-when-cross-origin",
    });
    const latest = db.getBookmark();
    if (latest && latest !== bookmark)
      headers.append("Set-Cookie", `spokedo_d1=${encodeURIComponent(latest)}; Path=/; SameSite=Lax; HttpOnly; Max-Age=86400`);
    return new Response(html, { headers });
  },
} satisfies ExportedHandler<{ DB: D1Database }>;
