import { notFound } from "~/lib/platform/responses.server";

// Any URL no other route claims renders the 404 page inside the app layout.
export function loader() {
  throw notFound();
}

export default function NotFound() {
  return null;
}
