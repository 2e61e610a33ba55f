// Runs SpokeDo (the built Worker, under wrangler) beside the provider emulator, so every
// provider can be connected offline. Used by `npm start` and by the browser tests.
//
//   node test/emulator/run-local.mjs [--app-port 8787] [--emulator-port 8788]
//        [--vars .dev.vars] [--persist-to .wrangler/state] [--fresh] [--no-cron] [--webhooks]
//
// `wrangler dev` never fires Cron Triggers by itself, so this script does what Cloudflare does in
// production: once a minute, on the minute, it calls the app's scheduled handler through the
// endpoint wrangler exposes for it (/cdn-cgi/local/scheduled; /cdn-cgi/handler/scheduled is its older name). Token refresh ahead of expiry,
// re-enqueuing overdue deliveries, probing connections in error, key rotation and pruning all
// happen on a developer's machine as they do in production. --no-cron turns it off.
//
// When the vars file is missing it is created with random local secrets (encryption key ring,
// webhook signing secrets) and the emulator's endpoints and client credentials. Real credentials
// can replace them: a provider whose *_WEB_URL/*_API_URL lines are removed talks to the real provider.
//
// --webhooks (what `npm start` passes) points the emulator's revocation webhooks (Slack, GitHub,
// Linear) at the app's /webhooks/<provider>, signed with the secrets of the vars file, so revoking
// SpokeDo in the emulator marks the connections revoked at once, as the real providers do. The
// browser tests leave it off: they watch a revocation surface through a failed delivery.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    "app-port": { type: "string", default: "8787" },
    "emulator-port": { type: "string", default: "8788" },
    vars: { type: "string", default: ".dev.vars" },
    "persist-to": { type: "string", default: ".wrangler/state" },
    fresh: { type: "boolean", default: false },
    "no-cron": { type: "boolean", default: false },
    webhooks: { type: "boolean", default: false },
  },
});

const appOrigin = `http://localhost:${args["app-port"]}`;
const emulatorOrigin = `http://localhost:${args["emulator-port"]}`;

if (args.fresh) rmSync(args["persist-to"], { recursive: true, force: true });

