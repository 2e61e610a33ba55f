import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useLoaderData } from "@remix-run/react";
import { AuditTable, AuditWhatOptions } from "~/components/audit-events";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { can } from "~/lib/accounts/permissions";
import { AUDIT_RETENTION_DAYS } from "~/lib/audit/catalog";
import { loadAuditPage } from "~/lib/audit/page.server";

export const meta: MetaFunction = () => [{ title: "Audit trail · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  const page = await loadAuditPage(context.db, workspace.id, new URL(request.url).searchParams);
  return json({ ...page, workspaceName: workspace.name, canExport: can(workspace.role, "audit.export"), now: Date.now() });
}

/** Every change people and API keys made in the workspace, newest first, filtered and paged by keyset. */
export default function AuditTrail() {
  const data = useLoaderData<typeof loader>();
  const { filter } = data;
  const filtered = data.query !== "";
  const exportHref = (format: string) =>
    `/settings/workspace/audit/export?${new URLSearchParams([...new URLSearchParams(data.query), ["format", format]])}`;
  return (
    <section className="page">
      <p className="breadcrumbs">
        <a href="/settings/workspace">Workspace settings</a> / Audit trail
      </p>
      <header className="page__header">
        <div>
          <h1>Audit trail</h1>
          <p className="lead">
            Every change people and API keys made in <strong>{data.workspaceName}</strong>: who, what, when and from where. Events are kept
            for {AUDIT_RETENTION_DAYS} days and cannot be edited.
          </p>
        </div>
        {data.canExport ? (
          <div className="actions">
            <a className="button button--secondary" href={exportHref("csv")} download>
              Export CSV
            </a>
            <a className="button button--secondary" href={exportHref("jsonl")} download>
              Export JSON Lines
            </a>
          </div>
        ) : null}
      </header>

      <Form method="get" className="card filters" role="search" aria-label="Filter the audit trail">
        <label>
          <span className="field__label">Who</span>
          <select name="actor" defaultValue={filter.actor ?? ""}>
            <option value="">Anyone</option>
            {data.actors.map((actor) => (
              <option key={actor.id} value={actor.id}>
                {actor.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="field__label">What</span>
          <select name="what" defaultValue={filter.action ?? filter.objectType ?? ""}>
            <AuditWhatOptions />
          </select>
        </label>
        {filter.object ? (
          <p className="filters__object">
            <input type="hidden" name="object" value={filter.object} />
            Only <strong>{data.objectLabel}</strong>
          </p>
        ) : null}
        <div className="filters__actions">
          <button type="submit" className="button button--secondary">
            Filter
          </button>
          {filtered ? <a href="/settings/workspace/audit">Clear</a> : null}
        </div>
      </Form>

      {data.events.length ? (
        <AuditTable events={data.events} now={data.now} />
      ) : (
        <div className="card empty-state">
          <p>{filtered ? "No change matches these filters." : "No change recorded yet."}</p>
        </div>
      )}

      {data.older || data.paged ? (
        <nav className="pagination" aria-label="Pages">
          {data.paged ? <a href={`/settings/workspace/audit${filtered ? `?${data.query}` : ""}`}>← Newest</a> : <span />}
          <span />
          {data.older ? (
            <a href={`/settings/workspace/audit?${data.older}`} rel="next">
              Older →
            </a>
          ) : (
            <span />
          )}
        </nav>
      ) : null}
    </section>
  );
}
