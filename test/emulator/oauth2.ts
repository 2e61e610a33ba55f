import type { HandlerContext } from "./context";
import { readConsentDecision } from "./consent-page";
import { registeredRedirectUri } from "./fixtures";
import { parseBasicAuth, pkceMatches, randomBase62 } from "./http";
import type { AuthorizationCode, ProviderId } from "./state";

export const CODE_TTL_MS = 10 * 60 * 1000;

export function redirectUriFor(ctx: HandlerContext, provider: ProviderId) {
  return registeredRedirectUri(ctx.options.appOrigin, provider);
}

/** Approve or deny, from the consent form, or a queued `deny` fault (which denies even a GET). */
export function consentDecision(ctx: HandlerContext) {
  if (ctx.fault?.kind === "deny") return { decided: true, approve: false, accountId: null } as const;
  if (ctx.method !== "POST") return { decided: false, approve: false, accountId: null } as const;
  const { approve, accountId } = readConsentDecision(ctx.body.fields);
  return { decided: true, approve, accountId } as const;
}

export function issueCode(
  ctx: HandlerContext,
  fields: Omit<AuthorizationCode, "code" | "expiresAt" | "used" | "userScopes" | "extra"> &
    Partial<Pick<AuthorizationCode, "userScopes" | "extra">>,
  makeCode: () => string = () => randomBase62(32),
) {
  const code: AuthorizationCode = {
    userScopes: [],
    extra: {},
    ...fields,
    code: makeCode(),
    expiresAt: ctx.state.now() + CODE_TTL_MS,
    used: false,
  };
  ctx.state.codes.set(code.code, code);
  return code;
}

export type CodeProblem = "unknown" | "used" | "expired" | "client_mismatch" | "redirect_mismatch" | "pkce_missing" | "pkce_mismatch";

/**
 * Redeems a code: it must be this provider's, unused, unexpired, for this
 * client, sent with the same redirect_uri as at authorize, and (if a PKCE
 * challenge was sent) with a matching verifier. Spent only on success, so a
 * request rejected for its credentials can be retried.
 */
export async function redeemCode(
  ctx: HandlerContext,
  provider: ProviderId,
  input: {
    code: string | null;
    clientId: string;
    redirectUri: string | null;
    codeVerifier: string | null;
    /** GitHub lets the token request omit redirect_uri; the others require the one used at authorize. */
    redirectUriOptional?: boolean;
  },
): Promise<{ ok: true; code: AuthorizationCode } | { ok: false; problem: CodeProblem }> {
  if (ctx.fault?.kind === "invalid_code") return { ok: false, problem: "unknown" };
  const code = input.code ? ctx.state.codes.get(input.code) : undefined;
  if (!code || code.provider !== provider) return { ok: false, problem: "unknown" };
  if (code.used) return { ok: false, problem: "used" };
  if (code.expiresAt <= ctx.state.now()) return { ok: false, problem: "expired" };
  if (code.clientId !== input.clientId) return { ok: false, problem: "client_mismatch" };
  if (code.redirectUri !== null) {
    const omitted = input.redirectUri === null && input.redirectUriOptional;
    if (!omitted && input.redirectUri !== code.redirectUri) return { ok: false, problem: "redirect_mismatch" };
  } else if (input.redirectUri !== null && input.redirectUri !== redirectUriFor(ctx, provider)) {
    return { ok: false, problem: "redirect_mismatch" };
  }
  if (code.codeChallenge) {
    if (!input.codeVerifier) return { ok: false, problem: "pkce_missing" };
    if (!(await pkceMatches(code.codeChallenge, code.codeChallengeMethod ?? "plain", input.codeVerifier))) {
      return { ok: false, problem: "pkce_mismatch" };
    }
  }
  code.used = true;
  return { ok: true, code };
}

export interface ClientCredentials {
  id: string | null;
  secret: string | null;
  via: "basic" | "body" | null;
}

/** client_id/client_secret from HTTP Basic (when allowed) or the body (when allowed). */
export function clientCredentials(ctx: HandlerContext, allow: { basic: boolean; body: boolean }): ClientCredentials {
  const basic = allow.basic ? parseBasicAuth(ctx.headers) : null;
  if (basic) return { id: basic.id, secret: basic.secret, via: "basic" };
  if (allow.body) {
    const id = ctx.param("client_id");
    const secret = ctx.param("client_secret");
    if (id !== null || secret !== null) return { id, secret, via: "body" };
  }
  return { id: null, secret: null, via: null };
}

export function newGrantId() {
  return crypto.randomUUID();
}