if (!existsSync(args.vars)) {
  mkdirSync(dirname(args.vars), { recursive: true });
  const key = randomBytes(32).toString("base64url");
  const webhookSecret = () => randomBytes(24).toString("hex");
  const lines = [
    "# Generated for local development by test/emulator/run-local.mjs. Random, never used in production.",
    `APP_URL=${appOrigin}`,
    `TOKEN_ENCRYPTION_KEYS=local1:${key}`,
    "TOKEN_ENCRYPTION_PRIMARY_KEY_ID=local1",
    "",
    `# Providers: the local emulator at ${emulatorOrigin}. Replace with real credentials (and drop the URLs) to use a real provider.`,
    "GITHUB_CLIENT_ID=emu-github-client",
    "GITHUB_CLIENT_SECRET=emu-github-secret",
    `GITHUB_WEB_URL=${emulatorOrigin}/github`,
    `GITHUB_API_URL=${emulatorOrigin}/github/api`,
    `GITHUB_WEBHOOK_SECRET=${webhookSecret()}`,
    "SLACK_CLIENT_ID=emu-slack-client",
    "SLACK_CLIENT_SECRET=emu-slack-secret",
    `SLACK_WEB_URL=${emulatorOrigin}/slack`,
    `SLACK_API_URL=${emulatorOrigin}/slack/api`,
    `SLACK_SIGNING_SECRET=${webhookSecret()}`,
    "NOTION_CLIENT_ID=emu-notion-client",
    "NOTION_CLIENT_SECRET=emu-notion-secret",
    `NOTION_WEB_URL=${emulatorOrigin}/notion`,
    `NOTION_API_URL=${emulatorOrigin}/notion`,
    "LINEAR_CLIENT_ID=emu-linear-client",
    "LINEAR_CLIENT_SECRET=emu-linear-secret",
    `LINEAR_WEB_URL=${emulatorOrigin}/linear`,
    `LINEAR_API_URL=${emulatorOrigin}/linear/api`,
    `LINEAR_WEBHOOK_SECRET=${webhookSecret()}`,
    "TRELLO_API_KEY=emu-trello-key",
    "TRELLO_API_SECRET=emu-trello-secret",
    `TRELLO_WEB_URL=${emulatorOrigin}/trello`,
    `TRELLO_API_URL=${emulatorOrigin}/trello/api`,
    "",
  ];
  writeFileSync(args.vars, lines.join("\n"), { mode: 0o600 });
  console.log(`Created ${args.vars} with local secrets; providers point at the emulator (${emulatorOrigin}).`);
} else if (readFileSync(args.vars, "utf8").startsWith("# Generated for local development by test/emulator/run-local.mjs")) {
  // A generated file follows the ports asked for: its origins are rewritten, its keys and secrets kept.
  const previous = readFileSync(args.vars, "utf8");
  const updated = previous
    .replace(/^APP_URL=.*$/m, `APP_URL=${appOrigin}`)
    .replace(/^([A-Z]+_(?:WEB|API)_URL)=http:\/\/localhost:\d+/gm, (_, name) => `${name}=${emulatorOrigin}`)
    .replace(/^(# Providers: the local emulator at )\S+\./m, `$1${emulatorOrigin}.`);
  if (updated !== previous) {
    writeFileSync(args.vars, updated, { mode: 0o600 });
    console.log(`Updated ${args.vars} for the app at ${appOrigin} and the emulator at ${emulatorOrigin} (keys kept).`);
  }
} else if (!readFileSync(args.vars, "utf8").includes(`APP_URL=${appOrigin}`)) {
  console.warn(`${args.vars} is your own and its APP_URL is not ${appOrigin}: OAuth redirects will go to the URL it names.`);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const quiet = ["--show-interactive-dev-session=false", "--log-level", process.env.CI ? "warn" : "info"];
const children = [
  spawn(
    "wrangler",
    [
      "dev",
      "-c",
      "test/emulator/wrangler.toml",
      "--port",
      args["emulator-port"],
      "--inspector-port",
      String(Number(args["emulator-port"]) + 1000),
      "--var",
      `APP_ORIGIN:${appOrigin}`,
      "--var",
      `EMULATOR_ORIGIN:${emulatorOrigin}`,
      ...quiet,
    ],
    { stdio: "inherit", env },
  ),
  spawn(
    "wrangler",
    [
      "dev",
      "--port",
      args["app-port"],
      "--inspector-port",
      String(Number(args["app-port"]) + 1000),
      "--persist-to",
      args["persist-to"],
      "--env-file",
      args.vars,
      ...quiet,
    ],
    { stdio: "inherit", env },
  ),
];

// The Cron Trigger of wrangler.toml ("* * * * *"), fired the way Cloudflare fires it.
const CRON = "* * * * *";
let cronTimer;
function scheduleCron() {
  const msToNextMinute = 60_000 - (Date.now() % 60_000);
  cronTimer = setTimeout(() => {
    void fireCron().finally(scheduleCron);
  }, msToNextMinute);
}
async function fireCron() {
  const url = `${appOrigin}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(CRON)}&time=${Date.now()}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(50_000) });
    if (!response.ok) console.warn(`Scheduled handler answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  } catch (error) {
    // The app may still be starting or restarting; the next minute tries again.
    if (!stopping) console.warn(`Could not fire the scheduled handler: ${error instanceof Error ? error.message : String(error)}`);
  }
}
if (!args["no-cron"]) scheduleCron();

// Where each emulated provider sends its revocation webhook, and the setting holding its secret.
const WEBHOOKS = { github: "GITHUB_WEBHOOK_SECRET", slack: "SLACK_SIGNING_SECRET", linear: "LINEAR_WEBHOOK_SECRET" };
async function pointWebhooksAtApp() {
  const vars = new Map(
    readFileSync(args.vars, "utf8")
      .split("\n")
      .map((line) => /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line))
      .filter(Boolean)
      .map((match) => [match[1], match[2]]),
  );
  const targets = Object.entries(WEBHOOKS).filter(([, name]) => vars.get(name));
  // The emulator may still be starting: try for a minute.
  for (let attempt = 0; attempt < 60 && !stopping; attempt++) {
    try {
      for (const [provider, name] of targets) {
        const response = await fetch(`${emulatorOrigin}/__emulator/webhook-target`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ provider, url: `${appOrigin}/webhooks/${provider}`, secret: vars.get(name) }),
          signal: AbortSignal.timeout(5000),
        });
        if (!response.ok) throw new Error(`the emulator answered ${response.status}`);
      }
      if (targets.length)
        console.log(`Revocation webhooks: the emulator sends ${targets.map(([p]) => p).join(", ")}'s to ${appOrigin}/webhooks/<provider>.`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  if (!stopping) console.warn("Could not point the emulator's revocation webhooks at the app; revocations will show at the next delivery.");
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  clearTimeout(cronTimer);
  for (const child of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
for (const child of children) child.on("exit", (code) => stop(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop(0));
console.log(`SpokeDo: ${appOrigin}  ·  provider emulator: ${emulatorOrigin}`);
if (!args["no-cron"]) console.log(`Background jobs: the scheduled handler fires once a minute, as the Cron Trigger does in production.`);
if (args.webhooks) void pointWebhooksAtApp();
