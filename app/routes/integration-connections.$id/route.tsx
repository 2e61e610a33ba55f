import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ProviderIcon } from "~/components/provider-icon";
import { StatusBadge } from "~/components/status-badge";
import { requirePermission, requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { permissionsOf } from "~/lib/accounts/permissions";
import { requireConnection, requireVault } from "~/lib/connections/guards.server";
import { loadConnectionPage } from "~/lib/connections/page.server";
import { forwardDataHeaders } from "~/lib/platform/headers";
import { readFormData } from "~/lib/platform/http.server";
import { notFound } from "~/lib/platform/responses.server";
import { AccountCard, HistoryCard } from "./account-card";
import { ACTIONS, REQUIRES } from "./actions.server";
import { DeliveriesCard } from "./deliveries-card";
import { DangerZone, IntentsCard } from "./intents-card";
import { OtherAccountPrompt } from "./other-account-prompt";
import { DetailIntentSchema } from "./schema";
import { SettingsCard } from "./settings-card";
import { StatusCard } from "./status-card";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.connection.name ?? "Connection"} · SpokeDo` }];
export const headers = forwardDataHeaders;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const member = await requireWorkspaceMember(context, request);
  const { db, settings } = await requireVault(context);
  const actor = { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId };
  const page = await loadConnectionPage(db, settings, actor, params.id ?? "");
  if (!page) throw notFound();
  return json({ now: Date.now(), can: permissionsOf(member.workspace.role), ...page });
}

export type PageData = ReturnType<typeof useLoaderData<typeof loader>>;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request);
  const deps = await requireVault(context);
  const connection = await requireConnection(context, member.workspace.id, params.id);
  const formData = await readFormData(request);
  const intent = v.safeParse(DetailIntentSchema, formData.get("intent"));
  if (!intent.success) throw new Response("Unknown action.", { status: 400 });
  requirePermission(member, REQUIRES[intent.output]);
  return ACTIONS[intent.output]({ context, member, deps, connection, formData });
}

export default function ConnectionDetail() {
  const data = useLoaderData<typeof loader>();
  const { connection, provider } = data;
  return (
    <section className="page">
      <p className="breadcrumbs">
        <a href="/integration-connections">Connections</a> / {connection.name}
      </p>
      <header className="page__header">
        <div className="title-with-icon">
          <ProviderIcon src={provider.icon} size={40} />
          <div>
            <h1>{connection.name}</h1>
            <p className="lead">
              {provider.name} ·{" "}
              {connection.accountUrl ? (
                <a href={connection.accountUrl} rel="noreferrer">
                  {connection.accountLabel}
                </a>
              ) : (
                connection.accountLabel
              )}
            </p>
          </div>
        </div>
        <div>
          <StatusBadge status={connection.status} />
          {connection.disabledAt !== null ? <span className="badge status status--disabled">Disabled</span> : null}
        </div>
      </header>

      {data.pending && data.can["connections.reauthorize"] ? (
        <OtherAccountPrompt pending={data.pending} current={connection.accountLabel} providerName={provider.name} />
      ) : null}
      {/* Ordered by task: what is wrong and the one next step, the defaults, what was delivered, then the details. */}
      <StatusCard data={data} />
      <SettingsCard data={data} />
      <DeliveriesCard data={data} />
      <div className="grid-2">
        <AccountCard data={data} />
        <HistoryCard data={data} />
      </div>
      <IntentsCard data={data} />
      {data.can["connections.delete"] ? <DangerZone data={data} /> : null}
    </section>
  );
}
