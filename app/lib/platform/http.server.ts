const MAX_FORM_BYTES = 64 * 1024;

/** The request body, read up to `limit` bytes whatever Content-Length says (chunked bodies too). */
export async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > limit) return null;
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Reads a submitted form. Oversized or unreadable bodies are the client's fault: they get a
 * 400/413/415 response, never a 500.
 */
export async function readFormData(request: Request): Promise<FormData> {
  const type = request.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    throw new Response("Expected a form submission.", { status: 415 });
  }
  const body = await readBodyWithin(request, MAX_FORM_BYTES);
  if (!body) throw new Response("This form submission is too large.", { status: 413 });
  try {
    return await new Response(body, { headers: { "Content-Type": type } }).formData();
  } catch {
    throw new Response("We could not read this form submission.", { status: 400 });
  }
}

/**
 * Runs `work` with a signal that aborts after `ms` with a "TimeoutError" DOMException, and clears
 * the timer as soon as `work` settles. AbortSignal.timeout's timer would outlive the call: workerd
 * allows 10,000 active timeouts per isolate, so a busy isolate could run out.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`No answer within ${ms} ms.`, "TimeoutError")), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `signal` was aborted by its withDeadline timer. */
export function deadlinePassed(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof DOMException && signal.reason.name === "TimeoutError";
}
