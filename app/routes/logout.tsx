import { redirect, type ActionFunctionArgs } from "@remix-run/cloudflare";
import { destroySession } from "~/lib/accounts/sessions.server";

// Signing out changes state, so it is a POST; a GET here only sends the visitor home.
export function loader() {
  return redirect("/");
}

export async function action({ request, context }: ActionFunctionArgs) {
  const cookie = await destroySession(context, request);
  return redirect("/login", { headers: { "Set-Cookie": cookie } });
}
