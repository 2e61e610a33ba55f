import type { ConnectionRow } from "../platform/schema";
import { providerContext, type Settings } from "../platform/settings.server";
import { describeProviderError, ProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { StoredTokens } from "../providers/types";

export interface RevocationOutcome {
  revoked: boolean;
  message: string;
}

/** Revokes the token at the provider, best effort: the outcome is reported, never blocking. */
export async function revokeAtProvider(
  settings: Settings,
  connection: Pick<ConnectionRow, "provider">,
  tokens: StoredTokens | null,
): Promise<RevocationOutcome> {
  const provider = getProvider(connection.provider);
  if (!tokens) return { revoked: false, message: `The stored token was unreadable, so it could not be revoked at ${provider.name}.` };
  const context = providerContext(settings, connection.provider);
  if (!provider.revoke)
    return { revoked: false, message: `${provider.name} offers no token revocation; remove the app from your ${provider.name} settings.` };
  if (!context) return { revoked: false, message: `${provider.name} is not configured, so the token could not be revoked there.` };
  try {
    await provider.revoke(context, tokens);
    return { revoked: true, message: `The token was revoked at ${provider.name}.` };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return {
      revoked: false,
      message: `${provider.name} did not confirm the revocation (${describeProviderError(error)}); you may want to remove the app from your ${provider.name} settings.`,
    };
  }
}
