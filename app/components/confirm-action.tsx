import { Form } from "@remix-run/react";
import type { ReactNode } from "react";
import { SubmitButton } from "~/components/forms";

/**
 * The second step of a destructive action (decision 024): what it will do, the button that does
 * it (the same form again, confirmed) and the way out. Shown at the top of the page, so with
 * JavaScript off it is where the reloaded page opens.
 */
export function ConfirmAction({
  title,
  children,
  fields,
  button,
  cancelHref,
}: {
  title: string;
  children: ReactNode;
  /** The form's fields, sent again with confirmed=yes. */
  fields: Record<string, string>;
  button: string;
  cancelHref: string;
}) {
  return (
    <section className="card card--danger stack" aria-labelledby="confirm-title">
      <h2 id="confirm-title">{title}</h2>
      {children}
      <Form method="post" className="inline-form">
        {Object.entries(fields).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="confirmed" value="yes" />
        <SubmitButton variant="danger" match={{ name: "confirmed", value: "yes" }}>
          {button}
        </SubmitButton>
        <a href={cancelHref}>Cancel</a>
      </Form>
    </section>
  );
}
