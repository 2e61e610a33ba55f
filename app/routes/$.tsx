// Any URL no other route claims renders the 404 page inside the app layout.
export function loader() {
  throw new Response("Not found", { status: 404 });
}

export default function NotFound() {
  return null;
}
