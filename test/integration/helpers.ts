import { env, exports } from "cloudflare:workers";
import { getDatabase } from "~/lib/platform/db.server";

export const ORIGIN = "https://spokedo.test";

/** The isolate's database; outside a request, statements go straight to the primary. */
export function database() {
  return getDatabase(env.DB);
}

/** A request to the Worker under test (its default export), in this isolate. */
export function appFetch(input: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(input, init));
}

/** A minimal cookie jar: enough to act as one browser across requests. */
export class Browser {
  cookies = new Map<string, string>();
  constructor(public origin = ORIGIN) {}

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  store(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const index = pair!.indexOf("=");
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}) {
    const response = await appFetch(`${this.origin}${path}`, {
      redirect: "manual",
      headers: { Host: new URL(this.origin).host, Cookie: this.cookieHeader(), "Sec-Fetch-Site": "none", ...headers },
    });
    this.store(response);
    return response;
  }

  /** A form POST; pairs may repeat a name (checkboxes). */
  async post(path: string, form: Record<string, string> | [string, string][], headers: Record<string, string> = {}) {
    const response = await appFetch(`${this.origin}${path}`, {
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams(form),
      headers: {
        Host: new URL(this.origin).host,
        Cookie: this.cookieHeader(),
        "Content-Type": "application/x-www-form-urlencoded",
        "Sec-Fetch-Site": "same-origin",
        Origin: this.origin,
        ...headers,
      },
    });
    this.store(response);
    return response;
  }
}

export const PASSWORD = "correct horse battery";

let counter = 0;
export function uniqueEmail(prefix = "user") {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

/** Signs a new user up through the real form; returns their browser, signed in. */
export async function signedUpUser(options: { email?: string; workspaceName?: string } = {}) {
  const browser = new Browser();
  const email = options.email ?? uniqueEmail();
  const response = await browser.post("/signup", {
    email,
    password: PASSWORD,
    workspaceName: options.workspaceName ?? "Acme",
  });
  if (response.status !== 302) throw new Error(`sign-up failed with ${response.status}`);
  const db = database();
  const user = await db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirstOrThrow();
  const membership = await db.selectFrom("memberships").selectAll().where("user_id", "=", user.id).executeTakeFirstOrThrow();
  return { browser, email, user, workspaceId: membership.workspace_id };
}

export async function countRows(table: "users" | "workspaces" | "memberships" | "sessions" | "login_attempts") {
  const row = await database()
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** HTML without React's `<!-- -->` text separators, so sentences can be matched whole. */
export async function pageHtml(response: Response) {
  return (await response.text()).replaceAll("<!-- -->", "");
}

/** The `<input>` tag with this name, for asserting on its attributes in any order. */
export function inputTag(html: string, name: string) {
  return [...html.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).find((tag) => tag.includes(`name="${name}"`)) ?? "";
}
