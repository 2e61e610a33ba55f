import type { ConnectionRow } from "../platform/schema";
import { providerContext, type Settings } from "../platform/settings.server";
import { describeProviderError, ProviderError } from "../providers/errors";
import { getProvider } from "../providers/registry";
import type { RevokeOptions, StoredTokens } from "../providers/types";

export interface RevocationOutcome {
  revoked: boolean;
  message: string;
}

/**
 * Revokes tokens SpokeDo no longer holds at the provider, best effort: the outcome is reported,
 * never blocking. `label` names them in the messages ("the token", "the other account's token").
 */
export async function revokeAtProvider(
  settings: Settings,
  connection: Pick<ConnectionRow, "provider">,
  tokens: StoredTokens | null,
  options: RevokeOptions & { label?: string } = { accountStillHeld: false },
): Promise<RevocationOutcome> {
  const what = options.label ?? "the token";
  const What = what[0]!.toUpperCase() + what.slice(1);
  const provider = getProvider(connection.provider);
  if (!tokens) return { revoked: false, message: `${What} could not be read, so it could not be revoked at ${provider.name}.` };
  const context = providerContext(settings, connection.provider);
  if (!provider.revoke)
    return { revoked: false, message: `${provider.name} offers no token revocation; remove the app from your ${provider.name} settings.` };
  if (!context) return { revoked: false, message: `${provider.name} is not configured, so ${what} could not be revoked there.` };
  try {
    await provider.revoke(context, tokens, options);
    const refresh = tokens.refreshToken ? ", refresh token included," : "";
    return { revoked: true, message: `${What}${refresh} was revoked at ${provider.name}.` };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return {
      revoked: false,
      message: `${provider.name} did not confirm the revocation (${describeProviderError(error)}); you may want to remove the app from your ${provider.name} settings.`,
    };
  }
}
