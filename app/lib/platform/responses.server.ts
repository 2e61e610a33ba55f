/** Thrown from loaders and actions: Remix renders the error page with this status. */
export function notFound(): Response {
  return new Response("Not found", { status: 404 });
}

/**
 * The row, or a 404: another workspace's id looks exactly like an id that does not exist.
 * Ids longer than any we issue are refused without a query.
 */
export async function requireFound<T>(id: string | undefined, find: (id: string) => Promise<T | undefined | null>): Promise<T> {
  const found = id && id.length <= 64 ? await find(id) : undefined;
  if (!found) throw notFound();
  return found;
}
