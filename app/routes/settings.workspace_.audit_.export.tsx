import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { exportAuditEvents, readAuditFilter } from "~/lib/audit/trail.server";

const FORMATS = {
  csv: { type: "text/csv; charset=utf-8", extension: "csv" },
  jsonl: { type: "application/x-ndjson; charset=utf-8", extension: "jsonl" },
} as const;

/** GET /settings/workspace/audit/export?format=csv|jsonl (+ the page's filters): the whole filtered trail, streamed. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request, { permission: "audit.export" });
  const params = new URL(request.url).searchParams;
  const format = params.get("format") === "jsonl" ? "jsonl" : "csv";
  const day = new Date().toISOString().slice(0, 10);
  return new Response(exportAuditEvents(context.db, workspace.id, readAuditFilter(params), format), {
    headers: {
      "Content-Type": FORMATS[format].type,
      "Content-Disposition": `attachment; filename="spokedo-audit-${day}.${FORMATS[format].extension}"`,
      "Cache-Control": "no-store",
    },
  });
}
