import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { Markdown } from "~/components/markdown";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { auditorFor } from "~/lib/audit/trail.server";
import { getInsight } from "~/lib/delivery/insights.server";
import { insightPageView, LOG_PAGE_SIZE, loadInsightPage } from "~/lib/delivery/log.server";
import { redeliverInsight } from "~/lib/delivery/redelivery.server";
import { redirectWithFlash } from "~/lib/platform/flash.server";
import { readFormData } from "~/lib/platform/http.server";
import { notFound, requireFound } from "~/lib/platform/responses.server";
import { DeliveriesCard } from "./deliveries-card";
import { IntegrationLog } from "./integration-log";

const PageSchema = v.fallback(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(100_000)), 1);
const ActionSchema = v.picklist(["retry-failed"], "Unknown action.");

/** While deliveries are pending the page reloads itself, JavaScript or not. */
const REFRESH_SECONDS = 3;

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.insight.title ?? "Insight"} · SpokeDo` },
  ...(data?.pending ? [{ httpEquiv: "refresh", content: String(REFRESH_SECONDS) }] : []),
];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const page = v.parse(PageSchema, new URL(request.url).searchParams.get("page") ?? "1");
  const log = await loadInsightPage(context.db, workspace.id, params.id ?? "", page);
  if (!log) throw notFound();
  return json({
    ...log,
    insight: insightPageView(log.insight),
    page,
    pages: Math.max(1, Math.ceil(log.total / LOG_PAGE_SIZE)),
    now: Date.now(),
  });
}

export type InsightData = ReturnType<typeof useLoaderData<typeof loader>>;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "insights.send" });
  const { workspace } = member;
  const insight = await requireFound(params.id, (id) => getInsight(context.db, workspace.id, id));
  const intent = v.safeParse(ActionSchema, (await readFormData(request)).get("intent"));
  if (!intent.success) throw new Response("Unknown action.", { status: 400 });
  const count = await redeliverInsight(context.db, context.deliveryQueue, workspace.id, insight.id);
  if (count) {
    const detail = `${count} failed deliver${count === 1 ? "y" : "ies"} sent again.`;
    await auditorFor(context, member).record({ action: "insight.redelivered", object: { id: insight.id, label: insight.title }, detail });
  }
  const message = count
    ? `Retrying ${count} failed deliver${count === 1 ? "y" : "ies"}: each is checked at its provider first, so nothing arrives twice.`
    : "No delivery of this insight has failed.";
  return redirectWithFlash(context, `/insights/${insight.id}`, { type: count ? "success" : "info", message });
}

export default function InsightDetail() {
  const data = useLoaderData<typeof loader>();
  const { insight, now } = data;
  return (
    <section className="page">
      <p className="breadcrumbs">
        <a href="/insights">Insights</a> / {insight.title}
      </p>
      <h1>{insight.title}</h1>
      <p className="muted">
        From the {insight.source === "api" ? "API" : "form"}, <RelativeTime value={insight.createdAt} now={now} />
        {data.pending ? (
          <>
            {" "}
            · {data.pending} deliver{data.pending === 1 ? "y" : "ies"} under way; this page refreshes itself (
            <a href={`/insights/${insight.id}${data.page > 1 ? `?page=${data.page}` : ""}`}>refresh now</a>).
          </>
        ) : null}
      </p>
      <div className="card">{insight.bodyTree.length ? <Markdown nodes={insight.bodyTree} /> : <p className="muted">(no body)</p>}</div>

      <DeliveriesCard data={data} />
      <IntegrationLog data={data} />
    </section>
  );
}
