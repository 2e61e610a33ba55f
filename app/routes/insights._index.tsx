import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/cloudflare";
import { requireWorkspaceMember } from "~/lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Insights · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireWorkspaceMember(context, request);
  return null;
}

export default function InsightsIndex() {
  return (
    <section className="page">
      <h1>Insights</h1>
      <div className="empty-state card">
        <h2>No insights yet</h2>
        <p>
          Insights are what your automations want acted on: a title and a body, delivered by every intent they
          target. Each one keeps an integration log of its deliveries.
        </p>
      </div>
    </section>
  );
}
