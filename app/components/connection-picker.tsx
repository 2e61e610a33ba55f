import { getInputProps, getSelectProps, type FieldMetadata } from "@conform-to/react";
import { Field } from "./forms";

export interface ConnectionChoice {
  id: string;
  name: string;
  providerName: string;
  status: string;
}

/**
 * The connection an intent delivers through: a list of the first connections by name and, when
 * the workspace has more than the list shows, a field to type any connection's name.
 */
export function ConnectionPicker({
  id,
  name,
  choices,
  more,
  hint,
  placeholder,
}: {
  id: FieldMetadata<string>;
  name: FieldMetadata<string>;
  choices: ConnectionChoice[];
  more: boolean;
  hint: string;
  placeholder?: string;
}) {
  return (
    <>
      <Field label="Connection" hint={hint} errorId={id.errorId} errors={id.errors}>
        <select {...getSelectProps(id)}>
          {placeholder ? <option value="">{placeholder}</option> : null}
          {choices.map((choice) => (
            <option key={choice.id} value={choice.id}>
              {choice.name} ({choice.providerName}
              {choice.status === "active" ? "" : `, ${choice.status === "error" ? "in error" : choice.status}`})
            </option>
          ))}
        </select>
      </Field>
      {more ? (
        <Field
          label="Or type the connection's name"
          hint={`The list shows the first ${choices.length} connections by name; a name typed here wins over it.`}
          errorId={name.errorId}
          errors={name.errors}
        >
          <input {...getInputProps(name, { type: "text" })} autoComplete="off" placeholder="github-work" />
        </Field>
      ) : null}
    </>
  );
}
