import type { D1Migration } from "@cloudflare/vitest-plugin";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      MIGRATION_DB: D1Database;
      APP_URL: string;
      TOKEN_ENCRYPTION_KEYS: string;
      TOKEN_ENCRYPTION_PRIMARY_KEY_ID: string;
      SLACK_SIGNING_SECRET: string;
      GITHUB_WEBHOOK_SECRET: string;
      LINEAR_WEBHOOK_SECRET: string;
    }
  }
}
