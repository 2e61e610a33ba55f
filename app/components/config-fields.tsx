import type { FieldMetadata } from "@conform-to/react";
import type { ReactNode } from "react";
import { ErrorList, Field } from "~/components/forms";
import { RelativeTime } from "~/components/time";
import type { PickerView } from "~/lib/providers/config-form";
import type { Choice, ConfigField } from "~/lib/providers/types";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = FieldMetadata<any, any, string[]>;

const SPARE_ROWS = 2;

export interface PickerProps {
  /** How each field with a provider list is offered (absent: typed by hand). */
  views: Record<string, PickerView>;
  providerName: string;
  now: number;
  /** What the empty choice means: "No default" on a connection, "Inherit …" on an intent. */
  emptyLabel: string;
}

/**
 * A provider's config fields, described by its module: a connection's defaults or an intent's
 * overrides. Fields the provider can list are selects of its own choices (decision 023); the
 * buttons that search a list, show a parent's dependent choices or switch to typing submit the
 * form with GET, so all of it works without JavaScript. Key/value rows always offer a few empty
 * rows, so more can be added without JavaScript (save to get more).
 */
export function ConfigFields({
  fieldset,
  fields,
  hints = {},
  pickers,
}: {
  fieldset: Record<string, AnyField>;
  fields: ConfigField[];
  /** Extra text under a field (e.g. where an intent's effective value comes from). */
  hints?: Record<string, string>;
  pickers?: PickerProps;
}) {
  const labelOf = (name: string) => fields.find((field) => field.name === name)?.label.toLowerCase() ?? name;
  return (
    <>
      {pickers
        ? Object.entries(pickers.views)
            .filter(([, view]) => view.mode === "text" && view.reason === "typed")
            .map(([name]) => <input key={name} type="hidden" name="typed" value={name} />)
        : null}
      {fields.map((field) => {
        const meta = fieldset[field.name]!;
        const hint = [field.hint, hints[field.name]].filter(Boolean).join(" ");
        const view = pickers?.views[field.name];
        if (field.type === "mappings") {
          const properties = view?.mode === "select" ? view.options : null;
          return (
            <div key={field.name} className="picker">
              <MappingRows field={field} meta={meta} hint={hint} properties={properties} />
              {view?.mode === "text" && pickers ? <TextPickerNote view={view} pickers={pickers} field={field} labelOf={labelOf} /> : null}
            </div>
          );
        }
        if (view?.mode === "select" && pickers) {
          return <PickerSelect key={field.name} field={field} meta={meta} hint={hint} view={view} pickers={pickers} labelOf={labelOf} />;
        }
        const initial =
          typeof meta.initialValue === "string" ? meta.initialValue : Array.isArray(meta.initialValue) ? meta.initialValue.join(", ") : "";
        return (
          <div key={field.name} className="picker">
            <Field label={field.label} hint={hint} errorId={meta.errorId} errors={meta.errors}>
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
            {view?.mode === "text" && pickers ? <TextPickerNote view={view} pickers={pickers} field={field} labelOf={labelOf} /> : null}
          </div>
        );
      })}
    </>
  );
}

/**
 * A settings form's config fields as one group: its legend, what it is for, the "Refresh from …"
 * button (a GET of the form) when any field is listed by the provider, then the fields.
 */
export function ConfigFieldset({
  legend,
  intro,
  fieldset,
  fields,
  hints,
  pickers,
}: {
  legend: string;
  intro: ReactNode;
  fieldset: Record<string, AnyField>;
  fields: ConfigField[];
  hints?: Record<string, string>;
  pickers: PickerProps;
}) {
  return (
    <fieldset className="stack config-fields">
      <legend className="field__label">{legend}</legend>
      <p className="muted small">
        {intro}{" "}
        {Object.keys(pickers.views).length ? (
          <button type="submit" formMethod="get" name="refresh" value="1" className="button button--link button--small">
            Refresh from {pickers.providerName}
          </button>
        ) : null}
      </p>
      <ConfigFields fieldset={fieldset} fields={fields} hints={hints} pickers={pickers} />
    </fieldset>
  );
}

function optionText(choice: Choice) {
  return choice.note ? `${choice.label} — ${choice.note}` : choice.label;
}

