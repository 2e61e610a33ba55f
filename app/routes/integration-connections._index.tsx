import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData } from "@remix-run/react";
import { requireWorkspaceMember } from "~/lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Connections · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspaceMember(context, request);
  return json({ workspace: { name: workspace.name } });
}

export default function ConnectionsIndex() {
  const { workspace } = useLoaderData<typeof loader>();
  return (
    <section className="page">
      <header className="page__header">
        <div>
          <h1>Connections</h1>
          <p className="lead">
            The authorized links from <strong>{workspace.name}</strong> to the accounts your intents deliver to.
          </p>
        </div>
      </header>
      <div className="empty-state card">
        <h2>No connections yet</h2>
        <p>
          A connection is your authorized link to one GitHub, Slack, Notion, Linear or Trello account. Once
          connected, intents can open issues, post messages, create pages and cards through it.
        </p>
      </div>
    </section>
  );
}
