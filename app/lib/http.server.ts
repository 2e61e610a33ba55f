const MAX_FORM_BYTES = 64 * 1024;

/**
 * Reads a submitted form. Oversized or unreadable bodies are the client's fault: they get a
 * 400/413 response, never a 500.
 */
export async function readFormData(request: Request): Promise<FormData> {
  const length = Number(request.headers.get("Content-Length") ?? "0");
  if (length > MAX_FORM_BYTES) throw new Response("This form submission is too large.", { status: 413 });
  const type = request.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    throw new Response("Expected a form submission.", { status: 415 });
  }
  try {
    return await request.formData();
  } catch {
    throw new Response("We could not read this form submission.", { status: 400 });
  }
}
