// Drives an emulated consent page the way a browser with JavaScript off does:
// GET the page, read the form, POST its fields with the pressed button.

export interface ConsentForm {
  title: string;
  action: string;
  hidden: Record<string, string>;
  /** Values of the `account` radio buttons, in page order. */
  accounts: string[];
  checkedAccount: string | null;
}

/** Anything that answers a Request: `emulator` in-process, or `{ handle: fetch }` against the Worker. */
export interface RequestHandler {
  handle(request: Request): Promise<Response>;
}

function unescapeHtml(value: string) {
  return value.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

function attribute(tag: string, name: string) {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeHtml(match[1]!) : null;
}

export function readConsentForm(page: string): ConsentForm {
  const form = /<form\b[^>]*>/.exec(page)?.[0];
  if (!form) throw new Error("no <form> on the consent page");
  const hidden: Record<string, string> = {};
  const accounts: string[] = [];
  let checkedAccount: string | null = null;
  for (const [tag] of page.matchAll(/<input\b[^>]*>/g)) {
    const type = attribute(tag, "type");
    const name = attribute(tag, "name");
    const value = attribute(tag, "value") ?? "";
    if (type === "hidden" && name) hidden[name] = value;
    if (type === "radio" && name === "account") {
      accounts.push(value);
      if (/\schecked\b/.test(tag)) checkedAccount = value;
    }
  }
  return {
    title: unescapeHtml(/<title>([^<]*)<\/title>/.exec(page)?.[1] ?? ""),
    action: attribute(form, "action") ?? "",
    hidden,
    accounts,
    checkedAccount,
  };
}

/**
 * Opens `authorizeUrl`, then presses Approve (or Deny) as `account` (default:
 * the preselected one). Returns where the provider redirects the browser.
 */
export async function submitConsent(
  handler: RequestHandler,
  authorizeUrl: string,
  choice: { decision?: "approve" | "deny"; account?: string | number } = {},
) {
  const page = await handler.handle(new Request(authorizeUrl));
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${await page.text()}`);
  const form = readConsentForm(await page.text());
  const account = choice.account !== undefined ? String(choice.account) : form.checkedAccount;
  const fields = new URLSearchParams(form.hidden);
  if (account !== null) fields.set("account", account);
  fields.set("decision", choice.decision ?? "approve");
  const response = await handler.handle(
    new Request(new URL(form.action, authorizeUrl), {
      method: "POST",
      body: fields,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      redirect: "manual",
    }),
  );
  const location = response.headers.get("Location");
  if (response.status !== 302 || !location) throw new Error(`consent POST answered ${response.status}: ${await response.text()}`);
  return new URL(location);
}
