import { useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";

export function ErrorList({ id, errors }: { id?: string; errors?: string[] | null }) {
  if (!errors?.length) return null;
  return (
    <ul id={id} className="field-errors" role="alert">
      {errors.map((error) => (
        <li key={error}>{error}</li>
      ))}
    </ul>
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
