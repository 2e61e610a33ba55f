-- Rate-limit budget per connection (docs/decisions/020-rate-limit-budget.md): what the provider
-- last reported of the token's request budget (GitHub's x-ratelimit-*, Linear's X-RateLimit-*,
-- Trello's x-rate-limit-api-token-*), or a pause after a 429's Retry-After (remaining 0 until
-- the reset). Deliveries through a connection whose budget is nearly spent wait for the reset.

ALTER TABLE connections ADD COLUMN budget_unit TEXT;
ALTER TABLE connections ADD COLUMN budget_limit INTEGER;
ALTER TABLE connections ADD COLUMN budget_remaining INTEGER;
ALTER TABLE connections ADD COLUMN budget_reset_at INTEGER;
ALTER TABLE connections ADD COLUMN budget_observed_at INTEGER;
-- 'at-reset' (a fixed window, GitHub) or 'continuous' (a leaky bucket full again at the reset, Linear).
ALTER TABLE connections ADD COLUMN budget_refill TEXT;
