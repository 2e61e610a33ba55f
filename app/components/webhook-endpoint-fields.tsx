import { getCollectionProps, getInputProps, type FieldMetadata } from "@conform-to/react";
import { ErrorList, Field } from "~/components/forms";
import { EVENT_DESCRIPTIONS, SUBSCRIBABLE_EVENTS } from "~/lib/webhooks/catalog";

/** What the new-endpoint and edit-endpoint forms hold. */
export type EndpointShape = { url: string; description: string; events: string[]; enabled: string };

/** The fields both endpoint forms share: URL, description, events (checkboxes) and enabled. */
export function EndpointFields({
  fields,
}: {
  fields: {
    url: FieldMetadata<string>;
    description: FieldMetadata<string>;
    events: FieldMetadata<string[]>;
    enabled: FieldMetadata<string>;
  };
}) {
  return (
    <>
      <Field
        label="URL"
        hint="Where SpokeDo POSTs each event, signed per Standard Webhooks. A public HTTPS URL; redirects are not followed."
        errorId={fields.url.errorId}
        errors={fields.url.errors}
      >
        <input {...getInputProps(fields.url, { type: "url" })} placeholder="https://example.com/webhooks/spokedo" autoComplete="off" />
      </Field>
      <Field label="Description (optional)" errorId={fields.description.errorId} errors={fields.description.errors}>
        <input {...getInputProps(fields.description, { type: "text" })} autoComplete="off" />
      </Field>
      <fieldset className="stack" aria-describedby={fields.events.errorId}>
        <legend className="field__label">Events</legend>
        {getCollectionProps(fields.events, { type: "checkbox", options: [...SUBSCRIBABLE_EVENTS] }).map((props) => (
          <label className="checkbox" key={props.key}>
            <input {...props} key={props.key} />
            <span>
              <code>{props.value}</code>{" "}
              <span className="muted small">{EVENT_DESCRIPTIONS[props.value as keyof typeof EVENT_DESCRIPTIONS]}</span>
            </span>
          </label>
        ))}
        <ErrorList id={fields.events.errorId} errors={fields.events.errors} />
      </fieldset>
      <label className="checkbox">
        <input {...getInputProps(fields.enabled, { type: "checkbox", value: "on" })} /> Enabled
      </label>
    </>
  );
}