function PickerSelect({
  field,
  meta,
  hint,
  view,
  pickers,
  labelOf,
}: {
  field: ConfigField;
  meta: AnyField;
  hint: string;
  view: Extract<PickerView, { mode: "select" }>;
  pickers: PickerProps;
  labelOf: (name: string) => string;
}) {
  const multiple = field.type === "list";
  const raw: unknown = meta.initialValue;
  const current = (Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : [])
    .map((value) => String(value).trim())
    .filter(Boolean);
  const known = new Set(view.options.map((choice) => choice.value));
  const missing = current.filter((value) => !known.has(value));
  const thing = labelOf(field.name);
  const searchId = `${meta.id}-search`;
  return (
    <div className={meta.errors ? "field field--invalid picker" : "field picker"} id={`${meta.id}-picker`}>
      <label htmlFor={meta.id} className="field__label">
        {field.label}
      </label>
      <select
        id={meta.id}
        name={meta.name}
        multiple={multiple || undefined}
        size={multiple ? Math.min(8, Math.max(4, view.options.length + missing.length)) : undefined}
        defaultValue={multiple ? current : (current[0] ?? "")}
        aria-invalid={meta.errors ? true : undefined}
        aria-describedby={`${meta.id}-status${meta.errors ? ` ${meta.errorId}` : ""}`}
      >
        {multiple ? null : <option value="">{pickers.emptyLabel}</option>}
        {missing.map((value) => (
          <option key={`missing-${value}`} value={value}>
            {value} (not in {pickers.providerName}&apos;s list)
          </option>
        ))}
        {view.options.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {optionText(choice)}
          </option>
        ))}
      </select>
      {hint ? <p className="field__hint">{hint}</p> : null}
      <p className="field__hint" id={`${meta.id}-status`}>
        {listedText(view, pickers)}
        {multiple ? " Hold Ctrl (⌘ on a Mac) to choose several." : null}
      </p>
      <ErrorList id={meta.errorId} errors={meta.errors} />
      <div className="picker__actions">
        {view.searchable ? (
          <span className="picker__search">
            <label htmlFor={searchId} className="visually-hidden">
              Search {thing}
            </label>
            <input type="search" id={searchId} name={`find.${field.name}`} defaultValue={view.search} placeholder={`Search ${thing}`} />
            <button type="submit" formMethod="get" name="show" value={field.name} className="button button--secondary button--small">
              Search
            </button>
          </span>
        ) : null}
        {view.dependents.length ? (
          <button type="submit" formMethod="get" name="show" value={field.name} className="button button--secondary button--small">
            Show {view.dependents.map(labelOf).join(" and ")} for this {thing}
          </button>
        ) : null}
        <button type="submit" formMethod="get" name="type" value={field.name} className="button button--link button--small">
          Type it instead
        </button>
      </div>
    </div>
  );
}

function listedText(view: Extract<PickerView, { mode: "select" }>, pickers: PickerProps) {
  const count = `${view.total.toLocaleString("en-US")}${view.truncated ? "+" : ""}`;
  const shown =
    view.search !== ""
      ? ` ${view.matching.toLocaleString("en-US")} match “${view.search}”${view.matching > view.options.length ? `; the first ${view.options.length} are shown` : ""}.`
      : view.total > view.options.length
        ? ` The first ${view.options.length} are shown: search to find the others.`
        : "";
  return (
    <>
      {count} listed by {pickers.providerName} <RelativeTime value={view.fetchedAt} now={pickers.now} />.{shown}
      {view.truncated ? " Not all are listed: type one by hand if it is missing." : null}
      {view.stale ? ` Not refreshed: ${view.stale}.` : null}
    </>
  );
}

function TextPickerNote({
  view,
  pickers,
  field,
  labelOf,
}: {
  view: Extract<PickerView, { mode: "text" }>;
  pickers: PickerProps;
  field: ConfigField;
  labelOf: (name: string) => string;
}) {
  const thing = labelOf(field.name);
  if (view.reason === "typed") {
    return (
      <div className="picker__actions">
        <button type="submit" formMethod="get" name="pick" value={field.name} className="button button--link button--small">
          Choose from {pickers.providerName}&apos;s list
        </button>
      </div>
    );
  }
  if (view.reason === "needs-parent") {
    return (
      <p className="field__hint">
        Choose a {labelOf(view.parentField ?? "")} above, then show its {thing} to pick from {pickers.providerName}&apos;s list.
      </p>
    );
  }
  return (
    <p className="field__hint">
      Could not list the {thing} from {pickers.providerName}: {view.message}. Type the value instead, or{" "}
      <button type="submit" formMethod="get" name="refresh" value="1" className="button button--link button--small">
        try again
      </button>
      .
    </p>
  );
}

