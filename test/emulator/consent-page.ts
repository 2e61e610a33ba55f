import { APP_NAME } from "./fixtures";
import { escapeHtml, html } from "./http";

export interface ConsentAccount {
  id: string;
  label: string;
  detail?: string;
}

export interface ConsentPage {
  providerLabel: string;
  /** Path the form posts back to (the authorize endpoint itself). */
  action: string;
  scopeHeading: string;
  scopes: string[];
  accounts: readonly ConsentAccount[];
  selectedAccountId?: string;
  /** The OAuth parameters, carried through the POST; the server validates them again. */
  hidden: Record<string, string>;
  notes?: string[];
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}.emu{color:#8250df;font-size:.8rem;text-transform:uppercase;letter-spacing:.08em}
fieldset{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0}label{display:block;padding:.2rem 0}
.detail{color:#59636e;font-size:.9rem}.buttons{display:flex;gap:.75rem}
button{font:inherit;padding:.45rem 1.2rem;border-radius:6px;border:1px solid #d0d7de;cursor:pointer}
button[value=approve]{background:#1f883d;color:#fff;border-color:#1f883d}`;

function page(title: string, body: string) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<p class="emu">Provider emulator: no real account is involved</p>
${body}
</body>
</html>`;
}

export function consentTitle(providerLabel: string) {
  return `Authorize ${APP_NAME} — ${providerLabel} (emulated)`;
}

/** A plain form: works without JavaScript, and the page carries no script at all. */
export function renderConsentPage(input: ConsentPage) {
  const title = consentTitle(input.providerLabel);
  const selected = input.selectedAccountId ?? input.accounts[0]?.id;
  const scopes = input.scopes.length
    ? `<ul>${input.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join("")}</ul>`
    : `<p>No scopes requested.</p>`;
  const accounts = input.accounts
    .map((account, index) => {
      const id = `account-${index}`;
      const checked = account.id === selected ? " checked" : "";
      const detail = account.detail ? ` <span class="detail">${escapeHtml(account.detail)}</span>` : "";
      return `<label for="${id}"><input type="radio" id="${id}" name="account" value="${escapeHtml(account.id)}"${checked}> ${escapeHtml(account.label)}${detail}</label>`;
    })
    .join("\n");
  const hidden = Object.entries(input.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("\n");
  const notes = (input.notes ?? []).map((note) => `<p class="detail">${escapeHtml(note)}</p>`).join("\n");
  return html(
    page(
      title,
      `<h1>${escapeHtml(title)}</h1>
<p><strong>${APP_NAME}</strong> wants to access your ${escapeHtml(input.providerLabel)} account.</p>
<h2>${escapeHtml(input.scopeHeading)}</h2>
${scopes}
${notes}
<form method="post" action="${escapeHtml(input.action)}">
${hidden}
<fieldset><legend>Authorize as</legend>
${accounts}
</fieldset>
<div class="buttons">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
    ),
  );
}

/** What real providers show for a bad client or redirect URI: an error page, never a redirect. */
export function renderErrorPage(providerLabel: string, heading: string, message: string, status = 400) {
  return html(page(`${heading} — ${providerLabel} (emulated)`, `<h1>${escapeHtml(heading)}</h1>\n<p>${escapeHtml(message)}</p>`), status);
}

export function readConsentDecision(fields: Map<string, string>) {
  return { approve: fields.get("decision") === "approve", accountId: fields.get("account") ?? null };
}
