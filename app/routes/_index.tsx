import { redirect, type LoaderFunctionArgs } from "@remix-run/cloudflare";
import { getCurrentSession } from "~/lib/accounts/sessions.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const session = await getCurrentSession(context, request);
  if (session) throw redirect("/integration-connections");
  return null;
}

export default function Landing() {
  return (
    <section className="page landing">
      <h1>Turn insights into actions.</h1>
      <p className="lead">
        SpokeDo delivers every insight your automations produce to the place your team works: a GitHub issue, a Slack message, a Notion
        page, a Linear issue or a Trello card. Connect the accounts once, set sensible defaults per connection, and let your intents do the
        rest.
      </p>
      <p className="landing__actions">
        <a className="button button--primary" href="/signup">
          Create an account
        </a>
        <a className="button button--secondary" href="/login">
          Sign in
        </a>
      </p>
    </section>
  );
}
