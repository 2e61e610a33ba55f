// Test helpers: a real authorization through the emulator's consent page and token endpoint,
// so a test gets a working token without repeating each provider's OAuth dance.
import { submitConsent } from "./consent-driver";
import { EMULATOR_CLIENTS, registeredRedirectUri } from "./fixtures";
import type { Emulator } from "./index";
import type { Provider } from "./state";

export interface EmulatorGrant {
  accessToken: string;
  refreshToken?: string;
  /** The raw token response (JSON, or the fragment for Trello). */
  response: Record<string, unknown>;
}

export interface GrantOptions {
  /** The consent page's account (GitHub user id, Slack team id, Notion workspace id, Linear viewer id, Trello member id). */
  account?: string | number;
  /** Scopes as the provider takes them (Slack bot scopes, Linear scopes, GitHub OAuth App scopes, Trello scope). */
  scope?: string;
  /** Slack user scopes. */
  userScope?: string;
  /** Linear: install as the app. */
  actor?: "user" | "app";
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

function request(emulator: Emulator, path: string, init: RequestInit = {}) {
  return emulator.handle(new Request(`${emulator.options.origin}${path}`, { redirect: "manual", ...init }));
}

const form = (values: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  body: new URLSearchParams(values),
  headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
});

async function approve(emulator: Emulator, path: string, params: Record<string, string>, account?: string | number) {
  const url = `${emulator.options.origin}${path}?${new URLSearchParams(params)}`;
  return submitConsent(emulator, url, { account });
}

/** Authorizes SpokeDo's emulated app with one provider and returns the tokens. */
export async function grantFor(emulator: Emulator, provider: Provider, options: GrantOptions = {}): Promise<EmulatorGrant> {
  const redirectUri = registeredRedirectUri(emulator.options.appOrigin, provider);
  const read = async (response: Response) => {
    const body = await response.json<Record<string, unknown>>();
    if (typeof body.access_token !== "string") throw new Error(`${provider} token exchange failed: ${JSON.stringify(body)}`);
    return {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : undefined,
      response: body,
    };
  };
  switch (provider) {
    case "github": {
      const client = EMULATOR_CLIENTS.github;
      const back = await approve(
        emulator,
        "/github/login/oauth/authorize",
        { client_id: client.clientId, redirect_uri: redirectUri, scope: options.scope ?? "repo", state: "s" },
        options.account,
      );
      return read(
        await request(
          emulator,
          "/github/login/oauth/access_token",
          form(
            { code: back.searchParams.get("code")!, redirect_uri: redirectUri },
            { Accept: "application/json", Authorization: basic(client.clientId, client.clientSecret) },
          ),
        ),
      );
    }
    case "slack": {
      const client = EMULATOR_CLIENTS.slack;
      const params: Record<string, string> = {
        client_id: client.clientId,
        redirect_uri: redirectUri,
        scope: options.scope ?? "chat:write",
        state: "s",
      };
      if (options.userScope) params.user_scope = options.userScope;
      const back = await approve(emulator, "/slack/oauth/v2/authorize", params, options.account);
      return read(
        await request(
          emulator,
          "/slack/api/oauth.v2.access",
          form(
            { code: back.searchParams.get("code")!, redirect_uri: redirectUri },
            { Authorization: basic(client.clientId, client.clientSecret) },
          ),
        ),
      );
    }
    case "notion": {
      const client = EMULATOR_CLIENTS.notion;
      const back = await approve(
        emulator,
        "/notion/v1/oauth/authorize",
        { client_id: client.clientId, redirect_uri: redirectUri, response_type: "code", owner: "user", state: "s" },
        options.account,
      );
      return read(
        await request(emulator, "/notion/v1/oauth/token", {
          method: "POST",
          body: JSON.stringify({ grant_type: "authorization_code", code: back.searchParams.get("code"), redirect_uri: redirectUri }),
          headers: { "Content-Type": "application/json", Authorization: basic(client.clientId, client.clientSecret) },
        }),
      );
    }
    case "linear": {
      const client = EMULATOR_CLIENTS.linear;
      const params: Record<string, string> = {
        client_id: client.clientId,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: options.scope ?? "read,write",
        state: "s",
      };
      if (options.actor) params.actor = options.actor;
      const back = await approve(emulator, "/linear/oauth/authorize", params, options.account);
      return read(
        await request(
          emulator,
          "/linear/api/oauth/token",
          form({
            grant_type: "authorization_code",
            code: back.searchParams.get("code")!,
            redirect_uri: redirectUri,
            client_id: client.clientId,
            client_secret: client.clientSecret,
          }),
        ),
      );
    }
    case "trello": {
      const client = EMULATOR_CLIENTS.trello;
      const back = await approve(
        emulator,
        "/trello/1/authorize",
        {
          key: client.apiKey,
          name: "SpokeDo",
          scope: options.scope ?? "read,write",
          expiration: "never",
          response_type: "token",
          return_url: `${emulator.options.appOrigin}/trello-return`,
        },
        options.account,
      );
      const token = new URLSearchParams(back.hash.slice(1)).get("token");
      if (!token) throw new Error("trello authorization returned no token");
      return { accessToken: token, response: { token } };
    }
  }
}
