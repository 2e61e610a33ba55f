import { EMULATOR_ACCOUNTS, EMULATOR_CLIENTS, registeredRedirectUri } from "./fixtures";
import { escapeHtml, html, json } from "./http";
import type { Emulator } from "./index";
import { ENDPOINTS, PROVIDERS, type Endpoint, type Fault, type Provider } from "./state";

const FAULT_KINDS = new Set<Fault["kind"]>([
  "deny",
  "invalid_code",
  "oauth_error",
  "http",
  "rate_limited",
  "slow",
  "malformed_json",
  "expired_token",
  "revoked_token",
]);

class AdminInputError extends Error {}

const isProvider = (value: unknown): value is Provider => PROVIDERS.includes(value as Provider);
const isEndpoint = (value: unknown): value is Endpoint => ENDPOINTS.includes(value as Endpoint);

function requireProvider(value: unknown): Provider {
  if (!isProvider(value)) throw new AdminInputError(`provider must be one of ${PROVIDERS.join(", ")}`);
  return value;
}

function parseFault(value: unknown): Fault {
  if (!value || typeof value !== "object") throw new AdminInputError("fault must be an object");
  const fault = value as Record<string, unknown>;
  if (!FAULT_KINDS.has(fault.kind as Fault["kind"])) throw new AdminInputError(`unknown fault kind ${String(fault.kind)}`);
  if (fault.kind === "oauth_error" && typeof fault.code !== "string") throw new AdminInputError("oauth_error needs a code");
  if (fault.kind === "http" && typeof fault.status !== "number") throw new AdminInputError("http needs a numeric status");
  if (fault.kind === "slow" && typeof fault.delayMs !== "number") throw new AdminInputError("slow needs delayMs");
  return fault as unknown as Fault;
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const body = new TextDecoder().decode(await request.arrayBuffer());
  if (body.trim() === "") return {};
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AdminInputError("body must be a JSON object");
}

/** The test API over HTTP, for the emulator running as its own Worker. */
export async function handleAdmin(request: Request, url: URL, emulator: Emulator): Promise<Response> {
  const action = url.pathname.replace(/^\/__emulator\/?/, "");
  const method = request.method.toUpperCase();
  const providerFilter = url.searchParams.get("provider");
  const endpointFilter = url.searchParams.get("endpoint");
  try {
    switch (`${method} ${action}`) {
      case "POST reset":
        emulator.reset();
        return json({ ok: true });
      case "GET faults":
        return json(emulator.pendingFaults());
      case "POST faults": {
        const body = await readJson(request);
        if (!isEndpoint(body.endpoint)) throw new AdminInputError(`endpoint must be one of ${ENDPOINTS.join(", ")}`);
        const times = body.times === undefined ? 1 : Number(body.times);
        if (!Number.isInteger(times) || times < 1) throw new AdminInputError("times must be a positive integer");
        emulator.failNext(requireProvider(body.provider), body.endpoint, parseFault(body.fault), times);
        return json({ ok: true, pending: emulator.pendingFaults() });
      }
      case "DELETE faults":
        emulator.clearFaults();
        return json({ ok: true });
      case "GET requests":
        return json(
          emulator.requests.filter(
            (r) => (!providerFilter || r.provider === providerFilter) && (!endpointFilter || r.endpoint === endpointFilter),
          ),
        );
      case "GET tokens":
        return json(providerFilter ? emulator.tokens(requireProvider(providerFilter)) : PROVIDERS.flatMap((p) => emulator.tokens(p)));
      case "POST revoke": {
        const body = await readJson(request);
        if (body.accountId === undefined) throw new AdminInputError("accountId is required");
        emulator.revokeTokensOf(requireProvider(body.provider), String(body.accountId));
        return json({ ok: true });
      }
      case "POST expire": {
        const body = await readJson(request);
        emulator.expireAccessTokens(requireProvider(body.provider));
        return json({ ok: true });
      }
      case "GET created":
        return json(emulator.created.filter((item) => !providerFilter || item.provider === providerFilter));
      case "GET options":
        return json(emulator.options);
      case "POST options":
        emulator.setOptions((await readJson(request)) as Parameters<Emulator["setOptions"]>[0]);
        return json(emulator.options);
      case "POST advance-time": {
        const body = await readJson(request);
        if (typeof body.ms !== "number") throw new AdminInputError("ms must be a number");
        emulator.advanceTime(body.ms);
        return json({ ok: true });
      }
      case "GET accounts":
        return json({ clients: EMULATOR_CLIENTS, ...EMULATOR_ACCOUNTS });
      default:
        return json({ error: `no admin endpoint ${method} /__emulator/${action}` }, 404);
    }
  } catch (error) {
    if (error instanceof AdminInputError) return json({ error: error.message }, 400);
    throw error;
  }
}

const ADMIN_ENDPOINTS: [string, string][] = [
  ["POST /__emulator/reset", "forget state, faults and recorded requests"],
  ["POST /__emulator/faults", "{provider, endpoint, fault, times}: fail the next matching requests"],
  ["GET /__emulator/faults", "faults still queued"],
  ["DELETE /__emulator/faults", "drop queued faults"],
  ["GET /__emulator/requests?provider=&endpoint=", "recorded requests"],
  ["GET /__emulator/tokens?provider=", "issued tokens"],
  ["POST /__emulator/revoke", "{provider, accountId}: the user revoked the app on the provider's side"],
  ["POST /__emulator/expire", "{provider}: every current access token is now expired"],
  ["GET /__emulator/created?provider=", "issues, messages, pages and cards created"],
  ["GET|POST /__emulator/options", "read or patch options (token styles, error shapes…)"],
  ["POST /__emulator/advance-time", "{ms}: move the emulator's clock forward"],
  ["GET /__emulator/accounts", "clients and account fixtures"],
];

export function indexPage(emulator: Emulator) {
  const { origin, appOrigin } = emulator.options;
  const bases: Record<Provider, [string, string]> = {
    github: [`${origin}/github`, `${origin}/github/api`],
    slack: [`${origin}/slack`, `${origin}/slack/api`],
    notion: [`${origin}/notion`, `${origin}/notion`],
    linear: [`${origin}/linear`, `${origin}/linear/api`],
    trello: [`${origin}/trello`, `${origin}/trello/api`],
  };
  const rows = PROVIDERS.map((provider) => {
    const [web, api] = bases[provider];
    return `<tr><th>${provider}</th><td><code>${escapeHtml(web)}</code></td><td><code>${escapeHtml(api)}</code></td><td><code>${escapeHtml(
      registeredRedirectUri(appOrigin, provider),
    )}</code></td></tr>`;
  }).join("\n");
  const admin = ADMIN_ENDPOINTS.map(([path, what]) => `<li><code>${escapeHtml(path)}</code>: ${escapeHtml(what)}</li>`).join("\n");
  return html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SpokeDo provider emulator</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #ddd}</style></head>
<body>
<h1>SpokeDo provider emulator</h1>
<p>Imitates GitHub, Slack, Notion, Linear and Trello for local development and tests. Point the app's
<code>&lt;PROVIDER&gt;_WEB_URL</code> and <code>&lt;PROVIDER&gt;_API_URL</code> at the bases below; the app is expected at <code>${escapeHtml(appOrigin)}</code>.</p>
<table><thead><tr><th>provider</th><th>web URL</th><th>API URL</th><th>registered redirect URI</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Client credentials</h2>
<pre>${escapeHtml(JSON.stringify(EMULATOR_CLIENTS, null, 2))}</pre>
<h2>Admin endpoints (JSON)</h2>
<ul>
${admin}
</ul>
</body></html>`);
}
