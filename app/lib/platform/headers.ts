import type { HeadersFunction } from "@remix-run/cloudflare";

/**
 * Remix builds a document response's headers from the route's `headers` export only: this one
 * passes on what the action or loader set (Retry-After on a 429, for example).
 */
export const forwardDataHeaders: HeadersFunction = ({ actionHeaders, loaderHeaders }) => {
  const headers = new Headers();
  for (const source of [loaderHeaders, actionHeaders]) {
    for (const name of ["Retry-After", "Cache-Control", "Referrer-Policy"]) {
      const value = source.get(name);
      if (value) headers.set(name, value);
    }
  }
  return headers;
};
