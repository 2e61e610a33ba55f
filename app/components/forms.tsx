import { useNavigation } from "@remix-run/react";
import { useEffect, useRef, type ReactNode } from "react";

export function ErrorList({ id, errors }: { id?: string; errors?: string[] | null }) {
  if (!errors?.length) return null;
  // The alert is the list's container: a <ul> keeps its list role, so its items stay list items.
  return (
    <div id={id} className="field-errors" role="alert">
      <ul>
        {errors.map((error) => (
          <li key={error}>{error}</li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The GOV.UK error summary: at the top of a refused form, every problem as a link to its field,
 * focused when the page opens (the autofocus attribute works with JavaScript off; React focuses
 * it when it appears after a submission with JavaScript on).
 */
export function ErrorSummary({
  formId,
  errors,
  labels = {},
}: {
  formId: string;
  /** Conform's `form.allErrors`: field name → messages. */
  errors: Record<string, string[] | null | undefined> | undefined;
  /** Field names → what the summary calls them; the message alone otherwise. */
  labels?: Record<string, string>;
}) {
  const items = Object.entries(errors ?? {}).flatMap(([name, messages]) =>
    name === "" || name === formId ? [] : (messages ?? []).map((message) => ({ name, message })),
  );
  const summary = useRef<HTMLDivElement>(null);
  const shown = items.length > 0;
  // React applies autoFocus itself only to form controls: focus the summary when it appears.
  useEffect(() => {
    if (shown) summary.current?.focus();
  }, [shown, errors]);
  if (!shown) return null;
  return (
    <div ref={summary} className="error-summary" role="alert" tabIndex={-1} autoFocus aria-labelledby={`${formId}-error-summary`}>
      <h2 id={`${formId}-error-summary`}>There {items.length === 1 ? "is a problem" : `are ${items.length} problems`}</h2>
      <ul>
        {items.map(({ name, message }, index) => (
          <li key={`${name}-${index}`}>
            <a href={`#${formId}-${name}`}>{labels[name] ? `${labels[name]}: ${message}` : message}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Field({
  label,
  hint,
  errorId,
  errors,
  children,
}: {
  label: ReactNode;
  hint?: ReactNode;
  errorId: string;
  errors?: string[];
  children: ReactNode;
}) {
  return (
    <div className={errors?.length ? "field field--invalid" : "field"}>
      <label>
        <span className="field__label">{label}</span>
        {children}
      </label>
      {hint ? <p className="field__hint">{hint}</p> : null}
      <ErrorList id={errorId} errors={errors} />
    </div>
  );
}

/**
 * A submit button that shows a pending state while its own form is submitting (with JS on).
 * With several buttons in one form, `name`/`value` tell which one was pressed.
 */
export function SubmitButton({
  children,
  pendingText,
  name,
  value,
  variant = "primary",
  formAction,
  match,
}: {
  children: ReactNode;
  pendingText?: string;
  name?: string;
  value?: string;
  variant?: "primary" | "secondary" | "danger";
  formAction?: string;
  /** Show the pending state only when the submitted form has this field value. */
  match?: { name: string; value: string };
}) {
  const navigation = useNavigation();
  const pending =
    navigation.state === "submitting" &&
    (name === undefined || navigation.formData?.get(name) === value) &&
    (match === undefined || navigation.formData?.get(match.name) === match.value) &&
    (formAction === undefined || navigation.formAction === formAction);
  return (
    <button
      type="submit"
      name={name}
      value={value}
      formAction={formAction}
      className={`button button--${variant}`}
      disabled={pending}
      aria-busy={pending || undefined}
    >
      {pending && pendingText ? pendingText : children}
    </button>
  );
}
