import { EMULATOR_ACCOUNTS, EMULATOR_CLIENTS, registeredRedirectUri } from "./fixtures";
import { asText, escapeHtml, html, json } from "./http";
import type { Emulator } from "./index";
import type { ChaosSettings } from "./chaos";
import { ENDPOINTS, type Endpoint, type Fault, type ProviderId } from "./state";

const FAULT_KINDS = new Set<Fault["kind"]>([
  "deny",
  "invalid_code",
  "oauth_error",
  "http",
  "rate_limited",
  "slow",
  "slow_body",
  "drop_after_commit",
  "malformed_json",
  "expired_token",
  "revoked_token",
]);

class AdminInputError extends Error {}

const isEndpoint = (value: unknown): value is Endpoint => ENDPOINTS.includes(value as Endpoint);

function parseFault(value: unknown): Fault {
  if (!value || typeof value !== "object") throw new AdminInputError("fault must be an object");
  const fault = value as Record<string, unknown>;
  if (!FAULT_KINDS.has(fault.kind as Fault["kind"])) throw new AdminInputError(`unknown fault kind ${String(fault.kind)}`);
  if (fault.kind === "oauth_error" && typeof fault.code !== "string") throw new AdminInputError("oauth_error needs a code");
  if (fault.kind === "http" && typeof fault.status !== "number") throw new AdminInputError("http needs a numeric status");
  if ((fault.kind === "slow" || fault.kind === "slow_body") && typeof fault.delayMs !== "number") {
    throw new AdminInputError(`${fault.kind} needs delayMs`);
  }
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
  const requireProvider = (value: unknown): ProviderId => {
    if (typeof value !== "string" || !emulator.providers().includes(value)) {
      throw new AdminInputError(`provider must be one of ${emulator.providers().join(", ")}`);
    }
    return value;
  };
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
        return json(
          providerFilter ? emulator.tokens(requireProvider(providerFilter)) : emulator.providers().flatMap((p) => emulator.tokens(p)),
        );
      case "POST revoke": {
        const body = await readJson(request);
        if (body.accountId === undefined) throw new AdminInputError("accountId is required");
        const webhooks = await emulator.revokeTokensOf(requireProvider(body.provider), asText(body.accountId));
        return json({ ok: true, webhooks });
      }
      case "POST webhook-target": {
        const body = await readJson(request);
        const provider = requireProvider(body.provider);
        if (body.url === null) {
          emulator.setWebhookTarget(provider, null);
          return json({ ok: true });
        }
        if (typeof body.url !== "string" || typeof body.secret !== "string")
          throw new AdminInputError("url and secret must be strings (url null removes the target)");
        try {
          new URL(body.url);
        } catch {
          throw new AdminInputError("url must be an absolute URL");
        }
        emulator.setWebhookTarget(provider, { url: body.url, secret: body.secret });
        return json({ ok: true });
      }
      case "GET webhooks":
        return json(emulator.webhookDeliveries.filter((d) => !providerFilter || d.provider === providerFilter));
      case "GET chaos":
        return json({ settings: emulator.chaos, drawn: emulator.chaosLog() });
      case "POST chaos": {
        const body = await readJson(request);
        if (typeof body.seed !== "number") throw new AdminInputError("seed must be a number");
        try {
          emulator.setChaos(body as unknown as ChaosSettings);
        } catch (error) {
          throw new AdminInputError(error instanceof Error ? error.message : String(error));
        }
        return json({ ok: true, settings: emulator.chaos });
      }
      case "DELETE chaos":
        emulator.setChaos(null);
        return json({ ok: true });
      case "GET rate-limits":
        return json(emulator.options.rateLimits);
      case "POST rate-limits":
        emulator.setRateLimits(await readJson(request));
        return json(emulator.options.rateLimits);
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
        emulator.setOptions(await readJson(request));
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
  [
    "POST /__emulator/revoke",
    "{provider, accountId}: the user revoked the app on the provider's side (sends its webhook when a target is set)",
  ],
  ["POST /__emulator/webhook-target", "{provider, url, secret}: where the provider pushes webhooks (url null removes it)"],
  ["GET /__emulator/webhooks?provider=", "webhooks delivered, with the app's answers"],
  [
    "GET|POST|DELETE /__emulator/chaos",
    "{seed, rate429, rate5xx, rateSlowBody, rateDrop, slowBodyMs, retryAfterSeconds, endpoints?, providers?}: seeded random faults",
  ],
  ["GET|POST /__emulator/rate-limits", "read or patch per-token budgets ({enabled:false} stops refusals)"],
  ["POST /__emulator/expire", "{provider}: every current access token is now expired"],
  ["GET /__emulator/created?provider=", "issues, messages, pages and cards created"],
  ["GET|POST /__emulator/options", "read or patch options (token styles, error shapes…)"],
  ["POST /__emulator/advance-time", "{ms}: move the emulator's clock forward"],
  ["GET /__emulator/accounts", "clients and account fixtures"],
];

export function indexPage(emulator: Emulator) {
  const { origin, appOrigin } = emulator.options;
  const rows = emulator
    .providers()
    .map((provider) => {
      const bases = emulator.provider(provider)?.bases ?? { web: "", api: "" };
      const [web, api] = [`${origin}/${provider}${bases.web}`, `${origin}/${provider}${bases.api}`];
      return `<tr><th>${provider}</th><td><code>${escapeHtml(web)}</code></td><td><code>${escapeHtml(api)}</code></td><td><code>${escapeHtml(
        registeredRedirectUri(appOrigin, provider),
      )}</code></td></tr>`;
    })
    .join("\n");
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
