import type { SubmissionResult } from "@conform-to/react";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useLoaderData, useLocation } from "@remix-run/react";
import * as v from "valibot";
import { DriftProblems } from "~/components/drift-problems";
import { ProviderIcon } from "~/components/provider-icon";
import { StatusBadge } from "~/components/status-badge";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { can } from "~/lib/accounts/permissions";
import { auditorFor, changesBetween } from "~/lib/audit/trail.server";
import { requireVault } from "~/lib/connections/guards.server";
import { draftParams, searchInsteadOfSave } from "~/lib/connections/pickers.server";
import { loadIntentPage } from "~/lib/delivery/intent-page.server";
import { getIntent, saveIntentSettings } from "~/lib/delivery/intents.server";
import { redirectWithFlash } from "~/lib/platform/flash.server";
import { parseForm } from "~/lib/platform/forms";
import { connectionPick, NO_CONNECTION_PICKED } from "~/lib/platform/validation";
import { readFormData } from "~/lib/platform/http.server";
import { notFound, requireFound } from "~/lib/platform/responses.server";
import { IntentActionSchema, SaveIntentSchema } from "./schema";
import { IntentSettingsForm } from "./settings-form";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.intent.name ?? "Intent"} · SpokeDo` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const deps = await requireVault(context);
  const page = await loadIntentPage(deps, workspace.id, params.id ?? "", new URL(request.url).searchParams);
  if (!page) throw notFound();
  return json({
    now: Date.now(),
    canReauthorize: can(workspace.role, "connections.reauthorize"),
    canConfigure: can(workspace.role, "connections.configure"),
    ...page,
  });
}

type PageData = NonNullable<Awaited<ReturnType<typeof loadIntentPage>>>;
export type SaveReply = { intent: "save"; result: SubmissionResult<string[]>; pickers: PageData["pickers"] };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "intents.manage" });
  const { workspace } = member;
  const intent = await requireFound(params.id, (id) => getIntent(context.db, workspace.id, id));
  const formData = await readFormData(request);
  const action = v.safeParse(IntentActionSchema, formData.get("intent"));
  if (!action.success) throw new Response("Unknown action.", { status: 400 });

  const search = searchInsteadOfSave(formData, new URL(request.url));
  if (search) return redirect(search, 303);

  const submission = parseForm(formData, SaveIntentSchema);
  // A refused save is drawn again with the pickers of what was submitted (a parent chosen just now).
  const reply = async (result: SubmissionResult<string[]>) => {
    const page = await loadIntentPage(await requireVault(context), workspace.id, intent.id, draftParams(formData));
    return json<SaveReply>({ intent: "save", result, pickers: page?.pickers ?? {} }, { status: 400 });
  };
  if (submission.status !== "success") return reply(submission.reply());
  const connection = connectionPick(submission.value);
  if (!connection) return reply(submission.reply({ fieldErrors: { connectionId: [NO_CONNECTION_PICKED] } }));
  const saved = await saveIntentSettings(await requireVault(context), workspace.id, intent, {
    name: submission.value.name,
    connection,
    enabled: submission.value.enabled === "on",
    overrides: submission.value.overrides,
  });
  if (!saved.ok && saved.reason === "not_found") throw notFound();
  if (!saved.ok) return reply(submission.reply({ fieldErrors: saved.fieldErrors }));
  const changes = changesBetween(saved.before, saved.after);
  if (changes)
    await auditorFor(context, member).record({
      action: "intent.changed",
      object: { id: intent.id, label: submission.value.name },
      changes,
    });
  return redirectWithFlash(context, `/intents/${intent.id}`, { type: saved.verified ? "success" : "info", message: saved.message });
}

/** An unset field says what a delivery will do without it, where its provider says so. */
function unsetText(whenUnset: string | undefined) {
  return whenUnset ? `not set: ${whenUnset}` : "not set anywhere";
}

const SOURCE_TEXT = {
  intent: "overridden by this intent",
  connection: "inherited from the connection",
  unset: "not set anywhere",
} as const;

export default function IntentDetail() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  const hints = Object.fromEntries(
    data.effective.map((field) => [
      field.name,
      `${field.connectionValue ? `Connection default: ${field.connectionValue}.` : "No connection default."} Effective: ${field.value || "—"} (${SOURCE_TEXT[field.source]}). Leave empty to inherit.`,
    ]),
  );
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/intents">Intents</a> / {data.intent.name}
      </p>
      <header className="page__header">
        <div className="title-with-icon">
          <ProviderIcon src={data.provider.icon} size={40} />
          <div>
            <h1>{data.intent.name}</h1>
            <p className="lead">
              Delivers through <a href={`/integration-connections/${data.connection.id}`}>{data.connection.name}</a> ({data.provider.name})
            </p>
          </div>
        </div>
        {data.connection.status === "active" ? null : <StatusBadge status={data.connection.status} />}
      </header>

      {data.missingScopes.length ? (
        <div className="card card--warning">
          <h2>{data.connection.name} was not granted what this intent needs</h2>
          <ul>
            {data.missingScopes.map((need) => (
              <li key={need.anyOf.join("|")}>
                {need.for}: needs{" "}
                {need.anyOf.map((scope, index) => (
                  <span key={scope}>
                    {index > 0 ? " or " : null}
                    <code>{scope}</code>
                  </span>
                ))}
              </li>
            ))}
          </ul>
          {data.canReauthorize ? (
            <Form method="post" action={`/integration-connections/${data.connection.id}`} className="inline-form">
              <input type="hidden" name="intent" value="reauthorize" />
              <button type="submit" className="button button--primary">
                Re-authorize {data.connection.name} with {data.provider.name}
              </button>
              <span className="muted small">SpokeDo asks for every scope it needs; the connection keeps its id, name and settings.</span>
            </Form>
          ) : (
            <p>Ask an owner or admin of the workspace to re-authorize {data.connection.name}.</p>
          )}
        </div>
      ) : null}

      {data.drift.problems.length ? (
        <div className="card card--warning">
          <h2>What this intent points at does not work any more</h2>
          <DriftProblems problems={data.drift.problems} />
          <p className="muted small">
            Found by SpokeDo&apos;s check of {data.connection.name}
            {data.drift.checkedAt !== null ? (
              <>
                {" "}
                <RelativeTime value={data.drift.checkedAt} now={data.now} />
              </>
            ) : null}
            , before any delivery failed. Fix the overrides below (or{" "}
            {data.canConfigure ? (
              <a href={`/integration-connections/${data.connection.id}/settings`}>the connection&apos;s defaults</a>
            ) : (
              "the connection's defaults, which owners and admins change"
            )}
            ) and save; it is checked again within a minute.
          </p>
        </div>
      ) : null}

      {data.unverified ? (
        <p className="muted small">
          Not verified with {data.provider.name} yet: what this intent points at is checked at SpokeDo&apos;s next run.
        </p>
      ) : null}

      {data.intent.attention ? (
        <div className="card card--warning">
          <h2>This intent's settings need attention</h2>
          <p>
            Its last delivery failed on what the intent asked for, not on the connection:{" "}
            <span className="provider-message">{data.intent.attention.reason}</span>
            {data.intent.attention.insightId ? (
              <>
                {" "}
                (<a href={`/insights/${data.intent.attention.insightId}`}>see the insight</a>)
              </>
            ) : null}
          </p>
          <p className="muted small">Fix the overrides below (or the connection&apos;s defaults), save, then retry the insight.</p>
        </div>
      ) : null}

      <div className="card">
        <h2>Effective configuration</h2>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {data.effective.map((field) => (
              <tr key={field.name}>
                <td>{data.fields.find((f) => f.name === field.name)?.label ?? field.name}</td>
                <td data-label="Value">{field.value ? <code>{field.value}</code> : <span className="muted">—</span>}</td>
                <td data-label="From" className={`source source--${field.source}`}>
                  {field.source === "unset"
                    ? unsetText(data.fields.find((f) => f.name === field.name)?.whenUnset)
                    : SOURCE_TEXT[field.source]}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {/* Drawn again from each GET of the form (a search, a parent shown), with its values. */}
      <IntentSettingsForm key={location.search} data={data} hints={hints} search={location.search} />

      <div className="card">
        <h2>Delete</h2>
        <p className="muted">Deleting an intent stops its deliveries; past insights keep their logs.</p>
        <a className="button button--danger" href={`/intents/${data.intent.id}/delete`}>
          Delete intent…
        </a>
      </div>
    </section>
  );
}
