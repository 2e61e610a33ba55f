import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useSearchParams } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, Field, SubmitButton } from "~/components/forms";
import { requireAnonymous } from "~/lib/accounts/guards.server";
import { parseForm } from "~/lib/platform/forms";
import { readFormData } from "~/lib/platform/http.server";
import { forwardDataHeaders } from "~/lib/platform/headers";
import { safeRedirectPath } from "~/lib/platform/redirects";
import { signIn } from "~/lib/accounts/users.server";
import { EmailSchema, PasswordSchema } from "~/lib/platform/validation";

const SignInSchema = v.object({
  email: EmailSchema,
  password: PasswordSchema,
  redirectTo: v.optional(v.pipe(v.string(), v.maxLength(2000))),
});

export const headers = forwardDataHeaders;

export const meta: MetaFunction = () => [{ title: "Sign in · SpokeDo" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAnonymous(context, request);
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const submission = parseForm(await readFormData(request), SignInSchema);
  if (submission.status !== "success") {
    return json(submission.reply({ hideFields: ["password"] }), { status: 400 });
  }
  const result = await signIn(context, submission.value);
  if (result.ok) {
    return redirect(safeRedirectPath(submission.value.redirectTo), { headers: { "Set-Cookie": result.cookie } });
  }
  if (result.reason === "rate_limited") {
    const minutes = Math.ceil(result.retryAfterSeconds / 60);
    return json(
      submission.reply({
        formErrors: [`Too many failed sign-ins. Please wait ${minutes} minute${minutes === 1 ? "" : "s"} before trying again.`],
        hideFields: ["password"],
      }),
      { status: 429, headers: { "Retry-After": String(result.retryAfterSeconds) } },
    );
  }
  return json(submission.reply({ formErrors: ["Wrong e-mail or password."], hideFields: ["password"] }), {
    status: 400,
  });
}

export default function SignIn() {
  const lastResult = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const [form, fields] = useForm<v.InferInput<typeof SignInSchema>>({
    id: "login",
    lastResult,
    constraint: getValibotConstraint(SignInSchema),
  });
  return (
    <section className="page page--narrow">
      <h1>Sign in</h1>
      <Form method="post" className="card stack" {...getFormProps(form)}>
        <ErrorList id={form.errorId} errors={form.errors} />
        <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? ""} />
        <Field label="E-mail" errorId={fields.email.errorId} errors={fields.email.errors}>
          <input {...getInputProps(fields.email, { type: "email" })} autoComplete="email" />
        </Field>
        <Field label="Password" errorId={fields.password.errorId} errors={fields.password.errors}>
          <input {...getInputProps(fields.password, { type: "password" })} autoComplete="current-password" />
        </Field>
        <SubmitButton pendingText="Signing in…">Sign in</SubmitButton>
        <p className="muted">
          New to SpokeDo? <a href="/signup">Create an account</a>
        </p>
      </Form>
    </section>
  );
}
