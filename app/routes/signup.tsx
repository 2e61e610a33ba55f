import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import { requireAnonymous } from "~/lib/accounts/guards.server";
import { parseForm } from "~/lib/platform/forms";
import { readFormData } from "~/lib/platform/http.server";
import { signUp } from "~/lib/accounts/users.server";
import { EmailSchema, NewPasswordSchema, WorkspaceNameSchema } from "~/lib/platform/validation";

const SignUpSchema = v.object({
  email: EmailSchema,
  password: NewPasswordSchema,
  workspaceName: WorkspaceNameSchema,
});

export const meta: MetaFunction = () => [{ title: "Create your account · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAnonymous(context, request);
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const submission = parseForm(await readFormData(request), SignUpSchema);
  if (submission.status !== "success") {
    return json(submission.reply({ hideFields: ["password"] }), { status: 400 });
  }
  const result = await signUp(context, submission.value);
  if (!result.ok) {
    return json(
      submission.reply({
        fieldErrors: { email: ["An account with this e-mail address already exists. Sign in instead."] },
        hideFields: ["password"],
      }),
      { status: 400 },
    );
  }
  return redirect("/integration-connections", { headers: { "Set-Cookie": result.cookie } });
}

export default function SignUp() {
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm<v.InferInput<typeof SignUpSchema>>({
    id: "signup",
    lastResult,
    constraint: getValibotConstraint(SignUpSchema),
  });
  return (
    <section className="page page--narrow">
      <h1>Create your account</h1>
      <p className="lead">Your first workspace is created with it; you can invite teammates later.</p>
      <Form method="post" className="card stack" {...getFormProps(form)}>
        <ErrorList id={form.errorId} errors={form.errors} />
        <ErrorSummary formId={form.id} errors={form.allErrors} />
        <Field label="E-mail" errorId={fields.email.errorId} errors={fields.email.errors}>
          <input {...getInputProps(fields.email, { type: "email" })} autoComplete="email" />
        </Field>
        <Field label="Password" hint="At least 10 characters." errorId={fields.password.errorId} errors={fields.password.errors}>
          <input {...getInputProps(fields.password, { type: "password" })} autoComplete="new-password" />
        </Field>
        <Field
          label="Workspace name"
          hint="Usually your team or company, e.g. “Acme Engineering”."
          errorId={fields.workspaceName.errorId}
          errors={fields.workspaceName.errors}
        >
          <input {...getInputProps(fields.workspaceName, { type: "text" })} autoComplete="organization" />
        </Field>
        <SubmitButton pendingText="Creating your account…">Create account</SubmitButton>
        <p className="muted">
          Already have an account? <a href="/login">Sign in</a>
        </p>
      </Form>
    </section>
  );
}
