import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, Field, SubmitButton } from "~/components/forms";
import { ProviderIcon } from "~/components/provider-icon";
import { StatusBadge } from "~/components/status-badge";
import { RelativeTime } from "~/components/time";
import { requireWorkspaceMember } from "~/lib/auth.server";
import { requireConnection, requireKeyRing } from "~/lib/connection-guards.server";
import { listDependentIntents, testConnection, updateConnectionSettings } from "~/lib/connections.server";
import { flashCookie } from "~/lib/flash.server";
import { formatExact } from "~/lib/format";
import { parseForm } from "~/lib/forms";
import { forwardDataHeaders } from "~/lib/headers";
import { readFormData } from "~/lib/http.server";
import {
  confirmReauthorization,
  discardPendingReauthorization,
  getPendingReauthorization,
  startAuthorization,
} from "~/lib/oauth-flows.server";
import { deliveryHistory, latestDeliveries } from "~/lib/deliveries.server";
import { listConnectionChoices, repointIntents } from "~/lib/intents.server";
import { DeliveryChart } from "~/components/delivery-chart";
import { getProvider } from "~/lib/providers/registry";
import { IdSchema } from "~/lib/validation";
import { compactConfig, configFormValues } from "~/lib/config-forms.server";
import { ConfigFields, type ConfigFormValue } from "~/components/config-fields";
import { DetailIntentSchema, SettingsNameSchema, settingsSchema, type SettingsShape } from "./schema";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.connection.name ?? "Connection"} · SpokeDo` }];
export const headers = forwardDataHeaders;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const member = await requireWorkspaceMember(context, request);
  await requireKeyRing(context);
  const row = await requireConnection(context, member.workspace.id, params.id ?? "");
  const provider = getProvider(row.provider);
  const [intents, pending, history, latest] = await Promise.all([
    listDependentIntents(context.db, member.workspace.id, row.id),
    getPendingReauthorization(context, { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId }, row.id),
    deliveryHistory(context.db, member.workspace.id, row.id),
    latestDeliveries(context.db, member.workspace.id, row.id),
  ]);
  const config = JSON.parse(row.config_json) as Record<string, unknown>;
  // Only needed when there is something to repoint.
  const repointTargets =
    intents.length > 0
      ? (await listConnectionChoices(context.db, member.workspace.id)).filter((c) => c.provider === row.provider && c.id !== row.id)
      : [];
  return json({
    now: Date.now(),
    connection: {
      id: row.id,
      name: row.name,
      status: row.status,
      statusReason: row.status_reason,
      statusChangedAt: row.status_changed_at,
      lastError: row.last_error,
      lastErrorInsightId: row.last_error_insight_id,
      lastErrorAt: row.last_error_at,
      accountLabel: row.account_label,
      accountUrl: row.account_url,
      identity: JSON.parse(row.identity_json) as Record<string, string>,
      scopes: row.scopes ? row.scopes.split(" ") : [],
      accessTokenExpiresAt: row.access_token_expires_at,
      refreshTokenExpiresAt: row.refresh_token_expires_at,
      hasRefreshToken: row.refresh_token_ct !== null,
      authorizedAt: row.authorized_at,
      lastRefreshedAt: row.last_refreshed_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastUsedAt: row.last_used_at,
    },
    provider: {
      id: provider.id,
      name: provider.name,
      icon: provider.icon,
      configured: context.config.providers[provider.id].credentials !== null,
      canRevoke: provider.revoke !== undefined,
    },
    configFields: provider.configFields,
    overridableFields: provider.overridableFields,
    configValues: configFormValues(provider.configFields, config),
    intents,
    history,
    latest,
    repointTargets,
    pending,
  });
}

type SaveReply = { intent: "save"; result: SubmissionResult<string[]> };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request);
  const ring = await requireKeyRing(context);
  const connection = await requireConnection(context, member.workspace.id, params.id ?? "");
  const actor = { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId };
  const formData = await readFormData(request);
  const intent = v.safeParse(DetailIntentSchema, formData.get("intent"));
  if (!intent.success) throw new Response("Unknown action.", { status: 400 });

  const here = `/integration-connections/${connection.id}`;
  const back = (flash: Parameters<typeof flashCookie>[1]) => redirect(here, { status: 303, headers: { "Set-Cookie": flashCookie(context, flash) } });
  const provider = getProvider(connection.provider);

  switch (intent.output) {
    case "save": {
      const submission = parseForm(formData, settingsSchema(provider));
      if (submission.status !== "success") return json<SaveReply>({ intent: "save", result: submission.reply() }, { status: 400 });
      const saved = await updateConnectionSettings(context.db, member.workspace.id, connection.id, {
        name: submission.value.name,
        config: compactConfig(submission.value.config),
      });
      if (!saved.ok && saved.reason === "name_taken") {
        return json<SaveReply>(
          { intent: "save", result: submission.reply({ fieldErrors: { name: [`This workspace already has a connection named ${submission.value.name}.`] } }) },
          { status: 400 },
        );
      }
      if (!saved.ok) throw new Response("Not found", { status: 404 });
      return back({ type: "success", message: "Settings saved." });
    }
    case "test": {
      const outcome = await testConnection(context.dbHandle, context.config, ring, connection);
      return back({ type: outcome.status === "active" ? "success" : "error", message: outcome.message });
    }
    case "reauthorize": {
      const started = await startAuthorization(context, context.config, ring, actor, {
        provider: connection.provider,
        purpose: "reauthorize",
        connectionId: connection.id,
      });
      if (started.ok) return redirect(started.url, 303);
      switch (started.reason) {
        case "not_configured":
          return back({ type: "error", message: `${provider.name} is not configured on this server.` });
        case "rate_limited":
          return back({ type: "error", message: "Too many authorizations started in the last 10 minutes. Please wait a few minutes." });
        case "provider_error":
          return back({ type: "error", message: `Could not start the authorization. ${started.message}` });
      }
    }
    case "confirm-account": {
      const confirmed = await confirmReauthorization(context, ring, actor, connection.id);
      return back(
        confirmed
          ? { type: "success", message: "The connection now uses the other account. Its id, name and settings are unchanged." }
          : { type: "error", message: "That re-authorization expired. Re-authorize again." },
      );
    }
    case "repoint-intents": {
      const target = v.safeParse(IdSchema, formData.get("targetConnectionId"));
      const moved = target.success ? await repointIntents(context.db, member.workspace.id, connection, target.output) : ({ ok: false, reason: "not_found" } as const);
      if (!moved.ok) {
        const message = moved.reason === "other_provider" ? `Intents can only move to another ${provider.name} connection.` : "Choose another connection to move the intents to.";
        return back({ type: "error", message });
      }
      return back({ type: "success", message: `Moved ${moved.moved} intent${moved.moved === 1 ? "" : "s"}; this connection can now be deleted.` });
    }
    case "cancel-account":
      await discardPendingReauthorization(context, actor, connection.id);
      return back({ type: "info", message: "Kept the current account; the other account's tokens were discarded." });
  }
}

export default function ConnectionDetail() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const { connection, provider, now } = data;
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
        <StatusBadge status={connection.status} />
      </header>

      {data.pending ? <OtherAccountPrompt pending={data.pending} current={connection.accountLabel} providerName={provider.name} /> : null}

      <StatusCard data={data} />

      <div className="grid-2">
        <div className="card">
          <h2>Account and tokens</h2>
          <dl className="facts">
            <dt>Account</dt>
            <dd>{connection.accountLabel}</dd>
            {Object.entries(connection.identity).map(([key, value]) => (
              <div key={key} className="facts__row">
                <dt>{key.replace(/_/g, " ")}</dt>
                <dd>
                  <code>{value}</code>
                </dd>
              </div>
            ))}
            <dt>Granted scopes</dt>
            <dd>{connection.scopes.length ? connection.scopes.map((scope) => <code key={scope} className="scope">{scope}</code>) : <span className="muted">none reported</span>}</dd>
            <dt>Access token expires</dt>
            <dd>
              <RelativeTime value={connection.accessTokenExpiresAt} now={now} never="does not expire" />
            </dd>
            <dt>Refresh token</dt>
            <dd>
              {connection.hasRefreshToken ? (
                <>
                  held{connection.refreshTokenExpiresAt ? <>, expires <RelativeTime value={connection.refreshTokenExpiresAt} now={now} /></> : null}
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Last refresh</dt>
            <dd>
              <RelativeTime value={connection.lastRefreshedAt} now={now} />
            </dd>
            <dt>Authorized</dt>
            <dd>
              <RelativeTime value={connection.authorizedAt} now={now} />
            </dd>
          </dl>
          <div className="actions">
            <Form method="post">
              <input type="hidden" name="intent" value="test" />
              <SubmitButton variant="secondary" match={{ name: "intent", value: "test" }} pendingText="Testing…">
                Test connection
              </SubmitButton>
            </Form>
            <Form method="post">
              <input type="hidden" name="intent" value="reauthorize" />
              <SubmitButton variant="secondary" match={{ name: "intent", value: "reauthorize" }} pendingText={`Redirecting to ${provider.name}…`}>
                Re-authorize
              </SubmitButton>
            </Form>
          </div>
          <p className="muted small">
            Re-authorize replaces the tokens in place: the connection keeps its id, name and settings, so intents keep working.
          </p>
        </div>

        <div className="card">
          <h2>History</h2>
          <dl className="facts">
            <dt>Created</dt>
            <dd>
              <RelativeTime value={connection.createdAt} now={now} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <RelativeTime value={connection.updatedAt} now={now} />
            </dd>
            <dt>Last used</dt>
            <dd>
              <RelativeTime value={connection.lastUsedAt} now={now} />
            </dd>
          </dl>
        </div>
      </div>

      <div className="card">
        <h2>Deliveries</h2>
        <DeliveryChart series={data.history} />
        {data.latest.length ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Insight</th>
                <th scope="col">Intent</th>
                <th scope="col">Outcome</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {data.latest.map((delivery) => (
                <tr key={delivery.id}>
                  <td>
                    <a href={`/insights/${delivery.insight_id}`}>{delivery.title}</a>
                  </td>
                  <td>{delivery.intent_name}</td>
                  <td>
                    <span className={`badge delivery delivery--${delivery.status}`}>
                      {delivery.status === "succeeded" ? "Delivered" : delivery.status === "failed" ? "Failed" : "Pending"}
                    </span>
                    {delivery.item_url ? (
                      <>
                        {" "}
                        <a href={delivery.item_url} rel="noreferrer">
                          open
                        </a>
                      </>
                    ) : null}
                  </td>
                  <td>
                    <RelativeTime value={delivery.created_at} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No insight has been delivered through this connection yet.</p>
        )}
      </div>

      <SettingsForm
        name={connection.name}
        fields={data.configFields}
        overridable={data.overridableFields}
        values={data.configValues}
        lastResult={actionData?.intent === "save" ? actionData.result : undefined}
      />

      <div className="card">
        <h2>Intents using this connection</h2>
        {data.intents.length === 0 ? (
          <p className="muted">No intent delivers through this connection.</p>
        ) : (
          <>
            <p>
              {data.intents.length === 1 ? "1 intent depends" : `${data.intents.length} intents depend`} on this connection. Delete is
              blocked until they are repointed or deleted.
            </p>
            <ul className="plain-list">
              {data.intents.map((intent) => (
                <li key={intent.id}>
                  <a href={`/intents/${intent.id}`}>{intent.name}</a>
                  {intent.enabled ? null : <span className="muted"> (disabled)</span>}
                </li>
              ))}
            </ul>
            {data.repointTargets.length > 0 ? (
              <Form method="post" className="row repoint">
                <input type="hidden" name="intent" value="repoint-intents" />
                <label className="field">
                  <span className="field__label">Move all of them to</span>
                  <select name="targetConnectionId" required>
                    {data.repointTargets.map((target) => (
                      <option key={target.id} value={target.id}>
                        {target.name}
                        {target.status === "active" ? "" : ` (${target.status})`}
                      </option>
                    ))}
                  </select>
                </label>
                <SubmitButton variant="secondary" match={{ name: "intent", value: "repoint-intents" }} pendingText="Moving…">
                  Repoint intents
                </SubmitButton>
              </Form>
            ) : (
              <p className="muted small">To move them all at once, connect another {provider.name} account first.</p>
            )}
          </>
        )}
        <h3>Delete</h3>
        <p className="muted">
          Deleting is final. Re-authorize instead when the token expired; delete only when the account is being retired.
        </p>
        <a className="button button--danger" href={`/integration-connections/${connection.id}/delete`}>
          Delete connection…
        </a>
      </div>
    </section>
  );
}

function StatusCard({ data }: { data: ReturnType<typeof useLoaderData<typeof loader>> }) {
  const { connection, now } = data;
  return (
    <div className={`card status-card status-card--${connection.status}`}>
      <h2>Status</h2>
      <p>
        <StatusBadge status={connection.status} /> since <RelativeTime value={connection.statusChangedAt} now={now} />
        {connection.statusReason ? <> — {connection.statusReason}</> : null}
      </p>
      {connection.lastError ? (
        <p>
          Last error <RelativeTime value={connection.lastErrorAt} now={now} />: <span className="provider-message">{connection.lastError}</span>
          {connection.lastErrorInsightId ? (
            <>
              {" "}
              (<a href={`/insights/${connection.lastErrorInsightId}`}>see the insight</a>)
            </>
          ) : null}
        </p>
      ) : null}
      <p className="muted small">
        {connection.status === "active"
          ? "Intents deliver through this connection."
          : connection.status === "error"
            ? "Deliveries fail while the connection is in error. A successful Test connection or a re-authorization makes it active again."
            : "Deliveries fail until you re-authorize."}
      </p>
    </div>
  );
}

function OtherAccountPrompt({ pending, current, providerName }: { pending: { accountLabel: string; expiresAt: number }; current: string; providerName: string }) {
  return (
    <div className="card card--warning" role="alert">
      <h2>You authorized a different {providerName} account</h2>
      <p>
        This connection belongs to <strong>{current}</strong>, but {providerName} just authorized <strong>{pending.accountLabel}</strong>.
        Intents using this connection would deliver to the other account from now on. Switch only if that is what you want
        (this choice is open until {formatExact(pending.expiresAt)}).
      </p>
      <div className="actions">
        <Form method="post">
          <input type="hidden" name="intent" value="confirm-account" />
          <SubmitButton variant="danger" match={{ name: "intent", value: "confirm-account" }} pendingText="Switching…">
            Use {pending.accountLabel}
          </SubmitButton>
        </Form>
        <Form method="post">
          <input type="hidden" name="intent" value="cancel-account" />
          <SubmitButton variant="secondary" match={{ name: "intent", value: "cancel-account" }} pendingText="Keeping…">
            Keep {current}
          </SubmitButton>
        </Form>
      </div>
    </div>
  );
}

function SettingsForm({
  name,
  fields,
  overridable,
  values,
  lastResult,
}: {
  name: string;
  fields: ReturnType<typeof useLoaderData<typeof loader>>["configFields"];
  overridable: string[];
  values: Record<string, ConfigFormValue>;
  lastResult?: SubmissionResult<string[]>;
}) {
  const [form, formFields] = useForm<SettingsShape>({
    id: "connection-settings",
    lastResult,
    defaultValue: { name, config: values },
    constraint: getValibotConstraint(SettingsNameSchema),
  });
  const nameField = formFields.name;
  return (
    <Form method="post" className="card stack" {...getFormProps(form)}>
      <h2>Settings</h2>
      <input type="hidden" name="intent" value="save" />
      <ErrorList id={form.errorId} errors={form.errors} />
      <Field label="Name" hint="What intents pick this connection by." errorId={nameField.errorId} errors={nameField.errors}>
        <input {...getInputProps(nameField, { type: "text" })} autoComplete="off" />
      </Field>
      <fieldset className="stack config-fields">
        <legend className="field__label">Defaults for intents</legend>
        <p className="muted small">Intents that use this connection inherit these values and may override the ones marked overridable.</p>
        <ConfigFields
          fieldset={formFields.config.getFieldset() as never}
          fields={fields}
          hints={Object.fromEntries(overridable.map((name) => [name, "Overridable per intent."]))}
        />
      </fieldset>
      <SubmitButton match={{ name: "intent", value: "save" }} pendingText="Saving…">
        Save settings
      </SubmitButton>
    </Form>
  );
}
