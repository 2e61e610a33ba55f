import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { getValibotConstraint } from "@conform-to/valibot";
import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import * as v from "valibot";
import { ErrorList, ErrorSummary, Field, SubmitButton } from "~/components/forms";
import { ProviderIcon } from "~/components/provider-icon";
import { requireWorkspaceMember } from "~/lib/accounts/guards.server";
import { startConnecting } from "~/lib/connections/authorization.server";
import { requireKeyRing, requireVault } from "~/lib/connections/guards.server";
import { providerChoices } from "~/lib/connections/views.server";
import { parseForm } from "~/lib/platform/forms";
import { forwardDataHeaders } from "~/lib/platform/headers";
import { readFormData } from "~/lib/platform/http.server";
import { ConnectionNameSchema } from "~/lib/platform/validation";
import { isProviderId } from "~/lib/providers/registry";

const NewConnectionSchema = v.object({
  provider: v.pipe(v.string("Choose a provider."), v.nonEmpty("Choose a provider.")),
  name: ConnectionNameSchema,
});

export const meta: MetaFunction = () => [{ title: "Connect an account · SpokeDo" }];
export const headers = forwardDataHeaders;

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireWorkspaceMember(context, request, { permission: "connections.connect" });
  await requireKeyRing(context);
  const url = new URL(request.url);
  return json({
    providers: providerChoices(context.settings),
    defaults: { provider: url.searchParams.get("provider") ?? "", name: url.searchParams.get("name") ?? "" },
  });
}

export async function action({ request, context }: ActionFunctionArgs) {
  const member = await requireWorkspaceMember(context, request, { permission: "connections.connect" });
  const deps = await requireVault(context);
  const submission = parseForm(await readFormData(request), NewConnectionSchema);
  if (submission.status !== "success") return json(submission.reply(), { status: 400 });
  const { provider, name } = submission.value;
  if (!isProviderId(provider)) return json(submission.reply({ fieldErrors: { provider: ["Choose a provider."] } }), { status: 400 });
  const actor = { workspaceId: member.workspace.id, userId: member.user.id, sessionId: member.sessionId };
  const started = await startConnecting(deps, actor, { provider, name });
  if (started.ok) return redirect(started.url, 303);
  switch (started.reason) {
    case "name_taken":
      return json(submission.reply({ fieldErrors: { name: [`This workspace already has a connection named ${name}.`] } }), { status: 400 });
    case "not_configured":
      return json(submission.reply({ fieldErrors: { provider: ["This provider is not configured on this server."] } }), { status: 400 });
    case "rate_limited": {
      const minutes = Math.ceil(started.retryAfterSeconds / 60);
      const message = `Too many authorizations started in the last 10 minutes. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
      return json(submission.reply({ formErrors: [message] }), {
        status: 429,
        headers: { "Retry-After": String(started.retryAfterSeconds) },
      });
    }
    case "provider_error":
      return json(submission.reply({ formErrors: [`Could not start the authorization. ${started.message}`] }), { status: 502 });
  }
}

export default function NewConnection() {
  const { providers, defaults } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm<v.InferInput<typeof NewConnectionSchema>>({
    id: "new-connection",
    lastResult,
    defaultValue: defaults,
    constraint: getValibotConstraint(NewConnectionSchema),
  });
  const chosen = fields.provider.value ?? fields.provider.initialValue;
  return (
    <section className="page page--medium">
      <p className="breadcrumbs">
        <a href="/integration-connections">Connections</a> / New
      </p>
      <h1>Connect an account</h1>
      <p className="lead">
        Choose where insights should go and give the connection a name intents can pick, like <code>github-personal</code> or{" "}
        <code>slack-eng-channel</code>. You will confirm access on the provider’s site and come straight back here.
      </p>
      <Form method="post" className="card stack" {...getFormProps(form)}>
        <ErrorList id={form.errorId} errors={form.errors} />
        <ErrorSummary formId={form.id} errors={form.allErrors} />
        <fieldset className="provider-picker" aria-describedby={fields.provider.errors ? fields.provider.errorId : undefined}>
          <legend className="field__label">Provider</legend>
          {providers.map((provider) => (
            <label key={provider.id} className={provider.configured ? "provider-option" : "provider-option provider-option--disabled"}>
              <input
                type="radio"
                name={fields.provider.name}
                value={provider.id}
                defaultChecked={chosen === provider.id}
                disabled={!provider.configured}
                required
              />
              <ProviderIcon src={provider.icon} />
              <span>
                <strong>{provider.name}</strong>
                <span className="muted">{provider.configured ? provider.summary : " Not configured on this server (see the README)."}</span>
              </span>
            </label>
          ))}
          <ErrorList id={fields.provider.errorId} errors={fields.provider.errors} />
        </fieldset>
        <Field
          label="Connection name"
          hint="Lowercase letters, digits and hyphens; unique in this workspace."
          errorId={fields.name.errorId}
          errors={fields.name.errors}
        >
          <input {...getInputProps(fields.name, { type: "text" })} placeholder="github-personal" autoComplete="off" />
        </Field>
        <SubmitButton pendingText="Redirecting to the provider…">Authorize</SubmitButton>
      </Form>
    </section>
  );
}
