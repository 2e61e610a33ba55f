import * as v from "valibot";

/** Field schemas shared by every form; each form's own schema sits next to its route. */

// A field missing from the submission (not merely empty) is reported by the object schema;
// say it plainly instead of valibot's "Invalid key: Expected …".
v.setSpecificMessage(v.object, (issue) =>
  issue.received === "undefined" && issue.path?.length ? "This field is required." : "Invalid form submission.",
);
// The API's bodies: a missing field is "required"; a field it does not know is named as such.
v.setSpecificMessage(v.strictObject, (issue) =>
  issue.expected === "never"
    ? "Unknown field: send only the fields this endpoint documents."
    : issue.received === "undefined" && issue.path?.length
      ? "This field is required."
      : "Send a JSON object.",
);

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const EmailSchema = v.pipe(
  v.string("Enter your e-mail address."),
  v.trim(),
  v.nonEmpty("Enter your e-mail address."),
  v.maxLength(254, "An e-mail address has at most 254 characters."),
  v.email("Enter a valid e-mail address, like ada@example.com."),
);

export const NewPasswordSchema = v.pipe(
  v.string("Choose a password."),
  v.nonEmpty("Choose a password."),
  v.minLength(10, "Use at least 10 characters."),
  v.maxLength(128, "Use at most 128 characters."),
);

export const PasswordSchema = v.pipe(
  v.string("Enter your password."),
  v.nonEmpty("Enter your password."),
  v.maxLength(128, "Use at most 128 characters."),
);

export const WorkspaceNameSchema = v.pipe(
  v.string("Name the workspace."),
  v.trim(),
  v.nonEmpty("Name the workspace."),
  v.maxLength(80, "A workspace name has at most 80 characters."),
);

export const RoleSchema = v.picklist(["owner", "admin", "member"], "Choose owner, admin or member.");

export const IdSchema = v.pipe(v.string("Missing id."), v.maxLength(64, "Invalid id."));

/** "Triage Bugs" → "triage-bugs": the name a refused one suggests. */
export function suggestName(input: string): string {
  const slug = input
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+|-+$/g, "")
    .slice(0, 50)
    .replace(/-+$/, "");
  return slug;
}

/** Lowercase, digits and single hyphens; a refused name is answered with the one it could be. */
function slugName(example: string) {
  return v.regex(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/, (issue) => {
    const suggestion = typeof issue.input === "string" ? suggestName(issue.input) : "";
    return suggestion
      ? `Use lowercase letters, digits and single hyphens, starting with a letter: ${suggestion}, for example.`
      : `Use lowercase letters, digits and single hyphens, starting with a letter (like ${example}).`;
  });
}

export const ConnectionNameSchema = v.pipe(
  v.string("Name the connection."),
  v.trim(),
  v.nonEmpty("Name the connection."),
  v.maxLength(50, "A connection name has at most 50 characters."),
  slugName("github-personal"),
);

export const IntentNameSchema = v.pipe(
  v.string("Name the intent."),
  v.trim(),
  v.nonEmpty("Name the intent."),
  v.maxLength(50, "An intent name has at most 50 characters."),
  slugName("triage-bugs"),
);

export const InsightTitleSchema = v.pipe(
  v.string("Give the insight a title."),
  v.trim(),
  v.nonEmpty("Give the insight a title."),
  v.maxLength(200, "A title has at most 200 characters."),
);

export const InsightBodySchema = v.pipe(v.string("The body must be text."), v.maxLength(20_000, "A body has at most 20,000 characters."));

/**
 * The connection an intent delivers through: picked from the list (`connectionId`) or, when the
 * workspace has more connections than the list shows, typed by name (`connectionName`).
 */
export const ConnectionPickEntries = {
  connectionId: v.optional(v.pipe(v.string(), v.maxLength(64, "Invalid id.")), ""),
  connectionName: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(50, "A connection name has at most 50 characters.")), ""),
};

type ConnectionPickInput = { connectionId: string; connectionName: string };

export const NO_CONNECTION_PICKED = "Choose the connection that delivers.";

/** The pick as the domain takes it (a typed name wins over the list's choice), or null when neither is given. */
export function connectionPick(value: ConnectionPickInput) {
  if (value.connectionName) return { name: value.connectionName };
  return value.connectionId ? { id: value.connectionId } : null;
}
