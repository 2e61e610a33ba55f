import * as v from "valibot";

/**
 * Building blocks for providers' config schemas: every config field is optional (empty means
 * "no default"), validated the same way on the connection's defaults and an intent's overrides.
 */

/**
 * An optional single-line config value: empty means "no default". `pattern` and `message`
 * describe a valid value.
 */
export function optionalText(options: { max: number; pattern?: RegExp; message?: string }) {
  return v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.maxLength(options.max, `Use at most ${options.max} characters.`),
      v.check((value) => value === "" || !options.pattern || options.pattern.test(value), options.message ?? "Invalid value."),
      v.transform((value) => (value === "" ? undefined : value)),
    ),
  );
}

/** An optional comma-separated list (or the values of a multiple select), stored as an array. */
export function optionalList(options: { maxItems: number; maxLength: number; pattern?: RegExp; message?: string }) {
  return v.optional(
    v.pipe(
      v.union([v.string(), v.array(v.string())], "Use a comma-separated list."),
      v.transform((value) =>
        (Array.isArray(value) ? value.join(",") : value)
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean),
      ),
      v.maxLength(options.maxItems, `Use at most ${options.maxItems} values.`),
      v.check(
        (items) => items.every((item) => item.length <= options.maxLength),
        `Each value has at most ${options.maxLength} characters.`,
      ),
      v.check((items) => !options.pattern || items.every((item) => options.pattern!.test(item)), options.message ?? "Invalid value."),
      v.transform((items) => (items.length ? items : undefined)),
    ),
  );
}

/** Key/value rows from a form (`field[0].key`, `field[0].value`…), stored as an object. */
export function optionalMappings(options: { maxRows: number; keyLabel: string }) {
  return v.optional(
    v.pipe(
      v.array(v.object({ key: v.optional(v.string(), ""), value: v.optional(v.string(), "") })),
      v.transform((rows) => rows.map((row) => ({ key: row.key.trim(), value: row.value.trim() })).filter((row) => row.key || row.value)),
      v.maxLength(options.maxRows, `Use at most ${options.maxRows} rows.`),
      v.check((rows) => rows.every((row) => row.key !== ""), `Every row needs a ${options.keyLabel}.`),
      v.check(
        (rows) => rows.every((row) => row.key.length <= 100 && row.value.length <= 500),
        "Keys have at most 100 characters, values 500.",
      ),
      v.check((rows) => new Set(rows.map((row) => row.key)).size === rows.length, `Each ${options.keyLabel} may appear once.`),
      v.transform((rows) => (rows.length ? Object.fromEntries(rows.map((row) => [row.key, row.value])) : undefined)),
    ),
  );
}
