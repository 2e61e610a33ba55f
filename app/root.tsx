import { json, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import {
  isRouteErrorResponse,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLoaderData,
  useRouteError,
  useRouteLoaderData,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { AppShell } from "./components/app-shell";
import { useNonce } from "./components/nonce";
import { readFlash } from "~/lib/platform/flash.server";
import { getCurrentSession } from "~/lib/accounts/sessions.server";
import { listWorkspacesOf } from "~/lib/accounts/workspaces.server";
import { countNeedingAttention } from "~/lib/connections/repository.server";
import stylesheet from "./styles/app.css?url";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export const meta: MetaFunction = () => [{ title: "SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const session = await getCurrentSession(context, request);
  const flash = readFlash(context, request);
  if (!session) return json({ viewer: null, flash });
  // The switcher's workspaces and, for the navigation, how many connections need attention: together.
  const [workspaces, needingAttention] = await Promise.all([
    listWorkspacesOf(context.db, session.user.id),
    session.workspace ? countNeedingAttention(context.db, session.workspace.id) : 0,
  ]);
  const workspace = session.workspace ?? workspaces[0] ?? null;
  return json({ viewer: { email: session.user.email, workspace, workspaces, needingAttention }, flash });
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  const { viewer, flash } = useLoaderData<typeof loader>();
  return (
    <AppShell viewer={viewer} flash={flash}>
      <Outlet />
    </AppShell>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const data = useRouteLoaderData<typeof loader>("root");
  let title = "Something went wrong";
  let message = "We could not show this page. Please try again in a moment.";
  if (isRouteErrorResponse(error)) {
    if (error.status === 404) {
      title = "Page not found";
      message = "There is nothing at this address, or it belongs to another workspace.";
    } else if (error.status === 403) {
      title = "Not allowed";
      message = typeof error.data === "string" && error.data ? error.data : "You cannot do this here.";
    } else if (error.status === 429) {
      title = "Too many requests";
      message = "Please wait a moment before trying again.";
    } else if ((error.status === 400 || error.status === 503) && typeof error.data === "string" && error.data) {
      // Our own explanations (e.g. a stale authorization link); never a raw exception.
      title = error.status === 400 ? "That did not work" : "Not available";
      message = error.data;
    }
  }
  // Never render the error itself: it could carry stack traces, SQL or secrets.
  return (
    <AppShell viewer={data?.viewer ?? null}>
      <section className="page page--narrow error-page">
        <h1>{title}</h1>
        <p>{message}</p>
        <p>
          <a href="/">Go to the start page</a>
        </p>
      </section>
    </AppShell>
  );
}