function MappingRows({
  field,
  meta,
  hint,
  properties,
}: {
  field: ConfigField;
  meta: { name: string; id: string; errorId: string; errors?: string[]; initialValue?: unknown };
  hint: string;
  /** The database's properties, when the provider listed them: property names become a select. */
  properties: Choice[] | null;
}) {
  // Re-rendered from whatever was submitted: rows may be missing, sparse or of the wrong shape.
  const submitted: unknown[] = Array.isArray(meta.initialValue) ? Array.from(meta.initialValue as unknown[]) : [];
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const existing = submitted.map((row) => {
    const cells = row && typeof row === "object" ? (row as Record<string, unknown>) : {};
    return { key: text(cells.key), value: text(cells.value) };
  });
  const rows = [...existing, ...Array.from({ length: SPARE_ROWS }, () => ({ key: "", value: "" }))];
  const propertyOf = (key: string) => properties?.find((property) => property.value === key);
  return (
    <div id={meta.id} className={meta.errors ? "field field--invalid" : "field"}>
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
          {rows.map((row, index) => {
            const property = propertyOf(row.key);
            const listId = `${meta.id}-values-${index}`;
            return (
              <tr key={index}>
                <td>
                  {properties ? (
                    <select name={`${meta.name}[${index}].key`} defaultValue={row.key} aria-label={`Property ${index + 1}`}>
                      <option value="">—</option>
                      {row.key && !property ? <option value={row.key}>{row.key} (not in the database)</option> : null}
                      {properties.map((choice) => (
                        <option key={choice.value} value={choice.value}>
                          {choice.label} ({kindText(choice.kind)})
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input
                      type="text"
                      name={`${meta.name}[${index}].key`}
                      defaultValue={row.key}
                      aria-label={`Property ${index + 1}`}
                      autoComplete="off"
                    />
                  )}
                </td>
                <td>
                  <input
                    type="text"
                    name={`${meta.name}[${index}].value`}
                    defaultValue={row.value}
                    aria-label={`Value ${index + 1}`}
                    autoComplete="off"
                    list={property?.options?.length ? listId : undefined}
                  />
                  {property?.options?.length ? (
                    <datalist id={listId}>
                      {property.options.map((option) => (
                        <option key={option} value={option} />
                      ))}
                    </datalist>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {hint ? <p className="field__hint">{hint} Leave a row empty to remove it.</p> : null}
      {properties?.length ? (
        <details className="picker__properties">
          <summary>What each property takes</summary>
          <ul className="plain-list small">
            {properties.map((choice) => (
              <li key={choice.value}>
                <strong>{choice.label}</strong>: {valueHint(choice)}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <ErrorList id={meta.errorId} errors={meta.errors} />
    </div>
  );
}

function kindText(kind: string | undefined) {
  return (kind ?? "text").replaceAll("_", " ");
}

/** What a mapping's value must look like for a property of this kind. */
function valueHint(choice: Choice): string {
  const options = choice.options?.length ? choice.options.join(", ") : "";
  switch (choice.kind) {
    case "number":
      return "a number, like 3 or 2.5";
    case "date":
      return "an ISO 8601 date, like 2026-12-31 or 2026-12-31T09:00:00Z";
    case "checkbox":
      return "true or false";
    case "status":
      return options ? `one of ${options}` : "one of the database's statuses";
    case "select":
      return options ? `one of ${options}, or a new option (Notion creates it)` : "any option (Notion creates it)";
    case "multi_select":
      return options ? `options separated by commas: ${options}, or new ones` : "options separated by commas";
    case "url":
      return "a web address";
    case "email":
      return "an email address";
    case "phone_number":
      return "a phone number";
    case "people":
      return "people of the workspace by e-mail (or a name only one person has), separated by commas";
    default:
      return "any text";
  }
}
