import type { FieldMetadata } from "@conform-to/react";
import { ErrorList, Field } from "~/components/forms";
import type { ConfigField } from "~/lib/providers/types";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = FieldMetadata<any, any, string[]>;

const SPARE_ROWS = 2;

/**
 * A provider's config fields, described by its module: a connection's defaults or an intent's
 * overrides. Key/value rows always offer a few empty rows, so more can be added without
 * JavaScript (save to get more).
 */
export function ConfigFields({
  fieldset,
  fields,
  hints = {},
}: {
  fieldset: Record<string, AnyField>;
  fields: ConfigField[];
  /** Extra text under a field (e.g. where an intent's effective value comes from). */
  hints?: Record<string, string>;
}) {
  return (
    <>
      {fields.map((field) => {
        const meta = fieldset[field.name]!;
        const hint = [field.hint, hints[field.name]].filter(Boolean).join(" ");
        if (field.type === "mappings") return <MappingRows key={field.name} field={field} meta={meta} hint={hint} />;
        const initial = typeof meta.initialValue === "string" ? meta.initialValue : "";
        return (
          <Field key={field.name} label={field.label} hint={hint} errorId={meta.errorId} errors={meta.errors}>
            <input
              type="text"
              id={meta.id}
              name={meta.name}
              defaultValue={initial}
              placeholder={field.placeholder}
              aria-invalid={meta.errors ? true : undefined}
              aria-describedby={meta.errors ? meta.errorId : undefined}
              autoComplete="off"
            />
          </Field>
        );
      })}
    </>
  );
}

function MappingRows({
  field,
  meta,
  hint,
}: {
  field: ConfigField;
  meta: { name: string; id: string; errorId: string; errors?: string[]; initialValue?: unknown };
  hint: string;
}) {
  // Re-rendered from whatever was submitted: rows may be missing, sparse or of the wrong shape.
  const submitted: unknown[] = Array.isArray(meta.initialValue) ? Array.from(meta.initialValue as unknown[]) : [];
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const existing = submitted.map((row) => {
    const cells = row && typeof row === "object" ? (row as Record<string, unknown>) : {};
    return { key: text(cells.key), value: text(cells.value) };
  });
  const rows = [...existing, ...Array.from({ length: SPARE_ROWS }, () => ({ key: "", value: "" }))];
  return (
    <div className={meta.errors ? "field field--invalid" : "field"}>
      <span className="field__label" id={`${meta.id}-label`}>
        {field.label}
      </span>
      <table className="mappings" aria-labelledby={`${meta.id}-label`}>
        <thead>
          <tr>
            <th scope="col">Property</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td>
                <input
                  type="text"
                  name={`${meta.name}[${index}].key`}
                  defaultValue={row.key}
                  aria-label={`Property ${index + 1}`}
                  autoComplete="off"
                />
              </td>
              <td>
                <input
                  type="text"
                  name={`${meta.name}[${index}].value`}
                  defaultValue={row.value}
                  aria-label={`Value ${index + 1}`}
                  autoComplete="off"
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {hint ? <p className="field__hint">{hint} Leave a row empty to remove it.</p> : null}
      <ErrorList id={meta.errorId} errors={meta.errors} />
    </div>
  );
}
