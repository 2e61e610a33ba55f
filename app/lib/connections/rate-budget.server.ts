import type { ConnectionRow } from "../platform/schema";
import type { RateBudget } from "../providers/types";

/**
 * Rate-limit budget per connection (docs/decisions/020-rate-limit-budget.md). Each provider
 * declares how its answers report the token's budget; the last report is kept on the connection,
 * and deliveries through a connection whose budget is nearly spent wait for the reset instead of
 * being refused with a 429. A 429 itself pauses the connection until its Retry-After.
 */

export type BudgetFacts = Pick<
  ConnectionRow,
  "budget_unit" | "budget_limit" | "budget_remaining" | "budget_reset_at" | "budget_observed_at" | "budget_refill"
>;

/** Kept in hand: 2 % of the limit, at least one request (others may share the token's budget). */
export function reserveOf(limit: number | null): number {
  return limit === null ? 0 : Math.max(1, Math.ceil(limit * 0.02));
}

/** Until when deliveries through the connection should wait, or null when they may go ahead. */
export function budgetWaitUntil(facts: BudgetFacts, now: number): number | null {
  const { budget_remaining: remaining, budget_reset_at: resetAt, budget_limit: limit, budget_observed_at: observedAt } = facts;
  if (remaining === null || resetAt === null || resetAt <= now) return null;
  const reserve = reserveOf(limit);
  if (remaining > reserve) return null;
  // A leaky bucket refills steadily from the report until full at the reset: wait only until
  // it holds more than the reserve again.
  if (facts.budget_refill === "continuous" && limit !== null && observedAt !== null && limit > remaining && resetAt > observedAt) {
    const perMs = (limit - remaining) / (resetAt - observedAt);
    const enoughAt = observedAt + Math.ceil((reserve + 1 - remaining) / perMs);
    return enoughAt > now ? Math.min(enoughAt, resetAt) : null;
  }
  return resetAt;
}

/** The columns that record a reported budget. */
export function budgetColumns(budget: RateBudget, observedAt: number): BudgetFacts {
  return {
    budget_unit: budget.unit,
    budget_limit: budget.limit,
    budget_remaining: budget.remaining,
    budget_reset_at: budget.resetAt,
    budget_observed_at: observedAt,
    budget_refill: budget.refill,
  };
}

/**
 * After a 429: nothing left until the provider's Retry-After (or the reset of a spent window, if
 * later); the limit and unit last reported are kept.
 */
export function pausedColumns(facts: BudgetFacts, reported: RateBudget | null, retryAfterMs: number, now: number): BudgetFacts {
  // The reported reset matters only when that budget is what ran out, and refills all at once
  // (a secondary limit leaves the primary budget's hourly reset irrelevant).
  const windowSpent = reported !== null && reported.refill === "at-reset" && reported.remaining <= reserveOf(reported.limit);
  const resetAt = Math.max(now + retryAfterMs, windowSpent ? reported.resetAt : 0);
  return {
    budget_unit: reported?.unit ?? facts.budget_unit,
    budget_limit: reported?.limit ?? facts.budget_limit,
    budget_remaining: 0,
    budget_reset_at: resetAt,
    budget_observed_at: now,
    // The pause ends at once, whatever the budget's own refill.
    budget_refill: "at-reset",
  };
}

/** "Paced: GitHub reports 40 of 5,000 requests per hour left…": why a delivery waits, in words. */
export function pacedMessage(providerName: string, facts: BudgetFacts, until: number): string {
  const at = new Date(until).toISOString();
  if (facts.budget_limit === null || facts.budget_unit === null) {
    return `Paced: ${providerName} asked SpokeDo to slow down for this connection; sent after ${at}, without calling it before then.`;
  }
  return (
    `Paced: ${providerName} reports ${facts.budget_remaining} of ${facts.budget_limit} ${facts.budget_unit} left for this connection ` +
    `until ${at}; SpokeDo keeps the rest in hand and sends after the reset instead of being refused.`
  );
}
