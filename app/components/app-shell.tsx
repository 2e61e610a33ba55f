import { Form, NavLink, useLocation } from "@remix-run/react";
import type { ReactNode } from "react";
import { SubmitButton } from "./forms";

export interface Viewer {
  email: string;
  workspace: { id: string; name: string; role: string } | null;
  workspaces: { id: string; name: string; role: string }[];
  /** Connections of the workspace that are not active. */
  needingAttention: number;
}

const NAVIGATION = [
  { to: "/integration-connections", label: "Connections" },
  { to: "/intents", label: "Intents" },
  { to: "/insights", label: "Insights" },
  { to: "/settings/workspace", label: "Workspace settings" },
];

export interface FlashMessage {
  type: "success" | "error" | "info";
  message: string;
}

export function AppShell({ viewer, flash, children }: { viewer: Viewer | null; flash?: FlashMessage | null; children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={viewer ? "/integration-connections" : "/"}>
          <img src="/favicon.svg" alt="" width={24} height={24} />
          SpokeDo
        </a>
        {viewer ? <SignedInHeader viewer={viewer} /> : <SignedOutHeader />}
      </header>
      <main id="main" tabIndex={-1}>
        {flash ? (
          <div className={`flash flash--${flash.type}`} role={flash.type === "error" ? "alert" : "status"}>
            {flash.message}
          </div>
        ) : null}
        {children}
      </main>
    </>
  );
}

function SignedOutHeader() {
  return (
    <nav className="topbar__auth" aria-label="Account">
      <a href="/login">Sign in</a>
      <a className="button button--primary button--small" href="/signup">
        Create account
      </a>
    </nav>
  );
}

function SignedInHeader({ viewer }: { viewer: Viewer }) {
  const location = useLocation();
  return (
    <>
      <nav className="topbar__nav" aria-label="Main">
        <ul>
          {NAVIGATION.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} prefetch="intent">
                {item.label}
                {item.to === "/integration-connections" && viewer.needingAttention > 0 ? (
                  <span className="nav-count" title={`${viewer.needingAttention} need attention`}>
                    {viewer.needingAttention}
                    <span className="visually-hidden"> need attention</span>
                  </span>
                ) : null}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="topbar__account">
        {/* One workspace: its name, nothing to switch to. */}
        {viewer.workspaces.length === 1 ? (
          <span className="topbar__workspace" title="Workspace">
            {viewer.workspaces[0]!.name}
          </span>
        ) : null}
        {viewer.workspaces.length > 1 ? (
          <Form method="post" action="/workspaces/switch" className="switcher">
            <input type="hidden" name="redirectTo" value={location.pathname} />
            <label htmlFor="workspace-switcher" className="visually-hidden">
              Active workspace
            </label>
            <select
              id="workspace-switcher"
              name="workspaceId"
              // Remount when the active workspace changes so the choice shown is never stale.
              key={viewer.workspace?.id}
              defaultValue={viewer.workspace?.id}
            >
              {viewer.workspaces.map((workspace) => (
                <option key={workspace.id} value={workspace.id}>
                  {workspace.name}
                </option>
              ))}
            </select>
            <SubmitButton variant="secondary" pendingText="Switching…">
              Switch
            </SubmitButton>
          </Form>
        ) : null}
        <span className="topbar__email" title="Signed in as">
          {viewer.email}
        </span>
        <Form method="post" action="/logout">
          <SubmitButton variant="secondary" pendingText="Signing out…">
            Sign out
          </SubmitButton>
        </Form>
      </div>
    </>
  );
}
