-- Rate limits are flow control, not failures: a delivery waits out the provider's limits without
-- using up the retries its round allows for real failures. This counts the rate-limited attempts
-- of the current round (a redelivery starts a new round at 0). See docs/decisions/013-deliveries-on-queues.md.
ALTER TABLE deliveries ADD COLUMN rate_limited_in_round INTEGER NOT NULL DEFAULT 0;
