import * as v from "valibot";
import { fieldErrors } from "../platform/forms";
import type { ProviderModule } from "../providers/types";

export type EffectiveField = {
  name: string;
  value: unknown;
  source: "intent" | "connection" | "unset";
  connectionValue: unknown;
  override: unknown;
};

/** What an intent delivers with: each overridable field from the intent, else the connection. */
export function effectiveConfig(
  provider: ProviderModule,
  connectionConfig: Record<string, unknown>,
  overrides: Record<string, unknown>,
): EffectiveField[] {
  return provider.overridableFields.map((name) => {
    const override = overrides[name];
    const connectionValue = connectionConfig[name];
    if (override !== undefined) return { name, value: override, source: "intent", connectionValue, override };
    if (connectionValue !== undefined) return { name, value: connectionValue, source: "connection", connectionValue, override };
    return { name, value: undefined, source: "unset", connectionValue, override };
  });
}

export function resolvedConfig(provider: ProviderModule, connectionConfig: Record<string, unknown>, overrides: Record<string, unknown>) {
  return Object.fromEntries(
    effectiveConfig(provider, connectionConfig, overrides)
      .filter((field) => field.value !== undefined)
      .map((field) => [field.name, field.value]),
  );
}

/**
 * Validates overrides against the provider's config schema and keeps only the fields an
 * intent may override. Empty fields mean "inherit" and are dropped.
 */
export function parseOverrides(provider: ProviderModule, raw: unknown) {
  const result = v.safeParse(provider.configSchema, raw ?? {});
  if (!result.success) return { ok: false as const, fieldErrors: fieldErrors(result.issues, "overrides.") };
  const overrides = Object.fromEntries(
    Object.entries(result.output).filter(([key, value]) => provider.overridableFields.includes(key) && value !== undefined),
  );
  return { ok: true as const, overrides };
}

/** Overrides that make no sense for another provider are dropped when an intent is repointed. */
export function overridesForProvider(provider: ProviderModule, overrides: Record<string, unknown>) {
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    if (provider.overridableFields.includes(key)) kept[key] = value;
    else dropped.push(key);
  }
  return { kept, dropped };
}
