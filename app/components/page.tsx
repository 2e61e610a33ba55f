import type { ReactNode } from "react";

export interface PageAction {
  href: string;
  label: string;
}

function ActionLink({ action }: { action: PageAction }) {
  return (
    <a className="button button--primary" href={action.href}>
      {action.label}
    </a>
  );
}

/** A section's heading, its one-line explanation and its main action. */
export function PageHeader({ title, lead, action }: { title: string; lead: ReactNode; action?: PageAction }) {
  return (
    <header className="page__header">
      <div>
        <h1>{title}</h1>
        <p className="lead">{lead}</p>
      </div>
      {action ? <ActionLink action={action} /> : null}
    </header>
  );
}

/** What an empty list shows: what the thing is and the first step to take. */
export function EmptyState({ title, children, action }: { title: string; children: ReactNode; action?: PageAction }) {
  return (
    <div className="empty-state card">
      <h2>{title}</h2>
      <p>{children}</p>
      {action ? <ActionLink action={action} /> : null}
    </div>
  );
}
