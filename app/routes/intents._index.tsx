import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/cloudflare";
import { requireWorkspaceMember } from "~/lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Intents · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireWorkspaceMember(context, request);
  return null;
}

export default function IntentsIndex() {
  return (
    <section className="page">
      <h1>Intents</h1>
      <div className="empty-state card">
        <h2>No intents yet</h2>
        <p>
          An intent says where an insight goes: which connection delivers it, and which of the connection’s
          defaults (repository, channel, database…) it overrides.
        </p>
      </div>
    </section>
  );
}
